// The olivetti stage and its loader, against values scikit-learn computed
// (tests/fixtures/reference_values.h5, group /olivetti).
#include "data/olivetti.hpp"
#include "data/reference.hpp"
#include "support.hpp"

#include <fepflow/testing.hpp>

#include <catch2/catch.hpp>
#include <matio.h>
#include <set>
#include <xtensor/xview.hpp>

using namespace fepflow;
using Catch::Matchers::Contains;
using fepflow::testing::run_stage;

namespace {

/// Writes a MATLAB v5 file holding one variable.
void write_mat(const std::string& path, const char* name, matio_classes cls, matio_types type,
               std::vector<std::size_t> dims, void* data) {
  mat_t* mat = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  REQUIRE(mat != nullptr);
  matvar_t* var = Mat_VarCreate(name, cls, type, static_cast<int>(dims.size()), dims.data(), data, 0);
  REQUIRE(var != nullptr);
  REQUIRE(Mat_VarWrite(mat, var, MAT_COMPRESSION_NONE) == 0);
  Mat_VarFree(var);
  Mat_Close(mat);
}

/// A 4096 x 400 uint8 `faces` whose image k, pixel (r, c) is (k + 3r + 5c) % 200 + 10,
/// stored column-major with each image column-major, as olivettifaces.mat is.
std::vector<std::uint8_t> synthetic_faces() {
  std::vector<std::uint8_t> faces(4096 * 400);
  for (std::size_t k = 0; k < 400; ++k)
    for (std::size_t r = 0; r < 64; ++r)
      for (std::size_t c = 0; c < 64; ++c)
        faces[k * 4096 + c * 64 + r] = static_cast<std::uint8_t>((k + 3 * r + 5 * c) % 200 + 10);
  return faces;
}

std::map<std::string, ParamValue> path_param(const std::string& path, bool verify = true) {
  return {{"path", path}, {"verify_checksum", verify}};
}

}  // namespace

TEST_CASE("olivetti: images 0 and 1 match scikit-learn's loading", "[data][olivetti]") {
  const auto& images = test::olivetti_images();
  REQUIRE(test::shape_of(images) == std::vector<std::size_t>{400, 64, 64});
  const auto expected = test::reference<float>("/olivetti/images_0_1");
  const xt::xtensor<float, 3> first_two = xt::view(images, xt::range(0, 2), xt::all(), xt::all());
  CHECK(test::max_abs_difference(first_two, expected) <= 1e-6);
  // The values SPEC.md quotes for image 0, row 0.
  CHECK(images(0, 0, 0) == Approx(0.30991736).margin(1e-7));
  CHECK(images(0, 0, 3) == Approx(0.44214877).margin(1e-7));
  CHECK(images(1, 0, 1) == Approx(0.47107437).margin(1e-7));
}

TEST_CASE("olivetti: global min-max scaling spans exactly [0, 1]", "[data][olivetti]") {
  const auto& images = test::olivetti_images();
  CHECK(*std::min_element(images.begin(), images.end()) == 0.0f);
  CHECK(*std::max_element(images.begin(), images.end()) == 1.0f);
  double sum = 0.0;
  for (float v : images) sum += v;
  // SPEC.md: 0.54704247 summed in float64 (the fixture's attribute rounds it to 0.547042).
  CHECK(sum / static_cast<double>(images.size()) == Approx(0.54704247).margin(1e-8));
}

TEST_CASE("olivetti: the checksum constant is the vendored file's", "[data][olivetti]") {
  const std::string listed =
      test::read_file(std::string(FEPFLOW_SOURCE_DIR) + "/data/olivettifaces.mat.sha256");
  CHECK(listed.substr(0, listed.find(' ')) == data::olivetti_sha256);
}

