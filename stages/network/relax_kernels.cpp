#include "network/relax_kernels.hpp"

#include "network/cb.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace fepflow::network {

std::int64_t mean_start(std::int64_t steps, std::int64_t burn_in) {
  return std::min(std::max<std::int64_t>(0, burn_in), std::max<std::int64_t>(0, steps - 1));
}

namespace {

using Lanes = xsimd::batch<double>;
constexpr std::size_t lane_count = Lanes::size;

// The vector forms below are the float64 formulas of network/cb.hpp, branch
// for branch; nodes past the last full batch use cb.hpp itself.
Lanes langevin_lanes(const Lanes& t) {
  const Lanes a = xsimd::abs(t);
  const Lanes t2 = t * t;
  const Lanes series = t * (Lanes(1.0 / 3.0) - t2 * (Lanes(1.0 / 45.0) - t2 * Lanes(2.0 / 945.0)));
  const Lanes e = xsimd::exp(Lanes(-2.0) * a);
  const Lanes closed = xsimd::copysign((Lanes(1.0) + e) / (Lanes(1.0) - e) - Lanes(1.0) / a, t);
  return xsimd::select(a < Lanes(0.1), series, closed);
}

Lanes sample_lanes(const Lanes& t, const Lanes& u01) {
  const Lanes u = Lanes(cb::uniform_margin) + u01 * Lanes(1.0 - 2.0 * cb::uniform_margin);
  const Lanes a = xsimd::abs(t);
  const auto positive = t > Lanes(0.0);
  const Lanes far_mass = xsimd::select(positive, Lanes(1.0) - u, u);
  const Lanes x_for_positive = Lanes(1.0) + xsimd::log1p(far_mass * xsimd::expm1(Lanes(-2.0) * a)) / a;
  const Lanes x = xsimd::select(t == Lanes(0.0), Lanes(2.0) * u - Lanes(1.0),
                                xsimd::select(positive, x_for_positive, -x_for_positive));
  const Lanes limit(static_cast<double>(cb::sample_limit));
  return xsimd::min(xsimd::max(x, -limit), limit);
}

// x_new[i] = f(beta (h[i] + u[i])) with t formed in double; u may be null (0),
// uniforms is null for the deterministic map.
void cb_row(const float* h, const float* u, double beta, const float* uniforms, float* x_new, std::size_t n) {
  alignas(64) double buffer[lane_count];
  const std::size_t vector_end = n - n % lane_count;
  for (std::size_t i = 0; i < vector_end; i += lane_count) {
    for (std::size_t k = 0; k < lane_count; ++k)
      buffer[k] = static_cast<double>(h[i + k]) + (u ? static_cast<double>(u[i + k]) : 0.0);
    const Lanes t = Lanes(beta) * Lanes::load_aligned(buffer);
    Lanes x;
    if (uniforms) {
      for (std::size_t k = 0; k < lane_count; ++k) buffer[k] = static_cast<double>(uniforms[i + k]);
      x = sample_lanes(t, Lanes::load_aligned(buffer));
    } else {
      x = langevin_lanes(t);
    }
    x.store_aligned(buffer);
    for (std::size_t k = 0; k < lane_count; ++k) x_new[i + k] = static_cast<float>(buffer[k]);
  }
  for (std::size_t i = vector_end; i < n; ++i) {
    const double t = beta * (static_cast<double>(h[i]) + (u ? static_cast<double>(u[i]) : 0.0));
    x_new[i] = static_cast<float>(uniforms ? cb::sample(t, cb::open_uniform(static_cast<double>(uniforms[i])))
                                           : cb::langevin(t));
  }
}

// ------------------------------------------------------------ the product
//
// fields = W x for every running chain, computed as an outer-product kernel:
// each output element is one float32 FMA chain over k = 0 .. n-1 in order.
// Tiling, blocking over k (partial sums are stored and reloaded exactly) and
// the split over threads change no bit of it, so a chain's fields do not
// depend on its batch or on the thread count. W is packed once per call
// (OpenBLAS would repack all of it at every step, which dominates small batches).

using Floats = xsimd::batch<float>;
constexpr std::size_t float_lanes = Floats::size;
constexpr std::size_t panel_vectors = 2;                            // 12 accumulators fit 16 AVX2 registers
constexpr std::size_t panel_width = panel_vectors * float_lanes;  // W rows per panel
constexpr std::size_t tile_chains = 6;                            // chains per register tile
constexpr std::size_t depth_block = 512;                          // k per pass: a panel's slice stays in L1
constexpr std::size_t tiles_per_block = 20;                       // 120 chains x depth_block floats stay in L2
using AlignedFloats = std::vector<float, xsimd::aligned_allocator<float>>;

std::size_t round_up(std::size_t value, std::size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// W's rows in panels of panel_width, each stored k-major:
// packed[(p * n + k) * panel_width + j] = W[p * panel_width + j][k] (zero past row n).
AlignedFloats pack_weights(const float* weights, std::size_t n) {
  const std::size_t panels = round_up(n, panel_width) / panel_width;
  AlignedFloats packed(panels * n * panel_width, 0.0f);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, panels), [&](const tbb::blocked_range<std::size_t>& range) {
    for (std::size_t p = range.begin(); p != range.end(); ++p)
      for (std::size_t j = 0; j < panel_width && p * panel_width + j < n; ++j) {
        const float* row = weights + (p * panel_width + j) * n;
        float* column = packed.data() + p * n * panel_width + j;
        for (std::size_t k = 0; k < n; ++k) column[k * panel_width] = row[k];
      }
  });
  return packed;
}

