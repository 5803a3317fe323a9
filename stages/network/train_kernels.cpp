#include "network/train_kernels.hpp"

#include "network/cb.hpp"

#include <cblas.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace fepflow::network {

void validate(const TrainParams& params) {
  const auto require_positive = [](auto value, const char* name) {
    if (!(std::isfinite(static_cast<double>(value)) && value > 0))
      throw std::invalid_argument(std::string(name) + " must be positive and finite, got " +
                                  std::to_string(value));
  };
  require_positive(params.evidence_level, "evidence_level");
  require_positive(params.beta, "beta");
  require_positive(params.lr, "lr");
  require_positive(params.epochs, "epochs");
  require_positive(params.steps, "steps");
}

TrainState::TrainState(std::size_t node_count) : nodes(node_count), weights(node_count * node_count, 0.0f) {}

namespace {

using Batch = xsimd::batch<float>;
constexpr std::size_t lanes = Batch::size;

// A row's dot product keeps one partial sum per column modulo 16, each adding
// its columns in order, and folds the 16 in one fixed order (finish_dot),
// whatever the vector width: the 16 lanes are one AVX-512 batch, two AVX2
// batches or four SSE ones (batch p: columns p * lanes ... within a block of
// 16), so training gives the same bits on AVX2 and AVX-512 machines.
constexpr std::size_t block_width = 16;
constexpr std::size_t parts = block_width / lanes;
static_assert(block_width % lanes == 0, "a block of columns is whole batches");

// Rows are handled in fixed chunks: whatever the thread count, a chunk is
// processed whole, by the same code, and sums across rows add per-chunk
// partials in chunk order. This is what makes results thread-count invariant.
constexpr std::size_t chunk_rows = 64;

std::size_t chunk_count(std::size_t n) { return (n + chunk_rows - 1) / chunk_rows; }

// A thread takes at least this many chunks: below that, waking it for every
// step costs more than it saves.
constexpr std::size_t min_chunks_per_thread = 4;

// Calls body(chunk) for every chunk; each thread of the arena takes one fixed
// contiguous range of chunks, the same at every call, so a thread keeps
// streaming the same rows of W (its share stays in its own cache).
template <class Body>
void for_each_chunk(std::size_t chunks, const Body& body) {
  const auto threads = std::clamp<std::size_t>(chunks / min_chunks_per_thread, 1,
                                               static_cast<std::size_t>(tbb::this_task_arena::max_concurrency()));
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, threads, 1),
      [&](const tbb::blocked_range<std::size_t>& blocks) {
        for (std::size_t b = blocks.begin(); b != blocks.end(); ++b)
          for (std::size_t c = chunks * b / threads; c < chunks * (b + 1) / threads; ++c) body(c);
      },
      tbb::static_partitioner());
}

// A row's partial sums: one block of 16 lanes.
using Partials = Batch[parts];

// The 16 partial sums added in the order of AVX-512's horizontal add (lane i
// plus lane i + 8, then i + 4, then pairs), plus a[j] * b[j] for the columns
// past the last whole block.
float finish_dot(const Partials& partials, const float* a, const float* b, std::size_t vector_end, std::size_t n) {
  alignas(64) float v[block_width];
  for (std::size_t p = 0; p < parts; ++p) partials[p].store_aligned(v + p * lanes);
  float eighths[8], quarters[4];
  for (std::size_t i = 0; i < 8; ++i) eighths[i] = v[i] + v[i + 8];
  for (std::size_t i = 0; i < 4; ++i) quarters[i] = eighths[i] + eighths[i + 4];
  float sum = (quarters[0] + quarters[1]) + (quarters[2] + quarters[3]);
  for (std::size_t j = vector_end; j < n; ++j) sum = std::fma(a[j], b[j], sum);
  return sum;
}

std::size_t blocks_end(std::size_t n) { return n - n % block_width; }

// The batch of a block that column j (a multiple of lanes) falls in.
constexpr std::size_t part_of(std::size_t j) { return j % block_width / lanes; }

float dot(const float* a, const float* b, std::size_t n) {
  Partials acc;
  for (auto& partial : acc) partial = Batch(0.0f);
  const std::size_t vector_end = blocks_end(n);
  for (std::size_t j = 0; j < vector_end; j += lanes)
    acc[part_of(j)] = xsimd::fma(Batch::load_unaligned(a + j), Batch::load_unaligned(b + j), acc[part_of(j)]);
  return finish_dot(acc, a, b, vector_end, n);
}

