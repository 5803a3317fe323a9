// The `train` stage: stores patterns in an attractor network with the local
// free-energy learning rule (SPEC.md section 3), checkpointing as it goes.
#include "network/train_kernels.hpp"

#include <fepflow/fepflow.hpp>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

namespace {

using namespace fepflow;
namespace net = fepflow::network;

// The deferred kernel's flush schedule is part of the arithmetic: changing
// the deferral changes W in its last bits, so it must come with a new stage
// version (checkpoints and cached results of the old one are then ignored).
// Version 2: sums grouped by 16 columns whatever the vector width, and the
// VFE's logarithm without xsimd's log: the same bits on AVX2 and AVX-512.
constexpr net::KernelOptions kernel{net::UpdateKernel::deferred, 16};
constexpr int stage_version = 2;

// Training runs in slices of epochs between progress reports of about this long.
constexpr double seconds_per_slice = 0.25;
// checkpoint_every = 0 checkpoints after about this much work, or after 20
// times as long as the last save took if that is longer: saving a large W
// (compressed HDF5) takes seconds, and should cost at most about 5%.
constexpr double automatic_checkpoint_seconds = 60.0;
constexpr double work_per_save_second = 20.0;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::array<std::size_t, 1> shape1(std::size_t a) { return {a}; }
std::array<std::size_t, 2> shape2(std::size_t a, std::size_t b) { return {a, b}; }

// Calls f(i, j) for every i, j < n, in 64 x 64 tiles: f reads W[i, j] and
// W[j, i], and tiles keep both in cache.
template <class F>
void for_each_pair_tiled(std::size_t n, const F& f) {
  constexpr std::size_t tile = 64;
  for (std::size_t i0 = 0; i0 < n; i0 += tile)
    for (std::size_t j0 = 0; j0 < n; j0 += tile)
      for (std::size_t i = i0; i < std::min(n, i0 + tile); ++i)
        for (std::size_t j = j0; j < std::min(n, j0 + tile); ++j) f(i, j);
}

// Pearson correlation of W_ij with W_ji over i != j: 1 for a symmetric W,
// -1 for an antisymmetric one (0 when W is constant off the diagonal).
double symmetry_correlation(const float* W, std::size_t n) {
  double sum = 0, sum_sq = 0, sum_cross = 0;
  for_each_pair_tiled(n, [&](std::size_t i, std::size_t j) {
    if (i == j) return;
    const double w = W[i * n + j];
    sum += w;
    sum_sq += w * w;
    sum_cross += w * W[j * n + i];
  });
  const double count = static_cast<double>(n * n - n);
  const double mean = sum / count;
  const double variance = sum_sq / count - mean * mean;
  // Both variables have the same mean and variance (W_ji runs over the same set).
  return variance > 0 ? (sum_cross / count - mean * mean) / variance : 0.0;
}

class Train : public Stage {
  Input<float> patterns{this, "patterns", 2, "patterns to store, P x n (one per row)"};
  Output<float> W{this, "W", 2, "coupling matrix, n x n (row i: the inputs of node i)"};
  Output<double> vfe{this, "vfe", 1, "free-energy proxy of every step (epochs * steps)"};
  Output<std::int64_t> order{this, "order", 1, "pattern index presented in each epoch"};
  Output<float> symmetric{this, "symmetric", 2, "(W + W^T) / 2"};
  Output<float> antisymmetric{this, "antisymmetric", 2, "(W - W^T) / 2"};
  Param<double> evidence_level{this, "evidence_level", 1.0, "input u = evidence_level * pattern", positive()};
  Param<double> beta{this, "beta", 0.7, "precision (inverse temperature) of the network during training",
                     positive()};
  Param<double> lr{this, "lr", 1e-4, "learning rate", positive()};
  Param<std::int64_t> epochs{this, "epochs", 10000, "pattern presentations (a random pattern each)", positive()};
  Param<std::int64_t> steps{this, "steps", 10, "inference steps per presentation, from x = 0", positive()};
  Param<bool> precision_weighted{this, "precision_weighted", false,
                                 "weight each node's prediction error by 1 / g(beta h)"};
  Param<bool> zero_diagonal{this, "zero_diagonal", true, "keep W_ii = 0 (no self-coupling)"};
  Param<std::int64_t> checkpoint_every{this, "checkpoint_every", 0,
                                       "epochs between checkpoints (0: about every 60 s of work)", non_negative()};

