// Row z-scoring: the numeric core of the `zscore` stage.
#pragma once

#include <xtensor/xtensor.hpp>

namespace fepflow::preprocess {

/// Added to every row's standard deviation, so a constant row maps to zeros
/// instead of dividing by zero (the notebook's value).
inline constexpr double zscore_epsilon = 1e-8;

/// Each row p becomes (p - mean(p)) / (std(p) + zscore_epsilon), with the
/// population standard deviation (ddof = 0).
xt::xtensor<double, 2> zscore_rows(const xt::xtensor<double, 2>& rows);

/// N x H x W images as N x (H * W) rows, each image flattened row-major,
/// widened to double so z-scoring does not round in float32.
xt::xtensor<double, 2> flatten_images(const xt::xtensor<float, 3>& images);

}  // namespace fepflow::preprocess