template <std::size_t R>
using RowPartials = Batch[R][parts];

template <std::size_t R, class Float>
void point_rows(Float* W, std::size_t n, std::size_t first, Float* (&row)[R], RowPartials<R>& acc) {
  for (std::size_t r = 0; r < R; ++r) {
    row[r] = W + (first + r) * n;
    for (auto& partial : acc[r]) partial = Batch(0.0f);
  }
}

// The product takes product_rows rows at a time: 8 independent FMA chains
// keep the FMA units busy (8 rows with AVX-512, 4 with AVX2), and each load of
// x serves all of them.
constexpr std::size_t product_rows = std::max<std::size_t>(1, 8 / parts);

// h[i] = W[i, :] . x for the R rows from `first`.
template <std::size_t R>
void multiply_rows(const float* W, std::size_t n, std::size_t first, const float* x, float* h) {
  const float* row[R];
  RowPartials<R> acc;
  point_rows(W, n, first, row, acc);
  const std::size_t vector_end = blocks_end(n);
  for (std::size_t j = 0; j < vector_end; j += block_width)
    for (std::size_t p = 0; p < parts; ++p) {
      const Batch xb = Batch::load_unaligned(x + j + p * lanes);
      for (std::size_t r = 0; r < R; ++r)
        acc[r][p] = xsimd::fma(Batch::load_unaligned(row[r] + j + p * lanes), xb, acc[r][p]);
    }
  for (std::size_t r = 0; r < R; ++r) h[first + r] = finish_dot(acc[r], row[r], x, vector_end, n);
}

// Rank-1 terms not yet applied to W: W += gains[k] (outer) states[k], k < count.
struct PendingTerms {
  const float* const* gains;
  const float* const* states;
  std::size_t count;
};

// The update kernels below take R rows and C (1 or 2) batches of columns at a
// time: R * C independent FMA chains, and each load of a pending state serves
// R rows. Every element gets its pending terms in order, so a row's results do
// not depend on R or on how the columns were grouped.

// Runs batches(C = 2) over pairs of batches, then batches(C = 1) over a last
// odd one (with AVX-512, a last odd block), up to the last whole block;
// returns where the whole blocks end.
template <class Batches>
std::size_t for_column_batches(std::size_t n, const Batches& batches) {
  const std::size_t vector_end = blocks_end(n);
  std::size_t j = 0;
  for (; j + 2 * lanes <= vector_end; j += 2 * lanes) batches(std::integral_constant<std::size_t, 2>(), j);
  if (j < vector_end) batches(std::integral_constant<std::size_t, 1>(), j);
  return vector_end;
}

// Stores C updated batches w of the R rows from column j (clearing W_ii if
// asked) and, with x given, adds them to the rows' products.
template <std::size_t R, std::size_t C>
void store_updated(float* const (&row)[R], std::size_t first, bool zero_diagonal, const float* x, std::size_t j,
                   Batch (&w)[R][C], RowPartials<R>& acc) {
  for (std::size_t r = 0; r < R; ++r) {
    const std::size_t i = first + r;
    for (std::size_t c = 0; c < C; ++c) {
      float* at = row[r] + j + c * lanes;
      w[r][c].store_unaligned(at);
      if (zero_diagonal && i >= j + c * lanes && i < j + (c + 1) * lanes) {
        row[r][i] = 0.0f;
        w[r][c] = Batch::load_unaligned(at);
      }
    }
  }
  if (x)
    for (std::size_t c = 0; c < C; ++c) {
      const std::size_t column = j + c * lanes;
      const Batch xb = Batch::load_unaligned(x + column);
      for (std::size_t r = 0; r < R; ++r) acc[r][part_of(column)] = xsimd::fma(w[r][c], xb, acc[r][part_of(column)]);
    }
}

