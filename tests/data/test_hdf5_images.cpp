// The hdf5_images stage: a user's own arrays from any HDF5 dataset.
#include "data/reference.hpp"
#include "support.hpp"

#include <fepflow/io.hpp>
#include <fepflow/testing.hpp>

#include <H5Cpp.h>
#include <catch2/catch.hpp>
#include <mutex>

using namespace fepflow;
using Catch::Matchers::Contains;
using fepflow::testing::run_stage;

namespace {

/// A file with /faces/images (2 x 3 x 4 float64, value = flat index / 10),
/// /patterns (2 x 5 int64), /vector (3 float32), /note (a string) and
/// /bad (2 x 2 x 2 float32 with a NaN in item 1).
void write_user_file(const std::string& path) {
  const std::lock_guard<std::mutex> lock(hdf5_mutex());
  H5::H5File file(path, H5F_ACC_TRUNC);
  file.createGroup("/faces");
  std::vector<double> images(24);
  for (std::size_t i = 0; i < images.size(); ++i) images[i] = static_cast<double>(i) / 10.0;
  const hsize_t image_dims[3] = {2, 3, 4};
  file.createDataSet("/faces/images", H5::PredType::NATIVE_DOUBLE, H5::DataSpace(3, image_dims))
      .write(images.data(), H5::PredType::NATIVE_DOUBLE);
  const std::int64_t patterns[10] = {1, -1, 0, 1, 1, -1, -1, 0, 0, 1};
  const hsize_t pattern_dims[2] = {2, 5};
  file.createDataSet("/patterns", H5::PredType::NATIVE_INT64, H5::DataSpace(2, pattern_dims))
      .write(patterns, H5::PredType::NATIVE_INT64);
  const float vector[3] = {1, 2, 3};
  const hsize_t vector_dims[1] = {3};
  file.createDataSet("/vector", H5::PredType::NATIVE_FLOAT, H5::DataSpace(1, vector_dims))
      .write(vector, H5::PredType::NATIVE_FLOAT);
  const H5::StrType text(H5::PredType::C_S1, H5T_VARIABLE);
  file.createDataSet("/note", text, H5::DataSpace(H5S_SCALAR)).write(std::string("hello"), text);
  const float bad[8] = {0, 1, 2, 3, 4, NAN, 6, 7};
  const hsize_t bad_dims[3] = {2, 2, 2};
  file.createDataSet("/bad", H5::PredType::NATIVE_FLOAT, H5::DataSpace(3, bad_dims))
      .write(bad, H5::PredType::NATIVE_FLOAT);
}

std::map<std::string, ParamValue> source(const std::string& path, const std::string& dataset) {
  return {{"path", path}, {"dataset", dataset}};
}

}  // namespace

TEST_CASE("hdf5_images: reads images and patterns of any numeric type as float32", "[data][hdf5_images]") {
  test::ScratchDir dir;
  const std::string path = dir.path("user.h5");
  write_user_file(path);

  const auto images = run_stage("hdf5_images", source(path, "/faces/images"), {}).array<float>("images");
  REQUIRE(test::shape_of(images) == std::vector<std::size_t>{2, 3, 4});
  CHECK(images(1, 2, 3) == 2.3f);
  CHECK(images(0, 1, 0) == 0.4f);

  const auto patterns = run_stage("hdf5_images", source(path, "patterns"), {}).array<float>("images");
  REQUIRE(test::shape_of(patterns) == std::vector<std::size_t>{2, 5});
  CHECK(patterns(1, 0) == -1.0f);
}

TEST_CASE("hdf5_images: chains into an image stage", "[data][hdf5_images]") {
  test::ScratchDir dir;
  const std::string path = dir.path("user.h5");
  write_user_file(path);
  const auto images = run_stage("hdf5_images", source(path, "/faces/images"), {}).output("images");
  const auto small = run_stage("downsample", {{"size", std::int64_t{1}}}, {{"images", images}});
  CHECK(test::shape_of(small.array<float>("images")) == std::vector<std::size_t>{2, 1, 1});
}

TEST_CASE("hdf5_images: bad files and datasets get one clear error", "[data][hdf5_images][errors]") {
  test::ScratchDir dir;
  const std::string path = dir.path("user.h5");
  write_user_file(path);

  SECTION("missing file") {
    const auto f = test::failure_of([&] { run_stage("hdf5_images", source(dir.path("none.h5"), "/x"), {}); });
    CHECK(test::names_param(f, "path"));
    CHECK_THAT(f.message, Contains(dir.path("none.h5")) && Contains("not found"));
  }
  SECTION("missing dataset") {
    const auto f = test::failure_of([&] { run_stage("hdf5_images", source(path, "/faces/nothing"), {}); });
    CHECK_THAT(f.message,
               Contains(path) && Contains("/faces/nothing") && Contains("parameters 'path' and 'dataset'"));
  }
  SECTION("not an HDF5 file") {
    const std::string text = dir.path("notes.txt");
    test::write_file(text, "plain text\n");
    const auto f = test::failure_of([&] { run_stage("hdf5_images", source(text, "/x"), {}); });
    CHECK_THAT(f.message,
               Contains(text) && Contains("not a readable HDF5 file") && Contains("parameters 'path'"));
  }
  SECTION("wrong rank") {
    const auto f = test::failure_of([&] { run_stage("hdf5_images", source(path, "/vector"), {}); });
    CHECK(test::names_param(f, "dataset"));
    CHECK_THAT(f.message, Contains(path) && Contains("/vector") && Contains("float32[3]") &&
                              Contains("expected numeric N x H x W images or N x D patterns"));
  }
  SECTION("a string") {
    const auto f = test::failure_of([&] { run_stage("hdf5_images", source(path, "/note"), {}); });
    CHECK(test::names_param(f, "dataset"));
    CHECK_THAT(f.message, Contains("/note") && Contains("string"));
  }
  SECTION("NaN") {
    const auto f = test::failure_of([&] { run_stage("hdf5_images", source(path, "/bad"), {}); });
    CHECK(test::names_param(f, "dataset"));
    CHECK_THAT(f.message, Contains("/bad") && Contains("item 1 holds NaN or Inf"));
  }
}
