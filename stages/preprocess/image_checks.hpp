// Checks on the arrays image stages receive, shared so every stage reports
// bad input in the same words.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

namespace fepflow::preprocess {

struct NonFiniteEntry {
  std::size_t item;    // index along axis 0 (the image or pattern)
  std::size_t offset;  // row-major offset inside that item
};

/// The first NaN or Inf of `items`, if any.
std::optional<NonFiniteEntry> find_non_finite(const xt::xarray<float>& items);

/// The `images` input of an image stage as N x H x W. Throws fepflow::Error
/// if it is not rank 3, has an empty axis, or holds NaN or Inf (naming the
/// image and pixel).
xt::xtensor<float, 3> checked_images(const xt::xarray<float>& images);

/// "400 x 64 x 64"
std::string shape_text(const xt::xarray<float>::shape_type& shape);

}  // namespace fepflow::preprocess
