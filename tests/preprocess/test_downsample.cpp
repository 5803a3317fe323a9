// The downsample stage, against NumPy's images[:, ::step, ::step] of the
// scikit-learn faces (tests/fixtures/reference_values.h5, group /downsample).
#include "data/reference.hpp"
#include "preprocess/downsample.hpp"

#include <fepflow/testing.hpp>

#include <catch2/catch.hpp>
#include <xtensor/xview.hpp>

using namespace fepflow;
using Catch::Matchers::Contains;
using fepflow::testing::run_stage;

TEST_CASE("downsample: stride sampling matches NumPy exactly", "[preprocess][downsample]") {
  for (std::size_t size : {32, 16}) {
    INFO("size " << size);
    const auto expected = test::reference<float>("/downsample/size" + std::to_string(size) + "_images_0_4");
    CHECK(test::max_abs_difference(preprocess::downsample_stride(test::first_five_faces(), size), expected) == 0.0);
  }
  CHECK((preprocess::downsample_stride(test::first_five_faces(), 64) == test::first_five_faces()));
}

TEST_CASE("downsample: block means", "[preprocess][downsample]") {
  // A 2 x 4 image to 1 x 1 (row step 2, column step 4): the mean of all 8 pixels.
  const xt::xtensor<float, 3> image = {{{0, 1, 2, 3}, {4, 5, 6, 7}}};
  const auto non_square = preprocess::downsample_mean(image, 1);
  CHECK(non_square(0, 0, 0) == 3.5f);
  const xt::xtensor<float, 3> square = {{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}, {12, 13, 14, 15}}};
  const auto halved = preprocess::downsample_mean(square, 2);
  CHECK((halved == xt::xtensor<float, 3>{{{2.5f, 4.5f}, {10.5f, 12.5f}}}));
  CHECK((preprocess::downsample_stride(square, 2) == xt::xtensor<float, 3>{{{0, 2}, {8, 10}}}));
}

TEST_CASE("downsample stage: methods and errors", "[preprocess][downsample]") {
  const Value faces{xt::xarray<float>(test::first_five_faces())};
  const auto stride = run_stage("downsample", {{"size", std::int64_t{32}}}, {{"images", faces}});
  CHECK(test::max_abs_difference(stride.array<float>("images"),
                                 test::reference<float>("/downsample/size32_images_0_4")) == 0.0);
  const auto mean = run_stage("downsample", {{"size", std::int64_t{32}}, {"method", std::string("mean")}},
                              {{"images", faces}});
  CHECK(test::max_abs_difference(mean.array<float>("images"),
                                 preprocess::downsample_mean(test::first_five_faces(), 32)) == 0.0);

  SECTION("a size that does not divide") {
    const auto f = test::failure_of([&] {
      run_stage("downsample", {{"size", std::int64_t{24}}}, {{"images", faces}});
    });
    CHECK(test::names_param(f, "size"));
    CHECK_THAT(f.message, Contains("24") && Contains("64 x 64") && Contains("1, 2, 4, 8, 16, 32, 64"));
  }
  SECTION("a size larger than the images") {
    const auto f = test::failure_of([&] {
      run_stage("downsample", {{"size", std::int64_t{128}}}, {{"images", faces}});
    });
    CHECK(test::names_param(f, "size"));
  }
  SECTION("an unknown method") {
    const auto f = test::failure_of([&] {
      run_stage("downsample", {{"size", std::int64_t{32}}, {"method", std::string("median")}},
                {{"images", faces}});
    });
    CHECK_THAT(f.message, Contains("method") && Contains("stride"));
  }
  SECTION("NaN in the input") {
    xt::xarray<float> bad = test::first_five_faces();
    bad(3, 10, 20) = std::numeric_limits<float>::infinity();
    const auto f = test::failure_of([&] {
      run_stage("downsample", {{"size", std::int64_t{32}}}, {{"images", Value(bad)}});
    });
    CHECK_THAT(f.message, Contains("image 3") && Contains("row 10, column 20") && Contains("NaN or Inf"));
  }
  SECTION("not N x H x W") {
    const Value flat{xt::xarray<float>(xt::zeros<float>({5, 4096}))};
    const auto f = test::failure_of([&] {
      run_stage("downsample", {{"size", std::int64_t{32}}}, {{"images", flat}});
    });
    CHECK_THAT(f.message, Contains("images") && Contains("5 x 4096") && Contains("N x H x W"));
  }
}