// fields[c][j] (+)= sum over the depth of tile[k][c] * panel[k][j] for the
// tile's chains and the panel's rows; starts from zero when `first`.
void multiply_tile(const float* panel, const float* tile, std::size_t depth, float* fields, std::size_t stride,
                   bool first) {
  Floats acc[tile_chains][panel_vectors];
  for (std::size_t c = 0; c < tile_chains; ++c)
    for (std::size_t q = 0; q < panel_vectors; ++q)
      acc[c][q] = first ? Floats(0.0f) : Floats::load_aligned(fields + c * stride + q * float_lanes);
  for (std::size_t k = 0; k < depth; ++k) {
    Floats w[panel_vectors];
    for (std::size_t q = 0; q < panel_vectors; ++q) w[q] = Floats::load_aligned(panel + k * panel_width + q * float_lanes);
    for (std::size_t c = 0; c < tile_chains; ++c) {
      const Floats x(tile[k * tile_chains + c]);
      for (std::size_t q = 0; q < panel_vectors; ++q) acc[c][q] = xsimd::fma(x, w[q], acc[c][q]);
    }
  }
  for (std::size_t c = 0; c < tile_chains; ++c)
    for (std::size_t q = 0; q < panel_vectors; ++q) acc[c][q].store_aligned(fields + c * stride + q * float_lanes);
}

// ------------------------------------------------------------------ the run

void check(const RelaxProblem& problem, const RelaxSettings& settings, bool has_noise) {
  auto fail = [](const std::string& what) { throw std::invalid_argument(what); };
  if (problem.nodes == 0) fail("the network has no nodes");
  if (!problem.weights || (problem.chains > 0 && !problem.starts)) fail("weights and start states are required");
  if (problem.input_layout != InputLayout::none && !problem.inputs) fail("the input layout names inputs but none are given");
  if (!problem.chain_betas.empty() && problem.chain_betas.size() != problem.chains)
    fail("chain_betas has " + std::to_string(problem.chain_betas.size()) + " values for " +
         std::to_string(problem.chains) + " chains");
  for (double beta : problem.chain_betas)
    if (!(beta > 0.0) || !std::isfinite(beta)) fail("every chain's beta must be positive and finite");
  if (problem.chain_betas.empty() && (!(settings.beta > 0.0) || !std::isfinite(settings.beta)))
    fail("beta must be positive and finite");
  if (settings.steps < 1) fail("steps must be at least 1");
  if (!(settings.tol >= 0.0) || !std::isfinite(settings.tol)) fail("tol must be finite and >= 0");
  if (settings.mode == RelaxMode::stochastic && !has_noise) fail("stochastic relaxation needs a random stream");
}