  net::TrainParams train_params() const {
    net::TrainParams p;
    p.evidence_level = *evidence_level;
    p.beta = *beta;
    p.lr = *lr;
    p.epochs = *epochs;
    p.steps = *steps;
    p.precision_weighted = *precision_weighted;
    p.zero_diagonal = *zero_diagonal;
    return p;
  }

  static Checkpoint checkpoint_of(const net::TrainState& s) {
    const std::size_t n = s.nodes, pending = s.pending_count();
    const auto epochs_done = static_cast<std::size_t>(s.next_epoch);
    return {{"W", Value(xt::xarray<float>(xt::adapt(s.weights, shape2(n, n))))},
            {"pending_gains", Value(xt::xarray<float>(xt::adapt(s.pending_gains, shape2(pending, n))))},
            {"pending_states", Value(xt::xarray<float>(xt::adapt(s.pending_states, shape2(pending, n))))},
            {"next_epoch", Value(xt::xarray<std::int64_t>(s.next_epoch))},
            {"vfe", Value(xt::xarray<double>(xt::adapt(s.vfe, shape1(s.vfe.size()))))},
            {"order", Value(xt::xarray<std::int64_t>(xt::adapt(s.order, shape1(epochs_done))))}};
  }

  // The state saved by an interrupted run, checked against this run's shapes.
  void restore(const Checkpoint& saved, net::TrainState& s) const {
    const std::size_t n = s.nodes;
    const auto array = [&](const char* name) -> const Value& {
      const auto it = saved.find(name);
      if (it == saved.end()) throw Error(std::string("checkpoint lacks '") + name + "'");
      return it->second;
    };
    const auto& weights = array("W").array<float>();
    const auto& gains = array("pending_gains").array<float>();
    const auto& states = array("pending_states").array<float>();
    const std::int64_t next_epoch = array("next_epoch").array<std::int64_t>()();
    const auto& history = array("vfe").array<double>();
    const auto& presented = array("order").array<std::int64_t>();
    const auto epochs_done = static_cast<std::size_t>(next_epoch);
    if (weights.size() != n * n || gains.size() != states.size() || gains.size() % n != 0 || next_epoch < 0 ||
        next_epoch > *epochs || presented.size() != epochs_done ||
        history.size() != epochs_done * static_cast<std::size_t>(*steps))
      throw Error("checkpoint does not match this training (" + std::to_string(n) + " nodes, " +
                  std::to_string(*epochs) + " epochs of " + std::to_string(*steps) + " steps)");
    s.weights.assign(weights.begin(), weights.end());
    s.pending_gains.assign(gains.begin(), gains.end());
    s.pending_states.assign(states.begin(), states.end());
    s.next_epoch = next_epoch;
    s.vfe.assign(history.begin(), history.end());
    s.order.assign(presented.begin(), presented.end());
  }

  bool checkpoint_due(const net::TrainState& s, Context& ctx, double last_save_seconds) const {
    if (s.next_epoch >= *epochs) return false;  // the result is about to be stored anyway
    return *checkpoint_every > 0
               ? s.next_epoch % *checkpoint_every == 0
               : ctx.seconds_since_checkpoint() >=
                     std::max(automatic_checkpoint_seconds, work_per_save_second * last_save_seconds);
  }

