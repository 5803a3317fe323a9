// The sobel_edges stage, against SciPy's ndimage.sobel and NumPy's percentile
// (tests/fixtures/reference_values.h5, group /sobel).
#include "data/reference.hpp"
#include "preprocess/downsample.hpp"
#include "preprocess/sobel_edges.hpp"

#include <fepflow/testing.hpp>

#include <catch2/catch.hpp>
#include <xtensor/xview.hpp>

using namespace fepflow;
using Catch::Matchers::Contains;
using fepflow::testing::run_stage;

namespace {

xt::xtensor<float, 3> first_five_faces(std::size_t size) {
  return preprocess::downsample_stride(
      xt::view(test::olivetti_images(), xt::range(0, 5), xt::all(), xt::all()), size);
}

/// Compares edge maps with the reference pixel by pixel. A pixel may differ
/// only where its magnitude ties with the threshold (within rounding): the
/// reference could then round either way. Returns the number of such ties.
std::size_t check_edge_maps(const xt::xtensor<float, 3>& images, double q, const std::string& dataset) {
  const auto expected = test::reference<double>(dataset);
  const auto maps = preprocess::sobel_edge_maps(images, q, true);
  REQUIRE(test::shape_of(maps.edges) == test::shape_of(expected));
  std::size_t ties = 0;
  for (std::size_t i = 0; i < images.shape()[0]; ++i) {
    const xt::xtensor<float, 2> image = xt::view(images, i, xt::all(), xt::all());
    const auto magnitude = preprocess::gradient_magnitude(preprocess::sobel_gradients(image));
    const double threshold = preprocess::percentile_linear({magnitude.begin(), magnitude.end()}, q);
    for (std::size_t r = 0; r < images.shape()[1]; ++r)
      for (std::size_t c = 0; c < images.shape()[2]; ++c) {
        if (maps.edges(i, r, c) == expected(i, r, c)) continue;
        const bool tie = std::abs(magnitude(r, c) - threshold) <= 1e-9 * threshold;
        INFO(dataset << ": image " << i << ", pixel (" << r << ", " << c << ") is " << maps.edges(i, r, c)
                     << ", reference " << expected(i, r, c) << "; magnitude " << magnitude(r, c)
                     << ", threshold " << threshold);
        CHECK(tie);  // any other mismatch is a real error
        ties += tie;
      }
  }
  if (ties > 0)
    WARN(dataset << ": " << ties << " pixel(s) differ from the reference only by a threshold tie");
  return ties;
}

}  // namespace

TEST_CASE("sobel: gradients of 32 x 32 image 0 match scipy.ndimage.sobel", "[preprocess][sobel]") {
  const xt::xtensor<float, 2> image = xt::view(first_five_faces(32), 0, xt::all(), xt::all());
  const auto gradients = preprocess::sobel_gradients(image);
  CHECK(test::max_abs_difference(gradients.gx, test::reference<float>("/sobel/size32_image0_gx")) <= 1e-5);
  CHECK(test::max_abs_difference(gradients.gy, test::reference<float>("/sobel/size32_image0_gy")) <= 1e-5);
}

TEST_CASE("sobel: mirror-reflect borders repeat the edge pixel", "[preprocess][sobel]") {
  // A horizontal ramp: gx is 2 * (sum of smoothing weights 4) = 8 inside, and
  // half that at the left and right borders, where the edge pixel repeats.
  const xt::xtensor<float, 2> ramp = {{0, 1, 2, 3}, {0, 1, 2, 3}, {0, 1, 2, 3}};
  const auto gradients = preprocess::sobel_gradients(ramp);
  CHECK((gradients.gx == xt::xtensor<float, 2>{{4, 8, 8, 4}, {4, 8, 8, 4}, {4, 8, 8, 4}}));
  CHECK((gradients.gy == xt::zeros<float>({3, 4})));
  // A vertical step between rows 0 and 1: rows 0 and 1 see it.
  const xt::xtensor<float, 2> step = {{0, 0}, {1, 1}, {1, 1}};
  CHECK((preprocess::sobel_gradients(step).gy == xt::xtensor<float, 2>{{4, 4}, {4, 4}, {0, 0}}));
}

