// Binary Sobel edge maps: the numeric core of the `sobel_edges` stage.
#pragma once

#include <vector>
#include <xtensor/xtensor.hpp>

namespace fepflow::preprocess {

struct SobelGradients {
  xt::xtensor<float, 2> gx;  // derivative along columns (axis 1)
  xt::xtensor<float, 2> gy;  // derivative along rows (axis 0)
};

/// The separable 3x3 Sobel operator (derivative [-1, 0, 1] along the axis,
/// smoothing [1, 2, 1] across it) with mirror-reflect borders: the edge pixel
/// is repeated (d c b a | a b c d | d c b a).
SobelGradients sobel_gradients(const xt::xtensor<float, 2>& image);

/// sqrt(gx^2 + gy^2), in double.
xt::xtensor<double, 2> gradient_magnitude(const SobelGradients& gradients);

/// The q-th percentile (q in [0, 100]) of `values` with linear interpolation
/// between the order statistics around index q / 100 * (n - 1), as NumPy's
/// default method. Precondition: values is not empty.
double percentile_linear(std::vector<double> values, double q);

/// +1 where magnitude >= threshold, else -1; the other way round if `negate`.
xt::xtensor<float, 2> edge_map(const xt::xtensor<double, 2>& magnitude, double threshold, bool negate);

struct EdgeMaps {
  xt::xtensor<float, 3> edges;      // +-1 per pixel
  xt::xtensor<float, 3> magnitude;  // Sobel gradient magnitude
};

/// Per image: Sobel magnitude, its q-th percentile as threshold, edge map.
EdgeMaps sobel_edge_maps(const xt::xtensor<float, 3>& images, double q, bool negate);

}  // namespace fepflow::preprocess
