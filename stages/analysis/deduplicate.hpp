// Greedy deduplication of states (SPEC.md 4.3), shared by the `deduplicate`
// and `restarts` stages. Nothing here depends on the framework.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fepflow::analysis {

struct Deduplication {
  std::vector<std::size_t> kept;         // input index of each unique state, in input order
  std::vector<std::int64_t> counts;      // inputs that fell into each unique state
  std::vector<std::int64_t> assignment;  // the unique state of each input
};

/// Walks the states (count x nodes, row-major) in order: a state joins the
/// first kept state b with max_i |a_i - b_i| < threshold, else it is kept as
/// a new unique state.
Deduplication deduplicate(const float* states, std::size_t count, std::size_t nodes, double threshold);

/// The kept states' rows, U x nodes, row-major.
std::vector<float> kept_states(const Deduplication& found, const float* states, std::size_t nodes);

}  // namespace fepflow::analysis
