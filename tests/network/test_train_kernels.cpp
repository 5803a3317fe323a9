// The training kernels against a straightforward implementation of SPEC.md
// section 3 (below, test-only), and their determinism guarantees.
#include "network/cb.hpp"
#include "network/fixture_reader.hpp"
#include "network/train_kernels.hpp"

#include <tbb/task_arena.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace net = fepflow::network;
namespace cb = fepflow::cb;
using fepflow::RandomStream;

namespace {

struct TrainResult {
  std::vector<float> W;
  std::vector<double> vfe;
  std::vector<std::int64_t> order;
};

// SPEC.md's training loop as written: h = W x, sample, W += lr (pi e) x'^T,
// re-zero the diagonal, one step after the other. It draws the same random
// numbers as the kernels (same substreams and indices).
TrainResult reference_training(const std::vector<float>& patterns, std::size_t n, const net::TrainParams& p,
                               const RandomStream& rng) {
  const std::size_t count = patterns.size() / n;
  TrainResult result;
  result.W.assign(n * n, 0.0f);
  std::vector<float> u(n), x(n), x_new(n), h(n), uniforms(n), gain(n);
  for (std::int64_t epoch = 0; epoch < p.epochs; ++epoch) {
    const auto k = rng.substream(net::pattern_order_substream).below(count, static_cast<std::uint64_t>(epoch));
    result.order.push_back(static_cast<std::int64_t>(k));
    for (std::size_t i = 0; i < n; ++i) u[i] = static_cast<float>(p.evidence_level * patterns[k * n + i]);
    std::fill(x.begin(), x.end(), 0.0f);
    for (std::int64_t j = 0; j < p.steps; ++j) {
      const auto step = static_cast<std::uint64_t>(epoch * p.steps + j);
      rng.substream(net::sample_noise_substream).substream(step).fill_uniform(uniforms.data(), n, 0);
      double vfe = 0;
      for (std::size_t i = 0; i < n; ++i) {
        double field = 0;
        for (std::size_t c = 0; c < n; ++c) field += static_cast<double>(result.W[i * n + c]) * x[c];
        h[i] = static_cast<float>(field);
        const double t = p.beta * (static_cast<double>(h[i]) + u[i]);
        x_new[i] = static_cast<float>(cb::sample(t, cb::open_uniform(uniforms[i])));
        const double error = x_new[i] - cb::langevin(h[i]);
        const double precision = p.precision_weighted ? 1.0 / std::max(cb::fisher(p.beta * h[i]), 1e-8) : 1.0;
        gain[i] = static_cast<float>(p.lr * precision * error);
        vfe += cb::log_partition(t) - t * x_new[i];
      }
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t c = 0; c < n; ++c) result.W[i * n + c] += gain[i] * x_new[c];
        if (p.zero_diagonal) result.W[i * n + i] = 0.0f;
      }
      result.vfe.push_back(vfe);
      x = x_new;
    }
  }
  return result;
}

TrainResult kernel_training(const std::vector<float>& patterns, std::size_t n, const net::TrainParams& p,
                            const RandomStream& rng, const net::KernelOptions& kernel) {
  net::TrainState state(n);
  net::train_epochs(state, {patterns.data(), patterns.size() / n, n}, p, rng, p.epochs, kernel);
  net::apply_pending(state, p);
  return {state.weights, state.vfe, state.order};
}

TrainResult with_threads(int threads, const std::vector<float>& patterns, std::size_t n, const net::TrainParams& p,
                         const RandomStream& rng, const net::KernelOptions& kernel) {
  tbb::task_arena arena(threads);
  return arena.execute([&] { return kernel_training(patterns, n, p, rng, kernel); });
}

// Z-scored Gaussian patterns (as the data stages would produce).
std::vector<float> gaussian_patterns(std::size_t count, std::size_t n, std::uint64_t seed) {
  std::vector<float> values(count * n);
  RandomStream(seed).fill_normal(values.data(), values.size());
  for (std::size_t k = 0; k < count; ++k) {
    double mean = 0, square = 0;
    for (std::size_t i = 0; i < n; ++i) mean += values[k * n + i];
    mean /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) square += (values[k * n + i] - mean) * (values[k * n + i] - mean);
    const double sd = std::sqrt(square / static_cast<double>(n));
    for (std::size_t i = 0; i < n; ++i) values[k * n + i] = static_cast<float>((values[k * n + i] - mean) / sd);
  }
  return values;
}

float max_abs(const std::vector<float>& a) {
  float m = 0;
  for (float v : a) m = std::max(m, std::fabs(v));
  return m;
}

