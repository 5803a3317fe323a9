// What the probe stages (and `relax`) share on the framework side: checks of
// their inputs, worded the same everywhere, and running the inference engine
// with progress, cancellation and the stage's thread limit.
#pragma once

#include "network/relax_kernels.hpp"

#include <fepflow/context.hpp>
#include <fepflow/stage.hpp>

#include <xtensor/xarray.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace fepflow::analysis {

/// "400 x 4096" (or "a scalar").
std::string shape_text(const xt::xarray<float>& a);

/// Throws fepflow::Error naming `port` and the first NaN or Inf's place.
void check_finite(const xt::xarray<float>& a, const std::string& port);

/// The node count n of a coupling matrix input. Throws fepflow::Error naming
/// `port` unless it is a non-empty n x n matrix of finite values.
std::size_t check_weights(const xt::xarray<float>& weights, const std::string& port);

/// The row count of an input that must be rows x `nodes` with finite values
/// (`what` says what a row is, e.g. "patterns"). Throws fepflow::Error naming
/// `port` otherwise; zero rows are an error unless `allow_empty`.
std::size_t check_rows(const xt::xarray<float>& rows, const std::string& port, std::size_t nodes,
                       const std::string& what, bool allow_empty = false);

/// Checks a `count` parameter that picks distinct rows of `patterns`;
/// throws ParamError("count") when it asks for more than there are.
void check_pick_count(std::size_t count, std::size_t available);

/// values (row-major) as an array of the given shape, for an output port.
template <class T>
xt::xarray<T> to_array(const std::vector<T>& values, const std::vector<std::size_t>& shape) {
  auto array = xt::xarray<T>::from_shape(shape);
  std::copy(values.begin(), values.end(), array.begin());
  return array;
}

/// Scores (computed in double) as float32 for an output port, the dtype
/// `render` takes for tile titles.
xt::xarray<float> to_float_array(const std::vector<double>& values, const std::vector<std::size_t>& shape);

/// `chains` start states (row-major, n each) relaxing on W (n x n): no
/// input, every chain at RelaxSettings::beta, until the caller says more.
network::RelaxProblem chains_on(const xt::xarray<float>& W, const float* starts, std::size_t chains);

/// Runs network::relax for a stage: progress goes to ctx after every step (so
/// Ctrl-C stops it), and the engine's std::invalid_argument becomes a
/// fepflow::Error prefixed with `label`.
network::RelaxResult relax_in_stage(Context& ctx, const network::RelaxProblem& problem,
                                    const network::RelaxSettings& settings, const std::optional<RandomStream>& noise,
                                    const std::string& label);

}  // namespace fepflow::analysis
