// pipelines/gray64.yaml and pipelines/edges32.yaml through the fepflow CLI,
// their stored patterns against NumPy's (tests/fixtures/reference_values.h5).
#include "data/reference.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>
#include <xtensor/xview.hpp>

using namespace fepflow;
using Catch::Matchers::Contains;

namespace {

/// `fepflow ARGS` run from the project root, where the pipelines' relative
/// paths (data/olivettifaces.mat) point.
test::CommandResult fepflow_in_project(const std::string& args) {
  return test::run_shell("cd '" FEPFLOW_SOURCE_DIR "' && '" FEPFLOW_CLI "' " + args);
}

}  // namespace

TEST_CASE("pipelines: gray64 and edges32 run from the CLI and match the references", "[data][pipeline]") {
  test::ScratchDir dir;
  struct Case {
    std::string name, shape, reference;
  };
  for (const Case& c : {Case{"gray64", "float32[400, 4096]", "/zscore/size64_gray_images_0_4"},
                        Case{"edges32", "float32[400, 1024]", "/zscore/size32_edges_p75_images_0_4"}}) {
    const std::string out = dir.path(c.name + ".h5");
    const auto run = fepflow_in_project("run pipelines/" + c.name + ".yaml -o '" + out + "'");
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    const auto inspect = fepflow_in_project("inspect '" + out + "'");
    CHECK_THAT(inspect.output,
               Contains("/patterns") && Contains(c.shape) && Contains("float32[400, 64, 64]"));
    const auto patterns = read_hdf5_dataset(out, "/patterns/patterns").array<float>();
    const xt::xarray<float> first_five = xt::view(patterns, xt::range(0, 5), xt::all());
    CHECK(test::max_abs_difference(first_five, test::reference<double>(c.reference)) <= 1e-5);
  }
}

TEST_CASE("pipelines: a failing stage reports itself and leaves earlier results intact",
          "[data][pipeline][errors]") {
  test::ScratchDir dir;
  const std::string out = dir.path("edges32.h5");
  REQUIRE(fepflow_in_project("run pipelines/edges32.yaml -o '" + out + "'").exit_code == 0);
  const auto faces = read_hdf5_dataset(out, "/faces/images").array<float>();
  const auto small = read_hdf5_dataset(out, "/small/images").array<float>();

  const auto failed = fepflow_in_project("run pipelines/edges32.yaml --set small.size=24 -o '" + out + "'");
  CHECK(failed.exit_code == 1);
  CHECK_THAT(failed.output, Contains("stage 'small' (downsample)") && Contains("parameter 'size'") &&
                                Contains("1, 2, 4, 8, 16, 32, 64"));
  CHECK((read_hdf5_dataset(out, "/faces/images").array<float>() == faces));
  // Nothing of the failed run was written: the previous 32 x 32 images stay.
  CHECK((read_hdf5_dataset(out, "/small/images").array<float>() == small));
}