float max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

net::TrainParams small_params() {
  net::TrainParams p;
  p.evidence_level = 1.5;
  p.beta = 0.7;
  p.lr = 0.01;
  p.epochs = 12;
  p.steps = 7;
  return p;
}

const net::KernelOptions every_kernel[] = {
    {net::UpdateKernel::naive_blas, 16}, {net::UpdateKernel::fused, 16},
    {net::UpdateKernel::deferred, 3},    {net::UpdateKernel::deferred, 16}};

const char* kernel_name(const net::KernelOptions& k) {
  switch (k.kernel) {
    case net::UpdateKernel::naive_blas: return "naive_blas";
    case net::UpdateKernel::fused: return "fused";
    case net::UpdateKernel::deferred: return k.deferral == 3 ? "deferred (3 steps)" : "deferred (16 steps)";
  }
  return "";
}

bool diagonal_is_zero(const std::vector<float>& W, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (W[i * n + i] != 0.0f) return false;
  return true;
}

}  // namespace

TEST_CASE("Every training kernel matches the reference training within float32 rounding", "[train]") {
  const RandomStream rng(7);
  for (std::size_t n : {std::size_t{45}, std::size_t{150}}) {  // tails in columns, several row chunks
    const auto patterns = gaussian_patterns(5, n, 11);
    for (bool precision_weighted : {false, true}) {
      for (bool zero_diagonal : {true, false}) {
        auto p = small_params();
        p.precision_weighted = precision_weighted;
        p.zero_diagonal = zero_diagonal;
        const TrainResult reference = reference_training(patterns, n, p, rng);
        for (const auto& kernel : every_kernel) {
          INFO("n = " << n << ", kernel " << kernel_name(kernel) << ", precision_weighted " << precision_weighted
                      << ", zero_diagonal " << zero_diagonal);
          const TrainResult result = kernel_training(patterns, n, p, rng, kernel);
          CHECK(result.order == reference.order);
          CHECK(max_abs_difference(result.W, reference.W) <= 1e-5f * max_abs(reference.W));
          REQUIRE(result.vfe.size() == reference.vfe.size());
          for (std::size_t s = 0; s < result.vfe.size(); ++s)
            CHECK(result.vfe[s] == Approx(reference.vfe[s]).epsilon(1e-5).margin(1e-6 * static_cast<double>(n)));
          CHECK(diagonal_is_zero(result.W, n) == zero_diagonal);
        }
      }
    }
  }
}

TEST_CASE("Training kernels give bit-identical results with 1 and 2 threads", "[train]") {
  const std::size_t n = 700;  // eleven row chunks of 64: two threads split them unevenly
  const auto patterns = gaussian_patterns(4, n, 3);
  const auto p = small_params();
  const RandomStream rng(99);
  for (const auto& kernel : every_kernel) {
    INFO("kernel " << kernel_name(kernel));
    const TrainResult one = with_threads(1, patterns, n, p, rng, kernel);
    for (int threads : {2}) {
      const TrainResult many = with_threads(threads, patterns, n, p, rng, kernel);
      CHECK(many.W == one.W);
      CHECK(many.vfe == one.vfe);
      CHECK(many.order == one.order);
    }
  }
}

TEST_CASE("The same seed gives the same training, another seed another", "[train]") {
  const std::size_t n = 40;
  const auto patterns = gaussian_patterns(6, n, 5);
  const auto p = small_params();
  const net::KernelOptions kernel;
  const TrainResult a = kernel_training(patterns, n, p, RandomStream(1), kernel);
  const TrainResult b = kernel_training(patterns, n, p, RandomStream(1), kernel);
  const TrainResult c = kernel_training(patterns, n, p, RandomStream(2), kernel);
  CHECK(a.W == b.W);
  CHECK(a.vfe == b.vfe);
  CHECK(a.order == b.order);
  CHECK(a.W != c.W);
  CHECK(a.order != c.order);
}

TEST_CASE("Training resumed from a saved state equals an uninterrupted run bit for bit", "[train]") {
  const std::size_t n = 70;
  const auto patterns = gaussian_patterns(3, n, 8);
  const auto p = small_params();  // 7 steps an epoch: deferred terms cross epoch boundaries
  const RandomStream rng(21);
  for (const auto& kernel : every_kernel) {
    INFO("kernel " << kernel_name(kernel));
    const TrainResult whole = kernel_training(patterns, n, p, rng, kernel);
    net::TrainState state(n);
    const net::PatternSet set{patterns.data(), 3, n};
    for (std::int64_t end : {1, 2, 5, 11, 12}) {
      net::TrainState restored = state;  // what a checkpoint keeps
      net::train_epochs(restored, set, p, rng, end, kernel);
      state = restored;
    }
    net::apply_pending(state, p);
    CHECK(state.weights == whole.W);
    CHECK(state.vfe == whole.vfe);
    CHECK(state.order == whole.order);
  }
}