enum class Stop : char { running, converged, cycling, ran_out };

// Advances one batch of chains through all steps, writing each chain's
// results into `result` at its own index as soon as it stops.
class BatchRun {
 public:
  BatchRun(const RelaxProblem& problem, const RelaxSettings& settings, const std::optional<RandomStream>& noise,
           const AlignedFloats& packed_weights, RelaxResult& result, std::vector<double>& mean_sums)
      : problem_(problem), settings_(settings), noise_(noise), packed_weights_(packed_weights), result_(result),
        mean_sums_(mean_sums), n_(problem.nodes), field_stride_(round_up(problem.nodes, panel_width)),
        start_(mean_start(settings.steps, settings.burn_in)),
        thread_blocks_(static_cast<std::size_t>(std::max(1, tbb::this_task_arena::max_concurrency()))) {}

  void run(std::size_t first_chain, std::size_t chain_count, const std::function<void(double, std::size_t)>& on_step) {
    running_.resize(chain_count);
    for (std::size_t r = 0; r < chain_count; ++r) running_[r] = first_chain + r;
    states_.assign(problem_.starts + first_chain * n_, problem_.starts + (first_chain + chain_count) * n_);
    if (settings_.mode == RelaxMode::deterministic) previous_states_.resize(chain_count * n_);
    const std::size_t padded_chains = round_up(chain_count, tile_chains);
    packed_states_.resize(padded_chains * n_);
    fields_.resize(padded_chains * field_stride_);
    stops_.resize(chain_count);
    for (std::int64_t step = 1; step <= settings_.steps && !running_.empty(); ++step) {
      multiply();
      advance(step);
      retire(step);
      if (on_step) on_step(static_cast<double>(step) / static_cast<double>(settings_.steps), running_.size());
    }
    for (std::size_t r = 0; r < running_.size(); ++r) finish(r, settings_.steps, Stop::ran_out);
  }

