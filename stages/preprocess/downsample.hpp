// Image downsampling: the numeric core of the `downsample` stage.
#pragma once

#include <cstddef>
#include <xtensor/xtensor.hpp>

namespace fepflow::preprocess {

/// Keeps every (H / size)-th row and (W / size)-th column starting at 0
/// (NumPy's images[:, ::step, ::step]): size x size images, no averaging.
/// Precondition: size divides both H and W.
xt::xtensor<float, 3> downsample_stride(const xt::xtensor<float, 3>& images, std::size_t size);

/// Averages each (H / size) x (W / size) block (summed in double).
/// Precondition: size divides both H and W.
xt::xtensor<float, 3> downsample_mean(const xt::xtensor<float, 3>& images, std::size_t size);

}  // namespace fepflow::preprocess
