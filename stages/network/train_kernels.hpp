// The training loop of SPEC.md section 3 on raw arrays, with three kernels
// for its hot part (the product h = W x and the rank-1 update of W each step).
//
// Randomness is keyed by epoch (pattern order) and by global step and node
// (samples), and every row's arithmetic is the same however rows are split
// across threads: results are bit-identical for any thread count, and for any
// way of cutting the epochs into calls of train_epochs (resuming from a saved
// TrainState included). Parallel loops use the calling TBB arena.
#pragma once

#include <fepflow/random.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fepflow::network {

struct TrainParams {
  double evidence_level = 1.0;  // input u = evidence_level * pattern
  double beta = 1.0;            // precision (inverse temperature)
  double lr = 1e-4;             // learning rate
  std::int64_t epochs = 1;      // one pattern presentation each
  std::int64_t steps = 1;       // sequential inference steps per epoch
  bool precision_weighted = false;
  bool zero_diagonal = true;
};

/// Throws std::invalid_argument naming the first parameter that is not
/// positive and finite.
void validate(const TrainParams& params);

enum class UpdateKernel {
  naive_blas,  // OpenBLAS sgemv, then sger, then re-zero the diagonal: touches W about 3 times a step
  fused,       // each block of rows applies the last update, then takes its share of the next
               // product: reads and writes W once a step
  deferred,    // W is held fixed for `deferral` steps (products corrected in O(n K)), then the
               // pending terms are applied as one rank-K update: reads W once a step
};

struct KernelOptions {
  UpdateKernel kernel = UpdateKernel::deferred;
  std::size_t deferral = 16;  // steps between rank-K updates (deferred kernel only)
};

/// Row-major patterns, `count` x `nodes`.
struct PatternSet {
  const float* values;
  std::size_t count;
  std::size_t nodes;
};

/// Everything needed to continue training at an epoch boundary.
struct TrainState {
  explicit TrainState(std::size_t nodes);

  std::size_t nodes;
  /// n x n, row-major: W with the updates applied so far.
  std::vector<float> weights;
  /// Updates not yet in `weights` (deferred kernel), oldest first, each n long:
  /// W gains pending_gains[k] (outer) pending_states[k], diagonal masked.
  std::vector<float> pending_gains;   // lr * pi * e of the step
  std::vector<float> pending_states;  // the sampled state x' of the step
  /// The first epoch not yet trained.
  std::int64_t next_epoch = 0;
  /// VFE of every step trained, and the pattern index of every epoch trained.
  std::vector<double> vfe;
  std::vector<std::int64_t> order;

  std::size_t pending_count() const { return pending_gains.size() / nodes; }
};

/// The substreams of the stage's stream that training draws from.
inline constexpr std::uint64_t pattern_order_substream = 0;  // .below(P, epoch)
inline constexpr std::uint64_t sample_noise_substream = 1;   // .substream(step): uniform per node

/// Trains epochs [state.next_epoch, epoch_end) and advances `state`. A state
/// left by one kernel can only be continued by the same kernel and deferral.
void train_epochs(TrainState& state, const PatternSet& patterns, const TrainParams& params,
                  const RandomStream& rng, std::int64_t epoch_end, const KernelOptions& kernel = {});

/// Applies the pending updates to `weights`: call once, after the last epoch.
void apply_pending(TrainState& state, const TrainParams& params);

}  // namespace fepflow::network
