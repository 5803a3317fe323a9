// Stage `hdf5_images`: a user's own images or patterns from any HDF5 dataset.
#include "preprocess/image_checks.hpp"

#include <fepflow/hash.hpp>
#include <fepflow/io.hpp>
#include <fepflow/registry.hpp>
#include <fepflow/stage.hpp>

#include <filesystem>

namespace fepflow::data {
namespace {

xt::xarray<float> as_float32(const Value& value) {
  switch (value.dtype()) {
    case DType::float32: return value.array<float>();
    case DType::float64: return xt::cast<float>(value.array<double>());
    case DType::int64: return xt::cast<float>(value.array<std::int64_t>());
    case DType::string: break;
  }
  return {};
}

class Hdf5Images : public Stage {
  Param<std::string> path{this, "path", required,
                          "HDF5 file to read; relative paths start at the working directory"};
  Param<std::string> dataset{this, "dataset", required, "dataset inside the file, e.g. /faces/images"};
  Output<float> images{this, "images", any_rank,
                       "the dataset as float32: N x H x W images (chain into downsample, "
                       "sobel_edges, zscore) or N x D patterns"};

  std::string fingerprint_extra() const override {
    // A missing file has nothing to hash; run() reports it.
    return std::filesystem::is_regular_file(*path) ? sha256_file(*path) : std::string();
  }

  void run(Context&) override {
    if (!std::filesystem::is_regular_file(*path))
      throw ParamError("path", "parameter 'path': file '" + *path +
                                   "' not found (relative to the working directory " +
                                   std::filesystem::current_path().string() + "); expected an HDF5 file");
    Value stored;
    try {
      stored = read_hdf5_dataset(*path, *dataset);
    } catch (const Error& e) {
      throw Error(std::string(e.what()) +
                  " (parameters 'path' and 'dataset'); expected a numeric dataset of an HDF5 file");
    }
    const std::string where = "parameter 'dataset': dataset '" + *dataset + "' of '" + *path + "'";
    if (stored.dtype() == DType::string || (stored.rank() != 2 && stored.rank() != 3))
      throw ParamError("dataset", where + " is " + stored.describe() +
                                      "; expected numeric N x H x W images or N x D patterns");
    auto values = as_float32(stored);
    if (const auto bad = preprocess::find_non_finite(values))
      throw ParamError("dataset", where + ": item " + std::to_string(bad->item) +
                                      " holds NaN or Inf (at offset " + std::to_string(bad->offset) +
                                      " in the item, as float32); expected finite values");
    images = std::move(values);
  }
};

FEPFLOW_REGISTER_STAGE(Hdf5Images, "hdf5_images", 1,
                       "Images or patterns from a dataset of any HDF5 file (bring your own data)")

}  // namespace
}  // namespace fepflow::data