// Adds the pending terms to C batches of the R rows from column j, keeping
// W_ii = 0 if asked, and with x given accumulates the updated rows' products.
template <std::size_t R, std::size_t C>
void update_batches(float* const (&row)[R], std::size_t first, const PendingTerms& pending, bool zero_diagonal,
                    const float* x, std::size_t j, RowPartials<R>& acc) {
  Batch w[R][C];
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t c = 0; c < C; ++c) w[r][c] = Batch::load_unaligned(row[r] + j + c * lanes);
  for (std::size_t k = 0; k < pending.count; ++k) {
    Batch y[C];
    for (std::size_t c = 0; c < C; ++c) y[c] = Batch::load_unaligned(pending.states[k] + j + c * lanes);
    for (std::size_t r = 0; r < R; ++r) {
      const Batch gain(pending.gains[k][first + r]);
      for (std::size_t c = 0; c < C; ++c) w[r][c] = xsimd::fma(gain, y[c], w[r][c]);
    }
  }
  store_updated<R, C>(row, first, zero_diagonal, x, j, w, acc);
}

// The columns of an update past vector_end, then the rows' products.
template <std::size_t R>
void finish_update(float* const (&row)[R], std::size_t n, std::size_t first, const PendingTerms& pending,
                   bool zero_diagonal, const float* x, float* h, std::size_t vector_end, RowPartials<R>& acc) {
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t j = vector_end; j < n; ++j) {
      float w = row[r][j];
      for (std::size_t k = 0; k < pending.count; ++k) w = std::fma(pending.gains[k][first + r], pending.states[k][j], w);
      row[r][j] = (zero_diagonal && j == first + r) ? 0.0f : w;
    }
    if (x) h[first + r] = finish_dot(acc[r], row[r], x, vector_end, n);
  }
}

// Adds the pending terms to the R rows from `first` (W_ii kept 0 if asked) in
// one pass over them; with x given, also h[i] = (updated W)[i, :] . x in the
// same pass.
template <std::size_t R>
void update_rows(float* W, std::size_t n, std::size_t first, const PendingTerms& pending, bool zero_diagonal,
                 const float* x, float* h) {
  float* row[R];
  RowPartials<R> acc;
  point_rows(W, n, first, row, acc);
  const std::size_t vector_end = for_column_batches(n, [&](auto batches, std::size_t j) {
    update_batches<R, decltype(batches)::value>(row, first, pending, zero_diagonal, x, j, acc);
  });
  finish_update<R>(row, n, first, pending, zero_diagonal, x, h, vector_end, acc);
}

// The pending terms copied into the order update_rows_packed reads them, so
// that its loads are one sequential stream each and stay in L1: the states in
// pairs of batches of columns (pair b: y_k[b * pair_columns ...] for k = 0, 1,
// ...), the gains in groups of 4 rows (group g: g_k[4 g ... 4 g + 3] for
// k = 0, 1, ...). Only whole pairs and groups are packed.
constexpr std::size_t packed_rows = 4;
constexpr std::size_t pair_columns = 2 * lanes;

class PackedTerms {
 public:
  PackedTerms(std::size_t n, std::size_t count)
      : n_(n), count_(count), states_(n / pair_columns * pair_columns * count),
        gains_(n / packed_rows * packed_rows * count) {}

  // Packs the whole pairs and groups in the chunk [begin, end), rows and columns alike.
  void pack(const PendingTerms& pending, std::size_t begin, std::size_t end) {
    static_assert(chunk_rows % pair_columns == 0 && chunk_rows % packed_rows == 0, "chunks start pairs and groups");
    for (std::size_t j = begin; j < end && j + pair_columns <= n_; j += pair_columns)
      for (std::size_t k = 0; k < count_; ++k)
        std::copy_n(pending.states[k] + j, pair_columns, states_.data() + j * count_ + k * pair_columns);
    for (std::size_t i = begin; i < end && i + packed_rows <= n_; i += packed_rows)
      for (std::size_t k = 0; k < count_; ++k)
        std::copy_n(pending.gains[k] + i, packed_rows, gains_.data() + i * count_ + k * packed_rows);
  }

  std::size_t count() const { return count_; }
  const float* pair(std::size_t j) const { return states_.data() + j * count_; }  // the pair from column j
  const float* group(std::size_t i) const { return gains_.data() + i * count_; }  // the group from row i

 private:
  std::size_t n_, count_;
  std::vector<float, xsimd::aligned_allocator<float>> states_;
  std::vector<float, xsimd::aligned_allocator<float>> gains_;
};