TEST_CASE("A short training on synthetic patterns lowers the mean VFE", "[train]") {
  const std::size_t n = 64;
  const auto patterns = gaussian_patterns(3, n, 17);
  net::TrainParams p;
  p.evidence_level = 1.0;
  p.beta = 0.5;
  p.lr = 0.01;
  p.epochs = 200;
  p.steps = 5;
  const TrainResult result = kernel_training(patterns, n, p, RandomStream(4), {});
  const std::size_t tenth = result.vfe.size() / 10;
  double first = 0, last = 0;
  for (std::size_t s = 0; s < tenth; ++s) {
    first += result.vfe[s];
    last += result.vfe[result.vfe.size() - tenth + s];
  }
  INFO("mean VFE, first tenth " << first / tenth << ", last tenth " << last / tenth);
  CHECK(last < first);
}

TEST_CASE("Deterministic inference reproduces the 16-node reference trajectory", "[train][cb]") {
  using fepflow::test_fixtures::read_dataset;
  std::vector<std::size_t> shape;
  const auto W = read_dataset<float>("/infer/W");
  const auto b = read_dataset<float>("/infer/b");
  const auto u = read_dataset<float>("/infer/u");
  auto x = read_dataset<float>("/infer/x0");
  const auto trajectory = read_dataset<double>("/infer/trajectory", &shape);
  const double beta = fepflow::test_fixtures::read_double_attribute("/infer", "beta");
  const std::size_t n = x.size();
  REQUIRE(shape == std::vector<std::size_t>{20, n});
  // x <- L(beta (b + W x + u)), all nodes at once, in float32 state.
  std::vector<float> next(n);
  for (std::size_t step = 0; step < shape[0]; ++step) {
    for (std::size_t i = 0; i < n; ++i) {
      double field = 0;
      for (std::size_t j = 0; j < n; ++j) field += static_cast<double>(W[i * n + j]) * x[j];
      next[i] = static_cast<float>(cb::langevin(beta * (b[i] + field + u[i])));
    }
    x = next;
    for (std::size_t i = 0; i < n; ++i) {
      INFO("step " << step + 1 << ", node " << i);
      CHECK(std::fabs(x[i] - trajectory[step * n + i]) <= 1e-5);
    }
  }
}

TEST_CASE("Training parameters that are not positive and finite are rejected", "[train]") {
  const auto reject = [](auto change) {
    auto p = small_params();
    change(p);
    CHECK_THROWS_AS(net::validate(p), std::invalid_argument);
    net::TrainState state(8);
    const std::vector<float> pattern(8, 1.0f);
    CHECK_THROWS_AS(net::train_epochs(state, {pattern.data(), 1, 8}, p, RandomStream(0), 0), std::invalid_argument);
  };
  reject([](net::TrainParams& p) { p.lr = -1e-4; });
  reject([](net::TrainParams& p) { p.lr = 0; });
  reject([](net::TrainParams& p) { p.epochs = 0; });
  reject([](net::TrainParams& p) { p.steps = -3; });
  reject([](net::TrainParams& p) { p.beta = std::numeric_limits<double>::quiet_NaN(); });
  reject([](net::TrainParams& p) { p.evidence_level = std::numeric_limits<double>::infinity(); });
  CHECK_NOTHROW(net::validate(small_params()));
}

TEST_CASE("A state with deferred updates is only continued by the kernel that left it", "[train]") {
  const std::size_t n = 16;
  const auto patterns = gaussian_patterns(2, n, 1);
  const auto p = small_params();
  const net::PatternSet set{patterns.data(), 2, n};
  net::TrainState state(n);
  net::train_epochs(state, set, p, RandomStream(0), 1, {net::UpdateKernel::deferred, 16});
  REQUIRE(state.pending_count() == 7);
  CHECK_THROWS_AS(net::train_epochs(state, set, p, RandomStream(0), 2, {net::UpdateKernel::naive_blas, 16}),
                  std::invalid_argument);
  CHECK_THROWS_AS(net::train_epochs(state, set, p, RandomStream(0), 2, {net::UpdateKernel::deferred, 4}),
                  std::invalid_argument);
}
