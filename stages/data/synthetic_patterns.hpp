// Random patterns for the scaling and capacity experiments: the numeric core
// of the `synthetic_patterns` stage.
#pragma once

#include <fepflow/random.hpp>

#include <cstddef>
#include <xtensor/xtensor.hpp>

namespace fepflow::data {

/// n_patterns x n_nodes standard normal entries, each row then z-scored
/// (population std, + 1e-8). Entry (p, i) is normal number p * n_nodes + i
/// of `rng`.
xt::xtensor<float, 2> gaussian_patterns(std::size_t n_patterns, std::size_t n_nodes, const RandomStream& rng);

/// n_patterns x n_nodes entries in {-1, 0, +1}: nonzero with probability
/// `sparsity`, then +1 or -1 with equal probability. Entry (p, i) uses
/// uniform number p * n_nodes + i of `rng`.
xt::xtensor<float, 2> sparse_ternary_patterns(std::size_t n_patterns, std::size_t n_nodes, double sparsity,
                                              const RandomStream& rng);

}  // namespace fepflow::data
