// The inference engine of SPEC.md section 3: many independent chains
// x <- f(beta_c (W x + u_c)), with f the CB mean (deterministic) or a CB
// sample (stochastic), advanced together. Every probe runs on it.
//
// Each step multiplies the whole batch of states by W at once (a blocked
// matrix-matrix product on a copy of W packed once per call, W's rows split
// over the calling TBB arena), applies the CB map to the batch, and drops
// chains that have stopped, so later steps cost less. A chain's results are
// the same bits whatever other chains share its batch, the batch size or the
// thread count, and its random numbers are keyed by (chain, step).
// Nothing here depends on the framework.
#pragma once

#include <fepflow/random.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace fepflow::network {

enum class RelaxMode {
  deterministic,  // x <- L(t), the mean of the CB unit
  stochastic,     // x <- a sample of the CB unit
};

/// How the external input u is given.
enum class InputLayout {
  none,       // u = 0
  shared,     // one row of n values for every chain
  per_chain,  // chains x n
};

/// The arrays of one relaxation, all row-major float32 (not copied: they
/// must outlive the call).
struct RelaxProblem {
  const float* weights = nullptr;  // W, nodes x nodes: h = W x
  std::size_t nodes = 0;
  const float* starts = nullptr;  // x0, chains x nodes
  std::size_t chains = 0;
  const float* inputs = nullptr;  // u, as `input_layout` says
  InputLayout input_layout = InputLayout::none;
  /// Precision of each chain (chains values); empty: every chain uses RelaxSettings::beta.
  std::vector<double> chain_betas;
};

struct RelaxSettings {
  double beta = 1.0;        // precision (inverse temperature), unless the problem gives chain_betas
  std::int64_t steps = 1;   // at most this many steps per chain
  RelaxMode mode = RelaxMode::deterministic;
  /// A chain stops once max_i |x_new_i - x_i| < tol (0: never by tolerance).
  /// Deterministic chains also stop once the state no longer changes at all
  /// (a fixed point stays fixed) or once it repeats, bit for bit, the state of
  /// two steps before (it alternates between two states from then on); their
  /// results are then filled in as if they had run on, so that changes no result.
  double tol = 0.0;
  /// The mean state averages the states after steps burn_in + 1 ... steps,
  /// with burn_in clamped into [0, steps - 1].
  std::int64_t burn_in = 0;
  bool keep_trajectory = false;
  /// Chains advanced together in one product; 0: all of them.
  std::size_t batch_size = 0;
};

/// A chain that stops early keeps its final state for the remaining steps (or,
/// in a 2-cycle, its last two states in turn): the final state, the mean and
/// the trajectory are those of running every step.
struct RelaxResult {
  std::vector<float> final_states;  // chains x nodes
  std::vector<float> mean_states;   // chains x nodes
  /// The step that stopped the chain by tol or at a fixed point; otherwise
  /// RelaxSettings::steps (a chain in a 2-cycle stands for all of them).
  std::vector<std::int64_t> steps_taken;
  std::vector<std::int64_t> converged;    // 1: stopped by tol or at a fixed point; 0: otherwise
  std::vector<std::int64_t> cycle_found;  // the step whose state repeated the one two steps before; 0: none
  std::vector<float> trajectory;          // steps x chains x nodes when kept: the state after each step
};

/// Called after every step with the fraction of the work done and the number
/// of chains still running in the current batch; it may throw to abort.
using RelaxObserver = std::function<void(double fraction, std::size_t running)>;

/// Runs the chains. Stochastic chains take the uniforms of chain c, step s
/// (1-based) and node i from noise.substream(c), numbers (s - 1) * nodes + i.
/// Throws std::invalid_argument if the problem or the settings are inconsistent.
RelaxResult relax(const RelaxProblem& problem, const RelaxSettings& settings,
                  const std::optional<RandomStream>& noise = std::nullopt, const RelaxObserver& observer = {});

/// The trajectory index at which the mean state starts: burn_in clamped into [0, steps - 1].
std::int64_t mean_start(std::int64_t steps, std::int64_t burn_in);

}  // namespace fepflow::network