// update_rows for the packed_rows rows from `first`, reading the terms packed:
// the same arithmetic for every element, ~1.5x faster (the loads of a step of
// k are two aligned state batches and packed_rows gains, all in L1).
void update_rows_packed(float* W, std::size_t n, std::size_t first, const PendingTerms& pending,
                        const PackedTerms& packed, bool zero_diagonal, const float* x, float* h) {
  constexpr std::size_t R = packed_rows;
  float* row[R];
  RowPartials<R> acc;
  point_rows(W, n, first, row, acc);
  const float* gains = packed.group(first);
  const std::size_t vector_end = blocks_end(n);
  const std::size_t pairs_end = vector_end - vector_end % pair_columns;
  for (std::size_t j = 0; j < pairs_end; j += pair_columns) {
    Batch w[R][2];
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t c = 0; c < 2; ++c) w[r][c] = Batch::load_unaligned(row[r] + j + c * lanes);
    const float* states = packed.pair(j);
    for (std::size_t k = 0; k < packed.count(); ++k) {
      Batch y0 = Batch::load_aligned(states + k * pair_columns), y1 = Batch::load_aligned(states + k * pair_columns + lanes);
      // Keeps the states in registers: GCC would otherwise fold their loads into every row's FMA.
      asm("" : "+x"(y0.data), "+x"(y1.data));
      for (std::size_t r = 0; r < R; ++r) {
        const Batch gain(gains[k * R + r]);
        w[r][0] = xsimd::fma(gain, y0, w[r][0]);
        w[r][1] = xsimd::fma(gain, y1, w[r][1]);
      }
    }
    store_updated<R, 2>(row, first, zero_diagonal, x, j, w, acc);
  }
  // A last single batch, then single columns, as update_rows does them.
  if (pairs_end < vector_end) update_batches<R, 1>(row, first, pending, zero_diagonal, x, pairs_end, acc);
  finish_update<R>(row, n, first, pending, zero_diagonal, x, h, vector_end, acc);
}

// Runs f<G>(i) for rows i, i + G, ... of [begin, end), then f<1> for the rest.
template <std::size_t G, class RowsFunction>
void for_row_groups(std::size_t begin, std::size_t end, const RowsFunction& f) {
  std::size_t i = begin;
  for (; i + G <= end; i += G) f(std::integral_constant<std::size_t, G>(), i);
  for (; i < end; ++i) f(std::integral_constant<std::size_t, 1>(), i);
}

// The per-node part of a step for rows [begin, end): sample x' from the field
// h, and the learning signal lr * pi * e with e = x' - L(h). Returns the rows'
// share of the step's VFE.
double sample_rows(const TrainParams& p, std::size_t begin, std::size_t end, const float* h, const float* input,
                   const float* uniforms, float* gain, float* state) {
  using cb::Doubles;
  double vfe = 0.0;
  for (std::size_t i = begin; i < end; i += Doubles::size) {
    const std::size_t count = end - i;  // the last batch is padded
    const Doubles field = cb::load_doubles(h + i, count);
    const Doubles t = Doubles(p.beta) * (field + cb::load_doubles(input + i, count));
    cb::store_floats(cb::sample(t, cb::open_uniform(cb::load_doubles(uniforms + i, count))), state + i, count);
    // The state is float32: the error and the VFE use x' as stored.
    const Doubles x_new = cb::load_doubles(state + i, count);
    Doubles error = x_new - cb::langevin(field);
    if (p.precision_weighted) error = error / xsimd::max(cb::fisher(Doubles(p.beta) * field), Doubles(1e-8));
    cb::store_floats(Doubles(p.lr) * error, gain + i, count);
    alignas(Doubles::arch_type::alignment()) double terms[Doubles::size];
    cb::free_energy_term(t, x_new).store_aligned(terms);
    for (std::size_t lane = 0; lane < std::min(count, Doubles::size); ++lane) vfe += terms[lane];
  }
  return vfe;
}

// What both kernels share: parameters, the epoch's input, per-step buffers.
class TrainingLoop {
 public:
  TrainingLoop(TrainState& state, const PatternSet& patterns, const TrainParams& params, const RandomStream& rng)
      : state_(state),
        patterns_(patterns),
        params_(params),
        n_(state.nodes),
        chunks_(chunk_count(state.nodes)),
        pattern_order_(rng.substream(pattern_order_substream)),
        sample_noise_(rng.substream(sample_noise_substream)),
        input_(n_),
        field_(n_),
        uniforms_(n_),
        chunk_vfe_(chunks_) {
    validate(params);
    if (patterns.nodes != n_ || patterns.count == 0)
      throw std::invalid_argument("training needs at least one pattern of " + std::to_string(n_) + " nodes");
    if (state.weights.size() != n_ * n_) throw std::invalid_argument("training state: W is not n x n");
  }

