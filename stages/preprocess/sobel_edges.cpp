// Stage `sobel_edges`: images -> +-1 edge maps from the Sobel gradient magnitude.
#include "preprocess/sobel_edges.hpp"

#include "preprocess/image_checks.hpp"

#include <fepflow/registry.hpp>
#include <fepflow/stage.hpp>

#include <algorithm>
#include <cmath>
#include <xtensor/xview.hpp>

namespace fepflow::preprocess {
namespace {

/// Index `i` (at most one step outside [0, n)) mirrored back inside, the edge
/// pixel repeated: -1 -> 0, n -> n - 1.
std::ptrdiff_t reflect(std::ptrdiff_t i, std::ptrdiff_t n) {
  if (i < 0) return -i - 1;
  if (i >= n) return 2 * n - i - 1;
  return i;
}

// Each pass sums in double and rounds to float32, in the order
// scipy.ndimage uses for float32 images, so that gradients (and hence the
// order of magnitudes the percentile threshold picks from) match it exactly.

/// out(r, c) = combine(prev, centre, next) of the neighbours along `axis`
/// (0: rows, 1: columns), in double, rounded to float32.
template <class Combine>
xt::xtensor<float, 2> neighbour_pass(const xt::xtensor<float, 2>& in, int axis, const Combine& combine) {
  const auto rows = static_cast<std::ptrdiff_t>(in.shape()[0]);
  const auto cols = static_cast<std::ptrdiff_t>(in.shape()[1]);
  xt::xtensor<float, 2> out(in.shape());
  for (std::ptrdiff_t r = 0; r < rows; ++r)
    for (std::ptrdiff_t c = 0; c < cols; ++c) {
      const double next = axis == 0 ? in(reflect(r + 1, rows), c) : in(r, reflect(c + 1, cols));
      const double prev = axis == 0 ? in(reflect(r - 1, rows), c) : in(r, reflect(c - 1, cols));
      out(r, c) = static_cast<float>(combine(prev, static_cast<double>(in(r, c)), next));
    }
  return out;
}

/// The central difference next - prev along `axis`.
xt::xtensor<float, 2> derivative_pass(const xt::xtensor<float, 2>& in, int axis) {
  return neighbour_pass(in, axis, [](double prev, double, double next) { return next - prev; });
}

/// The [1, 2, 1] smoothing along `axis`.
xt::xtensor<float, 2> smoothing_pass(const xt::xtensor<float, 2>& in, int axis) {
  return neighbour_pass(in, axis,
                        [](double prev, double centre, double next) { return 2.0 * centre + (next + prev); });
}

}  // namespace

SobelGradients sobel_gradients(const xt::xtensor<float, 2>& image) {
  return {smoothing_pass(derivative_pass(image, 1), 0), smoothing_pass(derivative_pass(image, 0), 1)};
}

xt::xtensor<double, 2> gradient_magnitude(const SobelGradients& gradients) {
  xt::xtensor<double, 2> magnitude(gradients.gx.shape());
  // Squares of float32 values are exact in double, so the sum rounds once
  // whether or not the compiler fuses it into an FMA.
  std::transform(gradients.gx.begin(), gradients.gx.end(), gradients.gy.begin(), magnitude.begin(),
                 [](double gx, double gy) { return std::sqrt(gx * gx + gy * gy); });
  return magnitude;
}

double percentile_linear(std::vector<double> values, double q) {
  const std::size_t last = values.size() - 1;
  const double position = static_cast<double>(last) * (q / 100.0);
  const auto below = static_cast<std::size_t>(std::floor(position));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(below), values.end());
  const double a = values[below];
  if (below >= last) return a;
  const double b = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(below) + 1, values.end());
  const double t = position - static_cast<double>(below);
  // NumPy's lerp: interpolate from the nearer end, so t = 1 gives exactly b.
  return t < 0.5 ? a + (b - a) * t : b - (b - a) * (1.0 - t);
}

xt::xtensor<float, 2> edge_map(const xt::xtensor<double, 2>& magnitude, double threshold, bool negate) {
  const float edge = negate ? -1.0f : 1.0f;
  xt::xtensor<float, 2> out(magnitude.shape());
  std::transform(magnitude.begin(), magnitude.end(), out.begin(),
                 [&](double m) { return m >= threshold ? edge : -edge; });
  return out;
}

EdgeMaps sobel_edge_maps(const xt::xtensor<float, 3>& images, double q, bool negate) {
  EdgeMaps maps{xt::xtensor<float, 3>(images.shape()), xt::xtensor<float, 3>(images.shape())};
  for (std::size_t i = 0; i < images.shape()[0]; ++i) {
    const xt::xtensor<float, 2> image = xt::view(images, i, xt::all(), xt::all());
    const auto magnitude = gradient_magnitude(sobel_gradients(image));
    const double threshold = percentile_linear(std::vector<double>(magnitude.begin(), magnitude.end()), q);
    xt::view(maps.edges, i, xt::all(), xt::all()) = edge_map(magnitude, threshold, negate);
    xt::view(maps.magnitude, i, xt::all(), xt::all()) = xt::cast<float>(magnitude);
  }
  return maps;
}

namespace {

class SobelEdges : public Stage {
  Input<float> images_in{this, "images", 3, "N x H x W grayscale images"};
  Output<float> images_out{this, "images", 3,
                           "N x H x W edge maps: +1 where the magnitude reaches the threshold, else -1 "
                           "(signs swapped when negate is true)"};
  Output<float> magnitude{this, "magnitude", 3, "N x H x W Sobel gradient magnitude sqrt(gx^2 + gy^2)"};
  Param<double> percentile{this, "percentile", 75.0,
                           "per-image threshold: this percentile of the magnitude, linear "
                           "interpolation (NumPy's default); 75 is what the notebook's load_faces "
                           "passes (its edge helper alone defaults to 90)",
                           between(0.0, 100.0)};
  Param<bool> negate{this, "negate", true,
                     "negate the map so edges are -1 and background +1, as the notebook's code "
                     "returns (-1 * out) although its docstring says edges are +1"};

  void run(Context&) override {
    auto maps = sobel_edge_maps(checked_images(*images_in), *percentile, *negate);
    images_out = std::move(maps.edges);
    magnitude = std::move(maps.magnitude);
  }
};

FEPFLOW_REGISTER_STAGE(SobelEdges, "sobel_edges", 1,
                       "Binary (+-1) Sobel edge maps, thresholded at a per-image percentile")

}  // namespace
}  // namespace fepflow::preprocess
