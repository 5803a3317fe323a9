// Stage `zscore`: images -> z-scored patterns (one row per image).
#include "preprocess/zscore.hpp"

#include "preprocess/image_checks.hpp"

#include <fepflow/registry.hpp>
#include <fepflow/stage.hpp>

#include <cmath>

namespace fepflow::preprocess {

xt::xtensor<double, 2> zscore_rows(const xt::xtensor<double, 2>& rows) {
  const std::size_t n_rows = rows.shape()[0];
  const std::size_t n_cols = rows.shape()[1];
  xt::xtensor<double, 2> out(rows.shape());
  for (std::size_t r = 0; r < n_rows; ++r) {
    double sum = 0.0;
    for (std::size_t c = 0; c < n_cols; ++c) sum += rows(r, c);
    const double mean = sum / static_cast<double>(n_cols);
    // Two passes (mean, then squared deviations) so the variance does not
    // cancel catastrophically for rows with a large mean.
    double squares = 0.0;
    for (std::size_t c = 0; c < n_cols; ++c) squares += (rows(r, c) - mean) * (rows(r, c) - mean);
    const double spread = std::sqrt(squares / static_cast<double>(n_cols)) + zscore_epsilon;
    for (std::size_t c = 0; c < n_cols; ++c) out(r, c) = (rows(r, c) - mean) / spread;
  }
  return out;
}

xt::xtensor<double, 2> flatten_images(const xt::xtensor<float, 3>& images) {
  const std::size_t n = images.shape()[0];
  const std::size_t pixels = images.shape()[1] * images.shape()[2];
  xt::xtensor<double, 2> rows({n, pixels});
  std::copy(images.begin(), images.end(), rows.begin());
  return rows;
}

namespace {

class ZScore : public Stage {
  Input<float> images{this, "images", 3, "N x H x W images (grayscale or +-1 edge maps)"};
  Output<float> patterns{this, "patterns", 2,
                         "N x (H * W): each image flattened row-major, then (p - mean) / (std + 1e-8) "
                         "with the population std"};

  void run(Context&) override {
    const auto rows = zscore_rows(flatten_images(checked_images(*images)));
    patterns = xt::cast<float>(rows);
  }
};

FEPFLOW_REGISTER_STAGE(ZScore, "zscore", 1, "Flattens images to patterns and z-scores each row")

}  // namespace
}  // namespace fepflow::preprocess