 protected:
  // Selects the epoch's pattern, records it, and sets the input u.
  void begin_epoch(std::int64_t epoch) {
    const auto k = pattern_order_.below(patterns_.count, static_cast<std::uint64_t>(epoch));
    state_.order.push_back(static_cast<std::int64_t>(k));
    const float* pattern = patterns_.values + k * n_;
    for (std::size_t i = 0; i < n_; ++i) input_[i] = static_cast<float>(params_.evidence_level * pattern[i]);
  }

  // Samples rows [begin, end) of global step `step` from field_ into gain and
  // state; keeps the chunk's VFE share.
  void sample_chunk(std::size_t chunk, std::int64_t step, float* gain, float* state) {
    const std::size_t begin = chunk * chunk_rows, end = std::min(n_, begin + chunk_rows);
    sample_noise_.substream(static_cast<std::uint64_t>(step)).fill_uniform(uniforms_.data() + begin, end - begin, begin);
    chunk_vfe_[chunk] =
        sample_rows(params_, begin, end, field_.data(), input_.data(), uniforms_.data(), gain, state);
  }

  void record_vfe() {
    double total = 0.0;
    for (double v : chunk_vfe_) total += v;
    state_.vfe.push_back(total);
  }

  TrainState& state_;
  const PatternSet patterns_;
  const TrainParams params_;
  const std::size_t n_;
  const std::size_t chunks_;
  const RandomStream pattern_order_;
  const RandomStream sample_noise_;
  std::vector<float> input_;
  std::vector<float> field_;
  std::vector<float> uniforms_;
  std::vector<double> chunk_vfe_;
};

// The textbook step with OpenBLAS, one chunk per call so rows are computed the
// same way for any thread count.
class NaiveBlasLoop : TrainingLoop {
 public:
  using TrainingLoop::TrainingLoop;

  void run(std::int64_t epoch_end) {
    if (state_.pending_count() != 0)
      throw std::invalid_argument("the naive kernel cannot continue a state with deferred updates");
    openblas_set_num_threads(1);  // TBB owns the threads; BLAS must not start its own
    std::vector<float> x(n_), x_new(n_), gain(n_);
    float* W = state_.weights.data();
    const int n = static_cast<int>(n_);
    for (std::int64_t epoch = state_.next_epoch; epoch < epoch_end; ++epoch) {
      begin_epoch(epoch);
      for (std::int64_t j = 0; j < params_.steps; ++j) {
        for_each_chunk(chunks_, [&](std::size_t chunk) {
          const std::size_t begin = chunk * chunk_rows, rows = std::min(n_, begin + chunk_rows) - begin;
          if (j == 0)
            std::fill_n(field_.data() + begin, rows, 0.0f);
          else
            cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(rows), n, 1.0f, W + begin * n_, n, x.data(),
                        1, 0.0f, field_.data() + begin, 1);
          sample_chunk(chunk, epoch * params_.steps + j, gain.data(), x_new.data());
        });
        for_each_chunk(chunks_, [&](std::size_t chunk) {
          const std::size_t begin = chunk * chunk_rows, end = std::min(n_, begin + chunk_rows);
          cblas_sger(CblasRowMajor, static_cast<int>(end - begin), n, 1.0f, gain.data() + begin, 1, x_new.data(), 1,
                     W + begin * n_, n);
          if (params_.zero_diagonal)
            for (std::size_t i = begin; i < end; ++i) W[i * n_ + i] = 0.0f;
        });
        record_vfe();
        std::swap(x, x_new);
      }
      state_.next_epoch = epoch + 1;
    }
  }
};

