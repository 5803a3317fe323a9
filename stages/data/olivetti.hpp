// Loading the Olivetti faces: the numeric core of the `olivetti` stage.
#pragma once

#include <fepflow/random.hpp>

#include <cstddef>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

namespace fepflow::data {

inline constexpr std::size_t olivetti_count = 400;      // images in the data set
inline constexpr std::size_t olivetti_side = 64;        // each image is 64 x 64
inline constexpr std::size_t olivetti_per_person = 10;  // image k shows person k / 10
/// SHA-256 of the published olivettifaces.mat (also in data/olivettifaces.mat.sha256).
inline constexpr const char* olivetti_sha256 =
    "b1988d02c72fe5b8ee82b5ef3bb7982eafc74f1e1ff0ae0ade35061ad0af534d";

/// Reads variable `faces` (4096 x 400, any real numeric class, one image per
/// column) of a MATLAB v5 / v7.3 file with matio and returns 400 x 64 x 64
/// float32 images as scikit-learn loads them: transposed to 400 x 4096,
/// float32, minus the global minimum, divided by the new global maximum, each
/// row reshaped to 64 x 64 and transposed (the columns are column-major).
/// Throws std::runtime_error naming the file and what was expected.
/// matio reads v7.3 files through HDF5: callers serialise it with other HDF5 use.
xt::xtensor<float, 3> load_olivetti_mat(const std::string& path);

/// `n_max` distinct indices of [0, count), uniformly at random in draw order
/// (a partial Fisher-Yates shuffle keyed by draw number), or all of them in
/// order when n_max == count. Precondition: n_max <= count.
std::vector<std::size_t> subsample_indices(std::size_t count, std::size_t n_max, const RandomStream& rng);

}  // namespace fepflow::data