TEST_CASE("olivetti stage: all 400 faces with person labels by default", "[data][olivetti]") {
  const auto result = run_stage("olivetti", {}, {});
  const auto& images = result.array<float>("images");
  REQUIRE(test::shape_of(images) == std::vector<std::size_t>{400, 64, 64});
  CHECK(test::max_abs_difference(images, test::olivetti_images()) == 0.0);
  const auto& labels = result.array<std::int64_t>("labels");
  const auto expected = test::reference<std::int64_t>("/olivetti/person_labels");
  CHECK(labels == expected);
}

TEST_CASE("olivetti: subsampling is reproducible per seed and draws distinct faces", "[data][olivetti]") {
  const RandomStream stream = RandomStream::for_stage(42, "faces");
  const auto drawn = data::subsample_indices(400, 50, stream);
  CHECK(drawn == data::subsample_indices(400, 50, stream));
  CHECK(drawn != data::subsample_indices(400, 50, RandomStream::for_stage(43, "faces")));
  CHECK(std::set<std::size_t>(drawn.begin(), drawn.end()).size() == 50);
  CHECK(*std::max_element(drawn.begin(), drawn.end()) < 400);
  // The first draws of a larger sample are the smaller sample (draws are keyed by number).
  const auto more = data::subsample_indices(400, 60, stream);
  CHECK(std::equal(drawn.begin(), drawn.end(), more.begin()));
  // n_max = 400 keeps file order (no subsampling, as SPEC.md says).
  const auto all = data::subsample_indices(400, 400, stream);
  CHECK(all.front() == 0);
  CHECK(all.back() == 399);
}

TEST_CASE("olivetti stage: n_max < 400 keeps matching images and labels", "[data][olivetti]") {
  fepflow::testing::StageRunOptions seed7;
  seed7.seed = 7;
  const auto a = run_stage("olivetti", {{"n_max", std::int64_t{12}}}, {}, seed7);
  const auto b = run_stage("olivetti", {{"n_max", std::int64_t{12}}}, {}, seed7);
  fepflow::testing::StageRunOptions seed8 = seed7;
  seed8.seed = 8;
  const auto c = run_stage("olivetti", {{"n_max", std::int64_t{12}}}, {}, seed8);
  const auto& images = a.array<float>("images");
  const auto& labels = a.array<std::int64_t>("labels");
  REQUIRE(test::shape_of(images) == std::vector<std::size_t>{12, 64, 64});
  CHECK((images == b.array<float>("images")));
  CHECK((labels == b.array<std::int64_t>("labels")));
  CHECK((images != c.array<float>("images")));

  // Each kept image is one of the 400 (a distinct one), labelled with its person.
  const auto& all = test::olivetti_images();
  std::set<std::size_t> sources;
  for (std::size_t j = 0; j < 12; ++j) {
    const xt::xtensor<float, 2> kept = xt::view(images, j, xt::all(), xt::all());
    std::size_t source = 400;
    for (std::size_t k = 0; k < 400 && source == 400; ++k)
      if (kept == xt::xtensor<float, 2>(xt::view(all, k, xt::all(), xt::all()))) source = k;
    REQUIRE(source < 400);
    CHECK(labels(j) == static_cast<std::int64_t>(source / 10));
    sources.insert(source);
  }
  CHECK(sources.size() == 12);
}

TEST_CASE("olivetti stage: a user's file loads once the checksum check is off", "[data][olivetti]") {
  test::ScratchDir dir;
  const std::string path = dir.path("own.mat");
  auto faces = synthetic_faces();
  write_mat(path, "faces", MAT_C_UINT8, MAT_T_UINT8, {4096, 400}, faces.data());

  const auto checked = test::failure_of([&] { run_stage("olivetti", path_param(path), {}); });
  CHECK(test::names_param(checked, "path"));
  CHECK_THAT(checked.message, Contains(path) && Contains("SHA-256") && Contains(data::olivetti_sha256) &&
                                  Contains("verify_checksum"));

  const auto result = run_stage("olivetti", path_param(path, false), {});
  const auto& images = result.array<float>("images");
  // Values 10..209 scale to (v - 10) / 199; pixel (r, c) of image k is (k + 3r + 5c) % 200 + 10.
  CHECK(images(0, 0, 0) == 0.0f);
  CHECK(images(0, 0, 1) == static_cast<float>(5) / 199.0f);  // column 1: + 5, proving the transpose
  CHECK(images(0, 1, 0) == static_cast<float>(3) / 199.0f);
  CHECK(images(2, 0, 0) == static_cast<float>(2) / 199.0f);
}