 private:
  // fields = W x for every running chain.
  void multiply() {
    const std::size_t tiles = round_up(running_.size(), tile_chains) / tile_chains;
    pack_states(tiles);
    // Each thread takes one fixed contiguous range of panels, the same at every
    // step, so it keeps streaming the same part of W from its own cache.
    const std::size_t panels = field_stride_ / panel_width;
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, thread_blocks_, 1),
        [&](const tbb::blocked_range<std::size_t>& blocks) {
          for (std::size_t b = blocks.begin(); b != blocks.end(); ++b)
            multiply_panels(panels * b / thread_blocks_, panels * (b + 1) / thread_blocks_, tiles);
        },
        tbb::static_partitioner());
  }

  // The running states, k-major in tiles of tile_chains (zero rows pad the last tile):
  // packed_states_[(t * n + k) * tile_chains + c] = state of running chain t * tile_chains + c at node k.
  void pack_states(std::size_t tiles) {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, tiles), [&](const tbb::blocked_range<std::size_t>& range) {
      for (std::size_t t = range.begin(); t != range.end(); ++t) {
        float* tile = packed_states_.data() + t * n_ * tile_chains;
        for (std::size_t c = 0; c < tile_chains; ++c) {
          const std::size_t row = t * tile_chains + c;
          const float* x = row < running_.size() ? states_.data() + row * n_ : nullptr;
          for (std::size_t k = 0; k < n_; ++k) tile[k * tile_chains + c] = x ? x[k] : 0.0f;
        }
      }
    });
  }

  // Blocked as in a GEMM: for each depth block, tiles_per_block tiles of
  // chains stay in L2 while the panels' slices stream through L1.
  void multiply_panels(std::size_t panel_begin, std::size_t panel_end, std::size_t tiles) {
    for (std::size_t k0 = 0; k0 < n_; k0 += depth_block) {
      const std::size_t depth = std::min(depth_block, n_ - k0);
      for (std::size_t t0 = 0; t0 < tiles; t0 += tiles_per_block)
        for (std::size_t p = panel_begin; p < panel_end; ++p) {
          const float* panel = packed_weights_.data() + (p * n_ + k0) * panel_width;
          for (std::size_t t = t0; t < std::min(tiles, t0 + tiles_per_block); ++t)
            multiply_tile(panel, packed_states_.data() + (t * n_ + k0) * tile_chains, depth,
                          fields_.data() + t * tile_chains * field_stride_ + p * panel_width, field_stride_, k0 == 0);
        }
    }
  }

  void advance(std::int64_t step) {
    const bool stochastic = settings_.mode == RelaxMode::stochastic;
    const auto trajectory_row = static_cast<std::size_t>(step - 1);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, running_.size()), [&](const tbb::blocked_range<std::size_t>& rows) {
      std::vector<float> uniforms(stochastic ? n_ : 0);
      std::vector<float> x_new(n_);
      for (std::size_t r = rows.begin(); r != rows.end(); ++r) {
        const std::size_t chain = running_[r];
        if (stochastic) noise_->substream(chain).fill_uniform(uniforms.data(), n_, trajectory_row * n_);
        cb_row(fields_.data() + r * field_stride_, input_row(chain), beta(chain), stochastic ? uniforms.data() : nullptr,
               x_new.data(), n_);
        float* x = states_.data() + r * n_;
        float largest_change = 0.0f;
        for (std::size_t i = 0; i < n_; ++i) largest_change = std::max(largest_change, std::fabs(x_new[i] - x[i]));
        // Bit for bit: the same state gives the same fields, so the chain alternates from here on.
        bool repeats = false;
        if (!stochastic) {
          float* before = previous_states_.data() + r * n_;
          repeats = step >= 2 && std::memcmp(x_new.data(), before, n_ * sizeof(float)) == 0;
          std::copy(x, x + n_, before);
        }
        std::copy(x_new.begin(), x_new.end(), x);
        if (step - 1 >= start_) add_to_mean(chain, x, 1.0);
        if (settings_.keep_trajectory)
          std::copy(x, x + n_, result_.trajectory.data() + (trajectory_row * problem_.chains + chain) * n_);
        const bool settled = (settings_.tol > 0.0 && static_cast<double>(largest_change) < settings_.tol) ||
                             (!stochastic && largest_change == 0.0f);
        stops_[r] = settled ? Stop::converged : repeats ? Stop::cycling : Stop::running;
      }
    });
  }

  // Records the stopped chains and closes the gaps they leave, keeping order.
  void retire(std::int64_t step) {
    std::size_t kept = 0;
    for (std::size_t r = 0; r < running_.size(); ++r) {
      if (stops_[r] != Stop::running) {
        finish(r, step, stops_[r]);
        continue;
      }
      if (kept != r) {
        running_[kept] = running_[r];
        move_row(states_, r, kept);
        if (!previous_states_.empty()) move_row(previous_states_, r, kept);
      }
      ++kept;
    }
    running_.resize(kept);
  }

  void move_row(std::vector<float>& rows, std::size_t from, std::size_t to) const {
    std::copy_n(rows.begin() + static_cast<std::ptrdiff_t>(from * n_), n_, rows.begin() + static_cast<std::ptrdiff_t>(to * n_));
  }

  // Writes the results of a chain that stops after `step`: it keeps its state
  // for the remaining steps, or, in a 2-cycle, alternates with the one before.
  void finish(std::size_t row, std::int64_t step, Stop how) {
    const std::size_t chain = running_[row];
    const float* last = states_.data() + row * n_;
    const float* before = how == Stop::cycling ? previous_states_.data() + row * n_ : last;
    auto state_after = [&](std::int64_t s) { return (s - step) % 2 == 0 ? last : before; };
    const float* final_state = state_after(settings_.steps);
    std::copy(final_state, final_state + n_, result_.final_states.data() + chain * n_);
    result_.steps_taken[chain] = how == Stop::converged ? step : settings_.steps;
    result_.converged[chain] = how == Stop::converged ? 1 : 0;
    result_.cycle_found[chain] = how == Stop::cycling ? step : 0;
    const std::int64_t mean_from = std::max(step, start_) + 1, remaining = settings_.steps - mean_from + 1;
    if (remaining > 0 && how == Stop::cycling) {
      add_to_mean(chain, state_after(mean_from), static_cast<double>((remaining + 1) / 2));
      add_to_mean(chain, state_after(mean_from + 1), static_cast<double>(remaining / 2));
    } else if (remaining > 0) {
      add_to_mean(chain, last, static_cast<double>(remaining));
    }
    if (settings_.keep_trajectory)
      for (std::int64_t s = step + 1; s <= settings_.steps; ++s) {
        const float* x = state_after(s);
        std::copy(x, x + n_, result_.trajectory.data() + (static_cast<std::size_t>(s - 1) * problem_.chains + chain) * n_);
      }
  }

  void add_to_mean(std::size_t chain, const float* x, double times) {
    double* sum = mean_sums_.data() + chain * n_;
    for (std::size_t i = 0; i < n_; ++i) sum[i] += times * static_cast<double>(x[i]);
  }

  const float* input_row(std::size_t chain) const {
    switch (problem_.input_layout) {
      case InputLayout::none: return nullptr;
      case InputLayout::shared: return problem_.inputs;
      case InputLayout::per_chain: return problem_.inputs + chain * n_;
    }
    return nullptr;
  }

  double beta(std::size_t chain) const {
    return problem_.chain_betas.empty() ? settings_.beta : problem_.chain_betas[chain];
  }

  const RelaxProblem& problem_;
  const RelaxSettings& settings_;
  const std::optional<RandomStream>& noise_;
  const AlignedFloats& packed_weights_;
  RelaxResult& result_;
  std::vector<double>& mean_sums_;  // chains x nodes: the sum of the states the mean averages
  const std::size_t n_;
  const std::size_t field_stride_;  // n rounded up to whole panels
  const std::int64_t start_;
  const std::size_t thread_blocks_;
  std::vector<std::size_t> running_;  // the batch's running chains, in chain order
  std::vector<float> states_;         // their states, one row of n each
  std::vector<float> previous_states_;  // deterministic runs: their states one step earlier
  AlignedFloats packed_states_;       // the same, packed for the product
  AlignedFloats fields_;              // W x for each running chain, one row of field_stride_ each
  std::vector<Stop> stops_;  // what the current step did to each running chain
};

}  // namespace

