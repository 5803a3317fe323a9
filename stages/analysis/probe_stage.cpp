#include "analysis/probe_stage.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fepflow::analysis {

std::string shape_text(const xt::xarray<float>& a) {
  if (a.dimension() == 0) return "a scalar";
  std::string text;
  for (std::size_t axis = 0; axis < a.dimension(); ++axis) text += (axis ? " x " : "") + std::to_string(a.shape()[axis]);
  return text;
}

void check_finite(const xt::xarray<float>& a, const std::string& port) {
  const std::size_t columns = a.dimension() == 2 ? a.shape()[1] : 1;
  for (std::size_t k = 0; k < a.size(); ++k)
    if (!std::isfinite(a.data()[k]))
      throw Error("input '" + port + "' holds " + (std::isnan(a.data()[k]) ? "NaN" : "Inf") + " at row " +
                  std::to_string(k / columns) + ", column " + std::to_string(k % columns) +
                  "; expected finite values");
}

std::size_t check_weights(const xt::xarray<float>& weights, const std::string& port) {
  if (weights.dimension() != 2 || weights.shape()[0] != weights.shape()[1] || weights.size() == 0)
    throw Error("input '" + port + "' is " + shape_text(weights) + "; expected a square n x n coupling matrix, n >= 1");
  check_finite(weights, port);
  return weights.shape()[0];
}

std::size_t check_rows(const xt::xarray<float>& rows, const std::string& port, std::size_t nodes,
                       const std::string& what, bool allow_empty) {
  if (rows.dimension() != 2 || rows.shape()[1] != nodes)
    throw Error("input '" + port + "' is " + shape_text(rows) + "; expected " + what + " x " + std::to_string(nodes) +
                " (one row per item, one column per node of W)");
  if (rows.shape()[0] == 0 && !allow_empty)
    throw Error("input '" + port + "' has no rows; expected at least one of " + what);
  check_finite(rows, port);
  return rows.shape()[0];
}

xt::xarray<float> to_float_array(const std::vector<double>& values, const std::vector<std::size_t>& shape) {
  auto array = xt::xarray<float>::from_shape(shape);
  std::transform(values.begin(), values.end(), array.begin(), [](double v) { return static_cast<float>(v); });
  return array;
}

network::RelaxProblem chains_on(const xt::xarray<float>& W, const float* starts, std::size_t chains) {
  network::RelaxProblem problem;
  problem.weights = W.data();
  problem.nodes = W.shape(0);
  problem.starts = starts;
  problem.chains = chains;
  return problem;
}

network::RelaxResult relax_in_stage(Context& ctx, const network::RelaxProblem& problem,
                                    const network::RelaxSettings& settings, const std::optional<RandomStream>& noise,
                                    const std::string& label) {
  network::RelaxResult result;
  try {
    result = network::relax(problem, settings, noise, [&](double fraction, std::size_t running) {
      ctx.progress(fraction, std::to_string(running) + " chains running");
    });
  } catch (const std::invalid_argument& e) {
    throw Error(label + ": " + e.what());
  }
  return result;
}

void check_pick_count(std::size_t count, std::size_t available) {
  if (count > available)
    throw ParamError("count", "count is " + std::to_string(count) + " but input 'patterns' has only " +
                                  std::to_string(available) + " rows; expected count <= " + std::to_string(available));
}

}  // namespace fepflow::analysis