TEST_CASE("olivetti stage: bad files get one clear error naming the file", "[data][olivetti][errors]") {
  test::ScratchDir dir;

  SECTION("missing file") {
    const std::string path = dir.path("absent.mat");
    const auto f = test::failure_of([&] { run_stage("olivetti", path_param(path), {}); });
    CHECK(test::names_param(f, "path"));
    CHECK_THAT(f.message, Contains(path) && Contains("not found") && Contains("olivettifaces.mat"));
  }
  SECTION("not a MATLAB file") {
    const std::string path = dir.path("text.mat");
    test::write_file(path, "not a mat file\n");
    const auto f = test::failure_of([&] { run_stage("olivetti", path_param(path, false), {}); });
    CHECK(test::names_param(f, "path"));
    CHECK_THAT(f.message, Contains(path) && Contains("not a MATLAB .mat file"));
  }
  SECTION("no variable 'faces'") {
    const std::string path = dir.path("other.mat");
    double values[3] = {1, 2, 3};
    write_mat(path, "images", MAT_C_DOUBLE, MAT_T_DOUBLE, {1, 3}, values);
    const auto f = test::failure_of([&] { run_stage("olivetti", path_param(path, false), {}); });
    CHECK(test::names_param(f, "path"));
    CHECK_THAT(f.message, Contains(path) && Contains("no variable 'faces'") && Contains("4096 x 400"));
  }
  SECTION("wrong shape") {
    const std::string path = dir.path("short.mat");
    std::vector<double> values(4096 * 10, 1.0);
    write_mat(path, "faces", MAT_C_DOUBLE, MAT_T_DOUBLE, {4096, 10}, values.data());
    const auto f = test::failure_of([&] { run_stage("olivetti", path_param(path, false), {}); });
    CHECK(test::names_param(f, "path"));
    CHECK_THAT(f.message, Contains(path) && Contains("4096 x 10 numeric matrix") && Contains("expected"));
  }
  SECTION("wrong type") {
    const std::string path = dir.path("text_faces.mat");
    char text[] = "faces";
    write_mat(path, "faces", MAT_C_CHAR, MAT_T_UINT8, {1, 5}, text);
    const auto f = test::failure_of([&] { run_stage("olivetti", path_param(path, false), {}); });
    CHECK(test::names_param(f, "path"));
    CHECK_THAT(f.message, Contains(path) && Contains("char array") && Contains("real 4096 x 400 matrix"));
  }
  SECTION("NaN in the file") {
    const std::string path = dir.path("nan.mat");
    std::vector<double> values(4096 * 400, 100.0);
    values[4096 * 7 + 5] = std::nan("");
    write_mat(path, "faces", MAT_C_DOUBLE, MAT_T_DOUBLE, {4096, 400}, values.data());
    const auto f = test::failure_of([&] { run_stage("olivetti", path_param(path, false), {}); });
    CHECK(test::names_param(f, "path"));
    CHECK_THAT(f.message, Contains(path) && Contains("NaN or Inf in image 7"));
  }
}

TEST_CASE("olivetti stage: n_max outside [1, 400] is rejected", "[data][olivetti][errors]") {
  for (std::int64_t n : {std::int64_t{0}, std::int64_t{401}}) {
    const auto f = test::failure_of([&] { run_stage("olivetti", {{"n_max", n}}, {}); });
    INFO("n_max = " << n);
    CHECK(test::names_param(f, "n_max"));
    CHECK_THAT(f.message, Contains("[1, 400]"));
  }
}