// The fused (deferral 1) and deferred kernels. The terms of the last steps
// live in a ring of deferral + 1 slots indexed by global step, so the state x
// (the previous step's x') stays readable while the new term is written.
class DeferredLoop : TrainingLoop {
 public:
  DeferredLoop(TrainState& state, const PatternSet& patterns, const TrainParams& params, const RandomStream& rng,
               std::size_t deferral)
      : TrainingLoop(state, patterns, params, rng),
        deferral_(deferral),
        slots_(deferral + 1),
        slot_stride_(padded_stride(n_)),
        gain_ring_(slots_ * slot_stride_),
        state_ring_(slots_ * slot_stride_),
        dots_(deferral),
        chunk_dots_(chunks_ * deferral),
        packed_(n_, deferral) {
    if (deferral == 0) throw std::invalid_argument("deferral must be at least 1 step");
    const std::int64_t first_step = state.next_epoch * params.steps;
    const std::size_t pending = pending_before(first_step);
    if (state.pending_count() != pending)
      throw std::invalid_argument("training state holds " + std::to_string(state.pending_count()) +
                                  " deferred updates where this kernel expects " + std::to_string(pending));
    for (std::size_t k = 0; k < pending; ++k) {
      const std::int64_t step = first_step - static_cast<std::int64_t>(pending - k);
      std::copy_n(state.pending_gains.data() + k * n_, n_, gain_slot(step));
      std::copy_n(state.pending_states.data() + k * n_, n_, state_slot(step));
    }
  }

  void run(std::int64_t epoch_end) {
    for (std::int64_t epoch = state_.next_epoch; epoch < epoch_end; ++epoch) {
      begin_epoch(epoch);
      for (std::int64_t j = 0; j < params_.steps; ++j) step(epoch * params_.steps + j, j == 0, j + 1 == params_.steps);
      state_.next_epoch = epoch + 1;
    }
    save_pending(state_.next_epoch * params_.steps);
  }

 private:
  // Terms pending at the start of `step`: a flush happens whenever deferral
  // terms have piled up, so the schedule depends on the step index only.
  std::size_t pending_before(std::int64_t step) const {
    return step == 0 ? 0 : static_cast<std::size_t>((step - 1) % static_cast<std::int64_t>(deferral_)) + 1;
  }
  float* gain_slot(std::int64_t step) {
    return gain_ring_.data() + static_cast<std::size_t>(step) % slots_ * slot_stride_;
  }
  float* state_slot(std::int64_t step) {
    return state_ring_.data() + static_cast<std::size_t>(step) % slots_ * slot_stride_;
  }
  // Slots n floats apart would all start at the same offset in a 4 KiB page
  // when n is a multiple of 1024 (the usual sizes): a flush reads every slot
  // at once, and such streams fight over one L1 set. Offsetting each slot by
  // one more cache line spreads them.
  static std::size_t padded_stride(std::size_t n) { return (n + 15) / 16 * 16 + 16; }

  // Pointers to the terms of steps [end - count, end).
  void list_terms(std::int64_t end, std::size_t count, std::vector<const float*>& gains,
                  std::vector<const float*>& states) {
    gains.clear();
    states.clear();
    for (std::int64_t step = end - static_cast<std::int64_t>(count); step < end; ++step) {
      gains.push_back(gain_slot(step));
      states.push_back(state_slot(step));
    }
  }

  void step(std::int64_t s, bool first_of_epoch, bool last_of_epoch) {
    const std::size_t pending = pending_before(s);
    const bool flush = pending == deferral_;
    list_terms(s, pending, gains_, states_);
    const PendingTerms terms{gains_.data(), states_.data(), pending};
    const float* x = first_of_epoch ? nullptr : state_slot(s - 1);
    float* new_gain = gain_slot(s);
    float* new_state = state_slot(s);

    // The next step corrects its product with y_k . x' for its pending terms
    // (this step's included); a flush or a new epoch needs none.
    const std::size_t next_pending = flush ? 1 : pending + 1;
    const bool next_corrected = !last_of_epoch && next_pending < deferral_;
    list_terms(s + 1, next_corrected ? next_pending : 0, next_gains_, next_states_);

    float* W = state_.weights.data();
    if (flush)
      for_each_chunk(chunks_, [&](std::size_t chunk) {
        packed_.pack(terms, chunk * chunk_rows, std::min(n_, (chunk + 1) * chunk_rows));
      });
    for_each_chunk(chunks_, [&](std::size_t chunk) {
      const std::size_t begin = chunk * chunk_rows, end = std::min(n_, begin + chunk_rows);
      float* h = field_.data();
      if (flush)
        for_row_groups<packed_rows>(begin, end, [&](auto rows, std::size_t i) {
          if constexpr (decltype(rows)::value == packed_rows)
            update_rows_packed(W, n_, i, terms, packed_, params_.zero_diagonal, x, h);
          else
            update_rows<decltype(rows)::value>(W, n_, i, terms, params_.zero_diagonal, x, h);
        });
      if (!x) {
        std::fill(h + begin, h + end, 0.0f);
      } else if (!flush) {
        for_row_groups<product_rows>(begin, end, [&](auto rows, std::size_t i) {
          multiply_rows<decltype(rows)::value>(W, n_, i, x, h);
        });
        correct_field(terms, x, begin, end);
      }
      sample_chunk(chunk, s, new_gain, new_state);
      for (std::size_t k = 0; k < next_states_.size(); ++k)
        chunk_dots_[chunk * deferral_ + k] = dot(next_states_[k] + begin, new_state + begin, end - begin);
    });
    record_vfe();
    for (std::size_t k = 0; k < next_states_.size(); ++k) {
      double total = 0.0;
      for (std::size_t c = 0; c < chunks_; ++c) total += chunk_dots_[c * deferral_ + k];
      dots_[k] = static_cast<float>(total);
    }
  }