TEST_CASE("sobel: percentile with linear interpolation as NumPy", "[preprocess][sobel]") {
  // numpy.percentile([1, 2, 3, 4], 75) = 3.25; numpy.percentile(range(10), 90) = 8.1
  CHECK(preprocess::percentile_linear({4, 1, 3, 2}, 75) == 3.25);
  CHECK(preprocess::percentile_linear({9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, 90) == Approx(8.1).epsilon(1e-15));
  CHECK(preprocess::percentile_linear({5, 1, 3}, 0) == 1);
  CHECK(preprocess::percentile_linear({5, 1, 3}, 100) == 5);
  CHECK(preprocess::percentile_linear({7}, 30) == 7);
}

TEST_CASE("sobel: edge maps with ties counted as edges, negated by default", "[preprocess][sobel]") {
  const xt::xtensor<double, 2> magnitude = {{0.5, 1.0}, {2.0, 0.1}};
  CHECK((preprocess::edge_map(magnitude, 1.0, false) == xt::xtensor<float, 2>{{-1, 1}, {1, -1}}));
  CHECK((preprocess::edge_map(magnitude, 1.0, true) == xt::xtensor<float, 2>{{1, -1}, {-1, 1}}));
}

TEST_CASE("sobel: edge maps match the reference at 32 and 64 pixels", "[preprocess][sobel]") {
  CHECK(check_edge_maps(first_five_faces(32), 75, "/sobel/size32_edges_p75_images_0_4") == 0);
  CHECK(check_edge_maps(first_five_faces(32), 90, "/sobel/size32_edges_p90_images_0_4") == 0);
  CHECK(check_edge_maps(first_five_faces(64), 75, "/sobel/size64_edges_p75_images_0_4") == 0);
}

TEST_CASE("sobel_edges stage: outputs and parameter errors", "[preprocess][sobel]") {
  const Value faces{xt::xarray<float>(first_five_faces(32))};
  const auto result = run_stage("sobel_edges", {}, {{"images", faces}});
  CHECK(test::max_abs_difference(result.array<float>("images"),
                                 test::reference<double>("/sobel/size32_edges_p75_images_0_4")) == 0.0);
  const auto& magnitude = result.array<float>("magnitude");
  REQUIRE(test::shape_of(magnitude) == std::vector<std::size_t>{5, 32, 32});
  const auto gradients = preprocess::sobel_gradients(xt::view(first_five_faces(32), 0, xt::all(), xt::all()));
  CHECK(magnitude(0, 3, 4) == static_cast<float>(std::sqrt(double(gradients.gx(3, 4)) * gradients.gx(3, 4) +
                                                           double(gradients.gy(3, 4)) * gradients.gy(3, 4))));

  const auto plain = run_stage("sobel_edges", {{"negate", false}, {"percentile", 90.0}}, {{"images", faces}});
  CHECK(test::max_abs_difference(plain.array<float>("images"),
                                 -test::reference<double>("/sobel/size32_edges_p90_images_0_4")) == 0.0);

  for (double q : {-1.0, 100.5}) {
    const auto f = test::failure_of([&] {
      run_stage("sobel_edges", {{"percentile", q}}, {{"images", faces}});
    });
    INFO("percentile " << q);
    CHECK(test::names_param(f, "percentile"));
    CHECK_THAT(f.message, Contains("[0, 100]"));
  }
  xt::xarray<float> bad = faces.array<float>();
  bad(2, 31, 0) = std::nanf("");
  const auto f = test::failure_of([&] { run_stage("sobel_edges", {}, {{"images", Value(bad)}}); });
  CHECK_THAT(f.message, Contains("image 2") && Contains("row 31, column 0"));
}
