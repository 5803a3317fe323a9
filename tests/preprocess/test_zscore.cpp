// The zscore stage, against NumPy's row z-scores (tests/fixtures/reference_values.h5,
// group /zscore) of the grayscale faces and of their 32 x 32 edge maps.
#include "data/reference.hpp"
#include "preprocess/downsample.hpp"
#include "preprocess/sobel_edges.hpp"
#include "preprocess/zscore.hpp"

#include <fepflow/testing.hpp>

#include <catch2/catch.hpp>
#include <xtensor/xview.hpp>

using namespace fepflow;
using Catch::Matchers::Contains;
using fepflow::testing::run_stage;

TEST_CASE("zscore: grayscale faces match NumPy", "[preprocess][zscore]") {
  const auto patterns = preprocess::zscore_rows(preprocess::flatten_images(test::first_five_faces()));
  CHECK(test::max_abs_difference(patterns, test::reference<double>("/zscore/size64_gray_images_0_4")) <=
        1e-5);
}

TEST_CASE("zscore: 32 x 32 p75 edge maps match NumPy", "[preprocess][zscore]") {
  const auto edges =
      preprocess::sobel_edge_maps(preprocess::downsample_stride(test::first_five_faces(), 32), 75.0, true);
  const auto patterns = preprocess::zscore_rows(preprocess::flatten_images(edges.edges));
  CHECK(test::max_abs_difference(patterns, test::reference<double>("/zscore/size32_edges_p75_images_0_4")) <=
        1e-5);
}

TEST_CASE("zscore: population std, and constant rows become zeros", "[preprocess][zscore]") {
  const xt::xtensor<double, 2> rows = {{1, 2, 3, 4}, {5, 5, 5, 5}};
  const auto z = preprocess::zscore_rows(rows);
  // mean 2.5, population std sqrt(1.25)
  CHECK(z(0, 0) == Approx(-1.5 / (std::sqrt(1.25) + 1e-8)).epsilon(1e-15));
  CHECK(z(0, 3) == Approx(1.5 / (std::sqrt(1.25) + 1e-8)).epsilon(1e-15));
  CHECK(z(1, 0) == 0.0);
}

TEST_CASE("zscore stage: flattens row-major and checks its input", "[preprocess][zscore]") {
  const Value faces{xt::xarray<float>(test::first_five_faces())};
  const auto result = run_stage("zscore", {}, {{"images", faces}});
  const auto& patterns = result.array<float>("patterns");
  CHECK(test::max_abs_difference(patterns, test::reference<double>("/zscore/size64_gray_images_0_4")) <=
        1e-5);

  xt::xarray<float> bad = test::first_five_faces();
  bad(4, 0, 63) = std::nanf("");
  const auto f = test::failure_of([&] { run_stage("zscore", {}, {{"images", Value(bad)}}); });
  CHECK_THAT(f.message, Contains("image 4") && Contains("row 0, column 63"));
}
