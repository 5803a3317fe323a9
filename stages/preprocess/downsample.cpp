// Stage `downsample`: N x H x W images -> N x size x size.
#include "preprocess/downsample.hpp"

#include "preprocess/image_checks.hpp"

#include <fepflow/registry.hpp>
#include <fepflow/stage.hpp>

#include <numeric>

namespace fepflow::preprocess {

xt::xtensor<float, 3> downsample_stride(const xt::xtensor<float, 3>& images, std::size_t size) {
  const std::size_t row_step = images.shape()[1] / size;
  const std::size_t col_step = images.shape()[2] / size;
  xt::xtensor<float, 3> out({images.shape()[0], size, size});
  for (std::size_t i = 0; i < out.shape()[0]; ++i)
    for (std::size_t r = 0; r < size; ++r)
      for (std::size_t c = 0; c < size; ++c) out(i, r, c) = images(i, r * row_step, c * col_step);
  return out;
}

xt::xtensor<float, 3> downsample_mean(const xt::xtensor<float, 3>& images, std::size_t size) {
  const std::size_t row_step = images.shape()[1] / size;
  const std::size_t col_step = images.shape()[2] / size;
  const double block_pixels = static_cast<double>(row_step * col_step);
  xt::xtensor<float, 3> out({images.shape()[0], size, size});
  for (std::size_t i = 0; i < out.shape()[0]; ++i)
    for (std::size_t r = 0; r < size; ++r)
      for (std::size_t c = 0; c < size; ++c) {
        double sum = 0.0;
        for (std::size_t dr = 0; dr < row_step; ++dr)
          for (std::size_t dc = 0; dc < col_step; ++dc)
            sum += images(i, r * row_step + dr, c * col_step + dc);
        out(i, r, c) = static_cast<float>(sum / block_pixels);
      }
  return out;
}

namespace {

std::string common_divisors(std::size_t height, std::size_t width) {
  const std::size_t g = std::gcd(height, width);
  std::string list;
  for (std::size_t d = 1; d <= g; ++d)
    if (g % d == 0) list += (list.empty() ? "" : ", ") + std::to_string(d);
  return list;
}

class Downsample : public Stage {
  Input<float> images_in{this, "images", 3, "N x H x W images"};
  Output<float> images_out{this, "images", 3, "N x size x size images"};
  Param<std::int64_t> size{this, "size", required,
                           "side of the output images; must divide the input's height and width "
                           "(64 for Olivetti: 1, 2, 4, 8, 16, 32 or 64)",
                           positive()};
  Param<std::string> method{this, "method", "stride",
                            "stride: keep every (H / size)-th row and column starting at 0, as the "
                            "notebook (images[:, ::step, ::step]); mean: average each block (an "
                            "extension, not in the notebook)",
                            one_of({"stride", "mean"})};

  void run(Context&) override {
    const auto input = checked_images(*images_in);
    const std::size_t height = input.shape()[1];
    const std::size_t width = input.shape()[2];
    const auto side = static_cast<std::size_t>(*size);
    if (height % side != 0 || width % side != 0)
      throw ParamError("size", "parameter 'size': " + std::to_string(side) +
                                   " does not divide the input images' " + std::to_string(height) + " x " +
                                   std::to_string(width) + "; expected one of " +
                                   common_divisors(height, width));
    images_out = *method == "mean" ? downsample_mean(input, side) : downsample_stride(input, side);
  }
};

FEPFLOW_REGISTER_STAGE(Downsample, "downsample", 1, "Shrinks images to size x size by stride sampling")

}  // namespace
}  // namespace fepflow::preprocess