RelaxResult relax(const RelaxProblem& problem, const RelaxSettings& settings, const std::optional<RandomStream>& noise,
                  const RelaxObserver& observer) {
  check(problem, settings, noise.has_value());

  const std::size_t n = problem.nodes, chains = problem.chains;
  RelaxResult result;
  result.final_states.resize(chains * n);
  result.steps_taken.resize(chains);
  result.converged.resize(chains);
  result.cycle_found.resize(chains);
  if (settings.keep_trajectory) result.trajectory.resize(static_cast<std::size_t>(settings.steps) * chains * n);

  std::vector<double> mean_sums(chains * n, 0.0);
  const AlignedFloats packed_weights = pack_weights(problem.weights, n);
  BatchRun run(problem, settings, noise, packed_weights, result, mean_sums);
  const std::size_t batch = settings.batch_size == 0 ? std::max<std::size_t>(chains, 1) : settings.batch_size;
  const std::size_t batches = (chains + batch - 1) / batch;
  for (std::size_t b = 0; b < batches; ++b) {
    const std::size_t first = b * batch, count = std::min(batch, chains - first);
    run.run(first, count, [&](double fraction, std::size_t running) {
      if (observer) observer((static_cast<double>(b) + fraction) / static_cast<double>(batches), running);
    });
  }

  const double states_averaged = static_cast<double>(settings.steps - mean_start(settings.steps, settings.burn_in));
  result.mean_states.resize(chains * n);
  for (std::size_t k = 0; k < chains * n; ++k)
    result.mean_states[k] = static_cast<float>(mean_sums[k] / states_averaged);
  return result;
}

}  // namespace fepflow::network
