// Stage `olivetti`: the Olivetti faces from a MATLAB file, scaled to [0, 1].
#include "data/olivetti.hpp"

#include <fepflow/hash.hpp>
#include <fepflow/io.hpp>
#include <fepflow/registry.hpp>
#include <fepflow/stage.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <matio.h>
#include <memory>
#include <mutex>
#include <numeric>
#include <stdexcept>

namespace fepflow::data {
namespace {

constexpr std::size_t olivetti_pixels = olivetti_side * olivetti_side;

template <class T>
std::vector<float> as_float(const void* data, std::size_t n) {
  const auto* typed = static_cast<const T*>(data);
  return std::vector<float>(typed, typed + n);
}

/// The elements of a real numeric matio variable as float32, in storage order.
std::vector<float> numeric_data(const matvar_t& var, std::size_t n) {
  switch (var.data_type) {
    case MAT_T_DOUBLE: return as_float<double>(var.data, n);
    case MAT_T_SINGLE: return as_float<float>(var.data, n);
    case MAT_T_INT8: return as_float<std::int8_t>(var.data, n);
    case MAT_T_UINT8: return as_float<std::uint8_t>(var.data, n);
    case MAT_T_INT16: return as_float<std::int16_t>(var.data, n);
    case MAT_T_UINT16: return as_float<std::uint16_t>(var.data, n);
    case MAT_T_INT32: return as_float<std::int32_t>(var.data, n);
    case MAT_T_UINT32: return as_float<std::uint32_t>(var.data, n);
    case MAT_T_INT64: return as_float<std::int64_t>(var.data, n);
    case MAT_T_UINT64: return as_float<std::uint64_t>(var.data, n);
    default: return {};
  }
}

bool is_real_numeric(const matvar_t& var) {
  return var.class_type >= MAT_C_DOUBLE && var.class_type <= MAT_C_UINT64 && !var.isComplex;
}

/// "a 4096 x 10 double matrix", "a 1 x 3 cell array".
std::string describe(const matvar_t& var) {
  std::string dims;
  for (int axis = 0; axis < var.rank; ++axis) dims += (axis ? " x " : "") + std::to_string(var.dims[axis]);
  switch (var.class_type) {
    case MAT_C_CELL: return "a " + dims + " cell array";
    case MAT_C_STRUCT: return "a " + dims + " struct";
    case MAT_C_CHAR: return "a " + dims + " char array";
    case MAT_C_SPARSE: return "a " + dims + " sparse matrix";
    default: break;
  }
  if (!is_real_numeric(var)) return "a " + dims + (var.isComplex ? " complex matrix" : " non-numeric value");
  return "a " + dims + " numeric matrix";
}

}  // namespace

xt::xtensor<float, 3> load_olivetti_mat(const std::string& path) {
  const std::string file = "'" + path + "'";
  const std::string expected =
      "; expected variable 'faces', a real 4096 x 400 matrix (one 64 x 64 image per column)";
  const std::unique_ptr<mat_t, int (*)(mat_t*)> mat(Mat_Open(path.c_str(), MAT_ACC_RDONLY), &Mat_Close);
  if (!mat) throw std::runtime_error(file + " is not a MATLAB .mat file that matio can read" + expected);
  const std::unique_ptr<matvar_t, void (*)(matvar_t*)> faces(Mat_VarRead(mat.get(), "faces"), &Mat_VarFree);
  if (!faces) throw std::runtime_error(file + " has no variable 'faces'" + expected);

  const bool olivetti_shape =
      faces->rank == 2 && faces->dims[0] == olivetti_pixels && faces->dims[1] == olivetti_count;
  std::vector<float> values = is_real_numeric(*faces) && olivetti_shape
                                  ? numeric_data(*faces, olivetti_pixels * olivetti_count)
                                  : std::vector<float>();
  if (values.empty()) throw std::runtime_error(file + ": variable 'faces' is " + describe(*faces) + expected);

  // MATLAB stores columns contiguously, so the buffer is already the
  // 400 x 4096 transpose, one image per row.
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      throw std::runtime_error(file + ": variable 'faces' holds NaN or Inf in image " +
                               std::to_string(i / olivetti_pixels) + "; expected finite gray levels");
  const float lowest = *std::min_element(values.begin(), values.end());
  for (float& v : values) v -= lowest;
  const float highest = *std::max_element(values.begin(), values.end());
  if (highest == 0.0f) throw std::runtime_error(file + ": every value of 'faces' is equal" + expected);

  xt::xtensor<float, 3> images({olivetti_count, olivetti_side, olivetti_side});
  for (std::size_t k = 0; k < olivetti_count; ++k)
    for (std::size_t r = 0; r < olivetti_side; ++r)
      for (std::size_t c = 0; c < olivetti_side; ++c)
        images(k, r, c) = values[k * olivetti_pixels + c * olivetti_side + r] / highest;
  return images;
}

std::vector<std::size_t> subsample_indices(std::size_t count, std::size_t n_max, const RandomStream& rng) {
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (n_max == count) return order;
  for (std::size_t i = 0; i < n_max; ++i) std::swap(order[i], order[i + rng.below(count - i, i)]);
  order.resize(n_max);
  return order;
}

namespace {

class Olivetti : public Stage {
  Param<std::string> path{this, "path", "data/olivettifaces.mat",
                          "MATLAB v5 file with variable 'faces' (4096 x 400, one column-major 64 x 64 "
                          "image per column); relative paths start at the working directory"};
  Param<bool> verify_checksum{this, "verify_checksum", true,
                              "check the file's SHA-256 against the published data set's "
                              "(data/olivettifaces.mat.sha256); turn off for a user-supplied copy"};
  Param<std::int64_t> n_max{this, "n_max", static_cast<std::int64_t>(olivetti_count),
                            "number of images to keep: 400 keeps all in file order; fewer draws that "
                            "many distinct images uniformly at random from the stage's seeded stream, "
                            "in draw order",
                            between(1, static_cast<double>(olivetti_count))};
  Output<float> images{this, "images", 3,
                       "N x 64 x 64 float32 in [0, 1], upright; scaled by the global minimum and "
                       "maximum of all 400 images (as scikit-learn loads them)"};
  Output<std::int64_t> labels{this, "labels", 1, "person id (0-39) of each image: original index / 10"};