  // h = W0 x plus the pending terms' share: sum_k a_k (y_k . x), less their
  // masked diagonal a_k[i] y_k[i] x[i]. dots_ holds y_k . x (from the last step).
  void correct_field(const PendingTerms& terms, const float* x, std::size_t begin, std::size_t end) {
    float* h = field_.data();
    for (std::size_t k = 0; k < terms.count; ++k) {
      const float d = dots_[k];
      const float* a = terms.gains[k];
      const float* y = terms.states[k];
      if (params_.zero_diagonal)
        for (std::size_t i = begin; i < end; ++i) h[i] = std::fma(a[i], d - y[i] * x[i], h[i]);
      else
        for (std::size_t i = begin; i < end; ++i) h[i] = std::fma(a[i], d, h[i]);
    }
  }

  void save_pending(std::int64_t next_step) {
    const std::size_t pending = pending_before(next_step);
    state_.pending_gains.resize(pending * n_);
    state_.pending_states.resize(pending * n_);
    for (std::size_t k = 0; k < pending; ++k) {
      const std::int64_t step = next_step - static_cast<std::int64_t>(pending - k);
      std::copy_n(gain_slot(step), n_, state_.pending_gains.data() + k * n_);
      std::copy_n(state_slot(step), n_, state_.pending_states.data() + k * n_);
    }
  }

  const std::size_t deferral_;
  const std::size_t slots_;
  const std::size_t slot_stride_;
  std::vector<float> gain_ring_;
  std::vector<float> state_ring_;
  std::vector<float> dots_;
  std::vector<float> chunk_dots_;
  std::vector<const float*> gains_, states_, next_gains_, next_states_;
  PackedTerms packed_;  // a flush's terms, packed for update_rows_packed
};

}  // namespace

void train_epochs(TrainState& state, const PatternSet& patterns, const TrainParams& params, const RandomStream& rng,
                  std::int64_t epoch_end, const KernelOptions& kernel) {
  if (epoch_end < state.next_epoch || epoch_end > params.epochs)
    throw std::invalid_argument("epoch range [" + std::to_string(state.next_epoch) + ", " +
                                std::to_string(epoch_end) + ") is outside the training's epochs");
  switch (kernel.kernel) {
    case UpdateKernel::naive_blas:
      NaiveBlasLoop(state, patterns, params, rng).run(epoch_end);
      break;
    case UpdateKernel::fused:
      DeferredLoop(state, patterns, params, rng, 1).run(epoch_end);
      break;
    case UpdateKernel::deferred:
      DeferredLoop(state, patterns, params, rng, kernel.deferral).run(epoch_end);
      break;
  }
}

void apply_pending(TrainState& state, const TrainParams& params) {
  const std::size_t n = state.nodes, count = state.pending_count();
  std::vector<const float*> gains, states;
  for (std::size_t k = 0; k < count; ++k) {
    gains.push_back(state.pending_gains.data() + k * n);
    states.push_back(state.pending_states.data() + k * n);
  }
  const PendingTerms terms{gains.data(), states.data(), count};
  float* W = state.weights.data();
  for_each_chunk(chunk_count(n), [&](std::size_t chunk) {
    const std::size_t begin = chunk * chunk_rows, end = std::min(n, begin + chunk_rows);
    for_row_groups<packed_rows>(begin, end, [&](auto rows, std::size_t i) {
      update_rows<decltype(rows)::value>(W, n, i, terms, params.zero_diagonal, nullptr, nullptr);
    });
  });
  state.pending_gains.clear();
  state.pending_states.clear();
}

}  // namespace fepflow::network