  void run(Context& ctx) override {
    const auto& data = *patterns;
    const std::size_t count = data.shape(0), n = data.shape(1);
    if (count == 0 || n == 0) throw Error("patterns must hold at least one pattern of one node, got " +
                                          std::to_string(count) + " x " + std::to_string(n));
    if (const auto bad = std::find_if(data.begin(), data.end(), [](float v) { return !std::isfinite(v); });
        bad != data.end())
      throw Error("patterns hold a non-finite value (pattern " +
                  std::to_string(static_cast<std::size_t>(bad - data.begin()) / n) + ")");
    const net::TrainParams p = train_params();
    const net::PatternSet set{data.data(), count, n};

    net::TrainState state(n);
    if (auto saved = ctx.load_checkpoint()) {
      restore(*saved, state);
      ctx.log("resuming from the checkpoint at epoch " + std::to_string(state.next_epoch));
    }
    const std::int64_t first_epoch = state.next_epoch;

    const auto start = std::chrono::steady_clock::now();
    double last_save_seconds = 0;
    std::int64_t slice = 1;
    while (state.next_epoch < *epochs) {
      std::int64_t end = std::min(*epochs, state.next_epoch + slice);
      if (*checkpoint_every > 0)  // stop exactly at the checkpoint epochs
        end = std::min(end, (state.next_epoch / *checkpoint_every + 1) * *checkpoint_every);
      const auto slice_start = std::chrono::steady_clock::now();
      net::train_epochs(state, set, p, ctx.rng(), end, kernel);
      const double slice_seconds = seconds_since(slice_start);
      // Clamped before rounding: a fast slice would otherwise grow it past int64.
      const double next_slice = static_cast<double>(slice) * seconds_per_slice / std::max(slice_seconds, 1e-6);
      slice = std::llround(std::clamp(next_slice, 1.0, static_cast<double>(*epochs)));

      // A cancelled run keeps its work: save it, then stop.
      if (ctx.cancelled() || checkpoint_due(state, ctx, last_save_seconds)) {
        const auto save_start = std::chrono::steady_clock::now();
        ctx.save_checkpoint(checkpoint_of(state));
        last_save_seconds = seconds_since(save_start);
      }
      report_progress(ctx, state, first_epoch, start);
    }
    net::apply_pending(state, p);

    const double seconds = seconds_since(start);
    const std::size_t tenth = std::max<std::size_t>(1, state.vfe.size() / 10);
    double last_tenth = 0;
    for (std::size_t s = state.vfe.size() - tenth; s < state.vfe.size(); ++s) last_tenth += state.vfe[s];
    ctx.metric("final_mean_vfe", last_tenth / static_cast<double>(tenth));
    ctx.metric("w_symmetry", symmetry_correlation(state.weights.data(), n));
    ctx.metric("steps_per_second", static_cast<double>((*epochs - first_epoch) * *steps) / std::max(seconds, 1e-9));
    publish(state);
  }

  void report_progress(Context& ctx, const net::TrainState& s, std::int64_t first_epoch,
                       std::chrono::steady_clock::time_point start) const {
    const double seconds = seconds_since(start);
    const double steps_per_second = static_cast<double>((s.next_epoch - first_epoch) * *steps) / seconds;
    double epoch_vfe = 0;
    for (std::int64_t k = 1; k <= *steps; ++k) epoch_vfe += s.vfe[s.vfe.size() - static_cast<std::size_t>(k)];
    // The framework adds the ETA from the fraction done.
    char detail[128];
    std::snprintf(detail, sizeof detail, "epoch %lld/%lld, VFE %.4g, %.0f steps/s",
                  static_cast<long long>(s.next_epoch), static_cast<long long>(*epochs),
                  epoch_vfe / static_cast<double>(*steps), steps_per_second);
    ctx.progress(static_cast<double>(s.next_epoch) / static_cast<double>(*epochs), detail);
  }

  // Moves the results to the outputs; W is copied once, then the training
  // state is freed before S and A are made (peak: three n x n arrays).
  void publish(net::TrainState& s) {
    const std::size_t n = s.nodes;
    xt::xarray<float> weights = xt::adapt(s.weights, shape2(n, n));
    s.weights = std::vector<float>();  // frees it (assigning {} would keep the capacity)
    auto sym = xt::xarray<float>::from_shape({n, n});
    auto anti = xt::xarray<float>::from_shape({n, n});
    const float* w = weights.data();
    for_each_pair_tiled(n, [&](std::size_t i, std::size_t j) {
      sym.data()[i * n + j] = 0.5f * (w[i * n + j] + w[j * n + i]);
      anti.data()[i * n + j] = 0.5f * (w[i * n + j] - w[j * n + i]);
    });
    vfe = xt::xarray<double>(xt::adapt(s.vfe, shape1(s.vfe.size())));
    order = xt::xarray<std::int64_t>(xt::adapt(s.order, shape1(s.order.size())));
    W = std::move(weights);
    symmetric = std::move(sym);
    antisymmetric = std::move(anti);
  }
};

}  // namespace

FEPFLOW_REGISTER_STAGE(Train, "train", stage_version,
                       "Stores patterns in an attractor network by local free-energy learning (W, VFE history)")