  std::string fingerprint_extra() const override {
    // A missing file has nothing to hash; run() reports it.
    return std::filesystem::is_regular_file(*path) ? sha256_file(*path) : std::string();
  }

  void run(Context& ctx) override {
    if (!std::filesystem::is_regular_file(*path))
      throw ParamError("path", "parameter 'path': file '" + *path +
                                   "' not found (relative to the working directory " +
                                   std::filesystem::current_path().string() +
                                   "); expected the Olivetti faces MATLAB file, e.g. data/olivettifaces.mat");
    if (*verify_checksum) {
      const std::string digest = sha256_file(*path);
      if (digest != olivetti_sha256)
        throw ParamError("path", "parameter 'path': file '" + *path + "' has SHA-256 " + digest +
                                     "; expected " + olivetti_sha256 +
                                     " (the published olivettifaces.mat). Set verify_checksum: false to "
                                     "load a different file");
    }
    xt::xtensor<float, 3> all;
    try {
      const std::lock_guard<std::mutex> lock(hdf5_mutex());
      all = load_olivetti_mat(*path);
    } catch (const std::runtime_error& e) {
      throw ParamError("path", std::string("parameter 'path': ") + e.what());
    }

    const auto chosen = subsample_indices(olivetti_count, static_cast<std::size_t>(*n_max), ctx.rng());
    xt::xtensor<float, 3> kept({chosen.size(), olivetti_side, olivetti_side});
    xt::xtensor<std::int64_t, 1> person = xt::empty<std::int64_t>({chosen.size()});
    for (std::size_t j = 0; j < chosen.size(); ++j) {
      std::copy_n(&all(chosen[j], 0, 0), olivetti_pixels, &kept(j, 0, 0));
      person(j) = static_cast<std::int64_t>(chosen[j] / olivetti_per_person);
    }
    images = std::move(kept);
    labels = std::move(person);
  }
};

FEPFLOW_REGISTER_STAGE(Olivetti, "olivetti", 1,
                       "The Olivetti faces (400 x 64 x 64, [0, 1]) from a MATLAB file")

}  // namespace
}  // namespace fepflow::data
