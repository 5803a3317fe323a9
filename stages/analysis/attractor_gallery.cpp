// Stage `attractor_gallery` (SPEC.md 4.2): a few random stored patterns next
// to the state a deterministic free run from each ends in.
#include "analysis/probe_math.hpp"
#include "analysis/probe_stage.hpp"

#include <fepflow/registry.hpp>
#include <fepflow/stage.hpp>

namespace fepflow::analysis {

namespace {

constexpr std::uint64_t selection_substream = 0;  // of the stage's random stream: which patterns

class AttractorGallery : public Stage {
  Input<float> weights{this, "W", 2, "coupling matrix, n x n (e.g. network.W)"};
  Input<float> patterns{this, "patterns", 2, "stored patterns, P x n (e.g. patterns.patterns)"};

  Param<std::int64_t> count{this, "count", 6,
                            "patterns shown, chosen at random without repetition (the stage's random stream)",
                            at_least(1)};
  Param<double> beta{this, "beta", 1.0, "precision of the free run (notebook: 1)", positive()};
  Param<std::int64_t> steps{this, "steps", 150, "deterministic steps from each pattern (notebook: 150)", at_least(1)};

  Output<std::int64_t> indices{this, "indices", 1, "row of `patterns` of each shown pattern (K)"};
  Output<float> pairs{this, "pairs", 3,
                      "2 x K x n: the shown patterns (row 0) over the final states of their runs (row 1), as "
                      "the notebook's figure"};
  Output<float> scores{this, "scores", 1, "Pearson r(final state, pattern) per shown pattern (K)"};

  void run(Context& ctx) override {
    const std::size_t n = check_weights(*weights, "W");
    const std::size_t available = check_rows(*patterns, "patterns", n, "P patterns");
    const auto k = static_cast<std::size_t>(*count);
    check_pick_count(k, available);
    const auto chosen = choose_distinct(available, k, ctx.rng().substream(selection_substream));
    std::vector<float> starts(k * n);
    for (std::size_t j = 0; j < k; ++j)
      std::copy_n(patterns->data() + static_cast<std::size_t>(chosen[j]) * n, n, starts.data() + j * n);

    const auto problem = chains_on(*weights, starts.data(), k);
    network::RelaxSettings settings;
    settings.beta = *beta;
    settings.steps = *steps;
    const auto result = relax_in_stage(ctx, problem, settings, std::nullopt, "attractor_gallery");

    const auto r = row_pearson(result.final_states.data(), starts.data(), k, n);
    std::vector<float> both(starts);
    both.insert(both.end(), result.final_states.begin(), result.final_states.end());
    indices = to_array(chosen, {k});
    pairs = to_array(both, {2, k, n});
    scores = to_float_array(r, {k});
    ctx.metric("mean_r", mean(r));
  }
};

FEPFLOW_REGISTER_STAGE(AttractorGallery, "attractor_gallery", 1,
                       "A few random stored patterns and the attractors their free runs end in")

}  // namespace
}  // namespace fepflow::analysis
