// Example plugin stage `threshold`: turns real-valued patterns into +-1
// patterns (value >= level -> +1, else -1), e.g. to train a network on
// binary versions of any data set. A plugin is one or more Stage classes and
// one FEPFLOW_PLUGIN block; it never touches YAML, HDF5 or threads.
#include <fepflow/fepflow.hpp>

#include <xtensor/xarray.hpp>
#include <xtensor/xoperation.hpp>

namespace {

class Threshold : public fepflow::Stage {
  fepflow::Input<float> patterns{this, "patterns", 2, "patterns to binarise (P x n)"};
  fepflow::Output<float> binary{this, "binary", 2, "+1 where a value is >= level, else -1 (P x n)"};
  fepflow::Param<double> level{this, "level", 0.0, "threshold between -1 and +1"};
  fepflow::Param<bool> invert{this, "invert", false, "swap the signs of the result"};

  void run(fepflow::Context& ctx) override {
    const float sign = *invert ? -1.0f : 1.0f;
    xt::xarray<float> out = xt::where(*patterns >= static_cast<float>(*level), sign, -sign);
    ctx.metric("fraction_positive", static_cast<double>(xt::mean(xt::equal(out, 1.0f))()));
    binary = std::move(out);
  }
};

}  // namespace

FEPFLOW_PLUGIN("example_threshold", "1.0") {
  registry.add<Threshold>("threshold", 1, "Binarises patterns to +-1 at a level (example plugin)");
}
