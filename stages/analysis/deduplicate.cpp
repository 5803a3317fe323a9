// Stage `deduplicate`: unique states of a batch, greedily in input order.
#include "analysis/deduplicate.hpp"

#include "analysis/probe_stage.hpp"

#include <fepflow/registry.hpp>
#include <fepflow/stage.hpp>

#include <algorithm>
#include <cmath>

namespace fepflow::analysis {

namespace {

// Stops at the first node that differs by threshold or more: most pairs of
// distinct attractors differ early.
bool within(const float* a, const float* b, std::size_t nodes, double threshold) {
  for (std::size_t i = 0; i < nodes; ++i)
    if (!(std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i])) < threshold)) return false;
  return true;
}

}  // namespace

Deduplication deduplicate(const float* states, std::size_t count, std::size_t nodes, double threshold) {
  Deduplication result;
  result.assignment.reserve(count);
  for (std::size_t k = 0; k < count; ++k) {
    const float* state = states + k * nodes;
    std::size_t match = 0;
    while (match < result.kept.size() && !within(state, states + result.kept[match] * nodes, nodes, threshold)) ++match;
    if (match == result.kept.size()) {
      result.kept.push_back(k);
      result.counts.push_back(0);
    }
    ++result.counts[match];
    result.assignment.push_back(static_cast<std::int64_t>(match));
  }
  return result;
}

std::vector<float> kept_states(const Deduplication& found, const float* states, std::size_t nodes) {
  std::vector<float> rows(found.kept.size() * nodes);
  for (std::size_t u = 0; u < found.kept.size(); ++u)
    std::copy_n(states + found.kept[u] * nodes, nodes, rows.data() + u * nodes);
  return rows;
}

namespace {

class Deduplicate : public Stage {
  Input<float> states{this, "states", 2, "states to deduplicate, N x n (e.g. relax.states)"};
  Param<double> threshold{this, "threshold", 0.2,
                          "a state is new unless max|a - b| < threshold for a unique state kept before it",
                          positive()};
  Output<float> unique{this, "unique", 2, "the unique states, U x n, in the order first met"};
  Output<std::int64_t> counts{this, "counts", 1, "how many inputs fell into each unique state (U)"};
  Output<std::int64_t> assignment{this, "assignment", 1, "the unique state (row of `unique`) of each input (N)"};

  void run(Context& ctx) override {
    if (states->dimension() != 2)
      throw Error("input 'states' is " + shape_text(*states) + "; expected N x n states (rank 2)");
    const std::size_t nodes = states->shape()[1];
    const std::size_t count = check_rows(*states, "states", nodes, "N states", true);
    const auto found = deduplicate(states->data(), count, nodes, *threshold);

    unique = to_array(kept_states(found, states->data(), nodes), {found.kept.size(), nodes});
    counts = to_array(found.counts, {found.counts.size()});
    assignment = to_array(found.assignment, {count});
    ctx.metric("unique", static_cast<double>(found.kept.size()));
  }
};

FEPFLOW_REGISTER_STAGE(Deduplicate, "deduplicate", 1, "Keeps the unique states of a batch (greedy, in input order)")

}  // namespace
}  // namespace fepflow::analysis
