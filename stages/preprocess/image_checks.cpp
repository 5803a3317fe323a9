#include "preprocess/image_checks.hpp"

#include <fepflow/stage.hpp>

#include <cmath>

namespace fepflow::preprocess {

std::optional<NonFiniteEntry> find_non_finite(const xt::xarray<float>& items) {
  const std::size_t n = items.size();
  if (n == 0) return std::nullopt;
  const std::size_t item_size = n / items.shape()[0];
  const float* data = items.data();
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(data[i])) return NonFiniteEntry{i / item_size, i % item_size};
  return std::nullopt;
}

std::string shape_text(const xt::xarray<float>::shape_type& shape) {
  std::string text;
  for (std::size_t axis = 0; axis < shape.size(); ++axis)
    text += (axis ? " x " : "") + std::to_string(shape[axis]);
  return shape.empty() ? "a scalar" : text;
}

xt::xtensor<float, 3> checked_images(const xt::xarray<float>& images) {
  if (images.dimension() != 3)
    throw Error("input 'images' is " + shape_text(images.shape()) + "; expected N x H x W images (rank 3)");
  if (images.size() == 0)
    throw Error("input 'images' is " + shape_text(images.shape()) +
                "; expected at least one pixel per image");
  if (const auto bad = find_non_finite(images)) {
    const std::size_t width = images.shape()[2];
    throw Error("input 'images': image " + std::to_string(bad->item) + " holds NaN or Inf at row " +
                std::to_string(bad->offset / width) + ", column " + std::to_string(bad->offset % width) +
                "; expected finite values");
  }
  return images;
}

}  // namespace fepflow::preprocess
