// The inference engine (network/relax_kernels) and the `relax` stage against
// the reference trajectory of the fixtures, the CB functions of network/cb.hpp,
// and a plain chain-by-chain loop written here in double precision.
#include "network/cb.hpp"
#include "network/fixture_reader.hpp"
#include "network/relax_kernels.hpp"

#include <fepflow/random.hpp>
#include <fepflow/testing.hpp>

#include <catch2/catch.hpp>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace cb = fepflow::cb;
namespace net = fepflow::network;
using fepflow::RandomStream;
using fepflow::test_fixtures::read_dataset;

namespace {

std::vector<float> normals(std::size_t count, double scale, std::uint64_t seed) {
  std::vector<float> values(count);
  RandomStream(seed).fill_normal(values.data(), count);
  for (float& v : values) v = static_cast<float>(scale * v);
  return values;
}

// A random coupling matrix whose free runs contract (|beta W| well below 3,
// L'(0) = 1/3), so float32 and float64 runs stay within rounding of each other.
std::vector<float> contracting_weights(std::size_t n, std::uint64_t seed) {
  auto W = normals(n * n, 1.0 / std::sqrt(static_cast<double>(n)), seed);
  for (std::size_t i = 0; i < n; ++i) W[i * n + i] = 0.0f;
  return W;
}

struct Chain {
  std::vector<double> final_state, mean_state;
  std::int64_t steps = 0;
  bool converged = false;
};

// One chain, step by step in double: the definition of SPEC.md section 3.
Chain reference_chain(const std::vector<float>& W, std::size_t n, const float* x0, const float* u, double beta,
                      const net::RelaxSettings& settings, const RandomStream* noise) {
  std::vector<double> x(x0, x0 + n), x_new(n), sum(n, 0.0);
  std::vector<float> uniforms(n);
  Chain chain;
  const std::int64_t start = net::mean_start(settings.steps, settings.burn_in);
  for (std::int64_t step = 1; step <= settings.steps; ++step) {
    if (noise) noise->fill_uniform(uniforms.data(), n, static_cast<std::size_t>(step - 1) * n);
    double largest_change = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      double h = 0.0;
      for (std::size_t j = 0; j < n; ++j) h += static_cast<double>(W[i * n + j]) * x[j];
      const double t = beta * (h + (u ? static_cast<double>(u[i]) : 0.0));
      x_new[i] = noise ? cb::sample(t, cb::open_uniform(uniforms[i])) : cb::langevin(t);
      largest_change = std::max(largest_change, std::fabs(x_new[i] - x[i]));
    }
    x = x_new;
    if (step - 1 >= start)
      for (std::size_t i = 0; i < n; ++i) sum[i] += x[i];
    chain.steps = step;
    if (settings.tol > 0.0 && largest_change < settings.tol) {
      chain.converged = true;
      for (std::int64_t later = std::max(step, start); later < settings.steps; ++later)
        for (std::size_t i = 0; i < n; ++i) sum[i] += x[i];
      break;
    }
  }
  chain.final_state = x;
  chain.mean_state.resize(n);
  for (std::size_t i = 0; i < n; ++i) chain.mean_state[i] = sum[i] / static_cast<double>(settings.steps - start);
  return chain;
}

double largest_difference(const float* a, const double* b, std::size_t n) {
  double largest = 0.0;
  for (std::size_t i = 0; i < n; ++i) largest = std::max(largest, std::fabs(static_cast<double>(a[i]) - b[i]));
  return largest;
}

net::RelaxResult relax_with_threads(int threads, const net::RelaxProblem& problem, const net::RelaxSettings& settings,
                                    const std::optional<RandomStream>& noise) {
  tbb::task_arena arena(threads);
  net::RelaxResult result;
  arena.execute([&] { result = net::relax(problem, settings, noise); });
  return result;
}

// `chains` rows of x0 relaxing on W (n x n), without input until the test sets one.
net::RelaxProblem free_chains(const std::vector<float>& W, std::size_t n, const std::vector<float>& x0,
                              std::size_t chains) {
  net::RelaxProblem problem;
  problem.weights = W.data();
  problem.nodes = n;
  problem.starts = x0.data();
  problem.chains = chains;
  return problem;
}

xt::xarray<float> as_array(const std::vector<float>& values, std::vector<std::size_t> shape) {
  auto a = xt::xarray<float>::from_shape(shape);
  std::copy(values.begin(), values.end(), a.begin());
  return a;
}

}  // namespace

TEST_CASE("relax reproduces the 16-node reference trajectory step by step", "[relax]") {
  std::vector<std::size_t> shape;
  const auto W = read_dataset<float>("/infer/W", &shape);
  const std::size_t n = shape.at(0);
  const auto bias = read_dataset<float>("/infer/b");
  const auto u = read_dataset<float>("/infer/u");
  const auto x0 = read_dataset<float>("/infer/x0");
  const auto trajectory = read_dataset<double>("/infer/trajectory", &shape);
  const double beta = fepflow::test_fixtures::read_double_attribute("/infer", "beta");
  const auto steps = static_cast<std::int64_t>(shape.at(0));
  REQUIRE(n == 16);
  REQUIRE(steps == 20);

  // The engine has no bias (SPEC.md: b = 0 in this project); b + u is the same input.
  std::vector<float> input(n);
  for (std::size_t i = 0; i < n; ++i) input[i] = bias[i] + u[i];
  const auto result = fepflow::testing::run_stage(
      "relax", {{"beta", beta}, {"steps", steps}, {"keep_trajectory", true}},
      {{"W", as_array(W, {n, n})}, {"x0", as_array(x0, {1, n})}, {"u", as_array(input, {n})}});
  const auto& states = result.array<float>("trajectory");
  REQUIRE(states.shape() == std::vector<std::size_t>{static_cast<std::size_t>(steps), 1, n});
  for (std::int64_t k = 0; k < steps; ++k) {
    INFO("step " << k + 1);
    CHECK(largest_difference(&states(k, 0, 0), trajectory.data() + k * n, n) <= 1e-5);
  }
  CHECK(result.array<std::int64_t>("steps")(0) == steps);
  CHECK(result.array<std::int64_t>("converged")(0) == 0);
  CHECK(largest_difference(&result.array<float>("states")(0, 0), trajectory.data() + (steps - 1) * n, n) <= 1e-5);
}

TEST_CASE("relax applies the CB mean and sampler of cb.hpp to every node", "[relax]") {
  // W = 0 and beta = 1 make t = u exactly: one step maps u through the CB unit.
  const std::vector<float> t = {0.0f,  1e-7f,  -1e-7f, 0.05f, -0.0999f, 0.1f,  -0.1001f, 0.3f,  -0.49f, 0.5f,
                                0.51f, -1.0f,  2.5f,   -7.0f, 19.9f,    20.0f, -20.1f,   88.0f, -1e3f,  1e4f,
                                0.7f,  -0.33f, 4.0f};  // 23 nodes: vector lanes and a scalar tail
  const std::size_t n = t.size();
  const std::vector<float> W(n * n, 0.0f);
  const std::vector<float> x0(2 * n, 0.5f);
  net::RelaxProblem problem;
  problem.weights = W.data();
  problem.nodes = n;
  problem.starts = x0.data();
  problem.chains = 2;
  problem.inputs = t.data();
  problem.input_layout = net::InputLayout::shared;
  net::RelaxSettings settings;
  settings.steps = 1;

  const auto mean = net::relax(problem, settings);
  settings.mode = net::RelaxMode::stochastic;
  const RandomStream noise(77);
  const auto sampled = net::relax(problem, settings, noise);
  for (std::size_t c = 0; c < 2; ++c) {
    std::vector<float> u01(n);
    noise.substream(c).fill_uniform(u01.data(), n);
    for (std::size_t i = 0; i < n; ++i) {
      INFO("t = " << t[i] << ", chain " << c);
      const double expected_mean = cb::langevin(t[i]);
      CHECK(std::fabs(mean.final_states[c * n + i] - expected_mean) <= 1e-7 * std::max(1e-3, std::fabs(expected_mean)));
      CHECK(std::fabs(sampled.final_states[c * n + i] - cb::sample(t[i], cb::open_uniform(u01[i]))) <= 1e-7);
    }
  }
}

TEST_CASE("Batched relax equals chain-by-chain relax for any batch size and thread count", "[relax]") {
  const std::size_t n = 37, chains = 23;  // neither a whole register tile nor a whole panel
  const auto W = contracting_weights(n, 5);
  const auto x0 = normals(chains * n, 0.5, 6);
  const auto u = normals(chains * n, 0.8, 7);
  std::vector<double> betas(chains);
  for (std::size_t c = 0; c < chains; ++c) betas[c] = 0.5 + 0.05 * static_cast<double>(c);
  auto problem = free_chains(W, n, x0, chains);
  problem.inputs = u.data();
  problem.input_layout = net::InputLayout::per_chain;
  problem.chain_betas = betas;
  const RandomStream noise(8);

  for (auto mode : {net::RelaxMode::deterministic, net::RelaxMode::stochastic}) {
    const bool stochastic = mode == net::RelaxMode::stochastic;
    net::RelaxSettings settings;
    settings.steps = 10;
    settings.mode = mode;
    settings.burn_in = 4;
    settings.tol = stochastic ? 0.0 : 1e-4;
    std::vector<Chain> reference;
    for (std::size_t c = 0; c < chains; ++c) {
      const RandomStream chain_noise = noise.substream(c);
      reference.push_back(reference_chain(W, n, x0.data() + c * n, u.data() + c * n, betas[c], settings,
                                          stochastic ? &chain_noise : nullptr));
    }
    const auto first = relax_with_threads(1, problem, settings, noise);
    for (std::size_t batch : {std::size_t{1}, std::size_t{7}, std::size_t{0}})
      for (int threads : {1, 2}) {
        settings.batch_size = batch;
        const auto result = relax_with_threads(threads, problem, settings, noise);
        for (std::size_t c = 0; c < chains; ++c) {
          INFO((stochastic ? "stochastic" : "deterministic") << ", batch " << batch << ", threads " << threads
                                                             << ", chain " << c);
          CHECK(largest_difference(&result.final_states[c * n], reference[c].final_state.data(), n) <= 1e-5);
          CHECK(largest_difference(&result.mean_states[c * n], reference[c].mean_state.data(), n) <= 1e-5);
          CHECK(result.steps_taken[c] == reference[c].steps);
          CHECK(result.converged[c] == (reference[c].converged ? 1 : 0));
        }
        // A chain's product is one FMA chain in node order whatever its batch
        // or thread: every split gives the same bits.
        CHECK(result.final_states == first.final_states);
        CHECK(result.mean_states == first.mean_states);
      }
    // Deterministic chains stop at different steps (the batch shrinks); stochastic ones never.
    const auto stopped = std::count(first.converged.begin(), first.converged.end(), 1);
    if (stochastic)
      CHECK(stopped == 0);
    else
      CHECK((stopped > 0 && stopped < static_cast<std::ptrdiff_t>(chains)));
  }
}

TEST_CASE("A chain stops at an exact fixed point and keeps its state for the mean and trajectory", "[relax]") {
  // W = 0: step 1 jumps to L(beta u), which step 2 repeats exactly.
  const std::size_t n = 5;
  const std::vector<float> W(n * n, 0.0f);
  const std::vector<float> x0 = {0.9f, -0.9f, 0.1f, 0.0f, 0.5f};
  const std::vector<float> u = {1.0f, -2.0f, 0.0f, 0.3f, 5.0f};
  const auto result = fepflow::testing::run_stage(
      "relax", {{"beta", 1.5}, {"steps", std::int64_t{9}}, {"burn_in", std::int64_t{3}}, {"keep_trajectory", true}},
      {{"W", as_array(W, {n, n})}, {"x0", as_array(x0, {1, n})}, {"u", as_array(u, {1, n})}});
  CHECK(result.array<std::int64_t>("steps")(0) == 2);
  CHECK(result.array<std::int64_t>("converged")(0) == 1);
  const auto& trajectory = result.array<float>("trajectory");
  for (std::size_t i = 0; i < n; ++i) {
    const auto fixed_point = static_cast<float>(cb::langevin(1.5 * u[i]));
    CHECK(result.array<float>("states")(0, i) == fixed_point);
    CHECK(result.array<float>("mean")(0, i) == Approx(fixed_point).margin(1e-7));
    for (std::size_t k = 0; k < 9; ++k) CHECK(trajectory(k, 0, i) == fixed_point);
  }
  CHECK(result.metrics.at("not_converged") == 0.0);
}

TEST_CASE("A chain found in an exact 2-cycle stops and its results are those of running on", "[relax]") {
  // W = -I and a huge beta: L(t) rounds to exactly -sign(x) in float32, so
  // x0 = 0.5 gives -1, 1, -1, ...: step 3 repeats step 1.
  const std::size_t n = 3;
  std::vector<float> W(n * n, 0.0f);
  for (std::size_t i = 0; i < n; ++i) W[i * n + i] = -1.0f;
  const std::vector<float> x0 = {0.5f, -0.25f, 0.75f};
  const auto problem = free_chains(W, n, x0, 1);
  net::RelaxSettings settings;
  settings.beta = 1e12;
  settings.burn_in = 2;
  settings.keep_trajectory = true;
  for (std::int64_t steps : {8, 9}) {
    INFO(steps << " steps");
    settings.steps = steps;
    const auto result = net::relax(problem, settings);
    CHECK(result.cycle_found[0] == 3);
    CHECK(result.steps_taken[0] == steps);
    CHECK(result.converged[0] == 0);
    for (std::size_t i = 0; i < n; ++i) {
      const float first = x0[i] > 0 ? -1.0f : 1.0f;  // the state after odd steps
      CHECK(result.final_states[i] == (steps % 2 == 1 ? first : -first));
      for (std::int64_t s = 1; s <= steps; ++s)
        CHECK(result.trajectory[static_cast<std::size_t>(s - 1) * n + i] == (s % 2 == 1 ? first : -first));
      // Steps 3 .. steps are averaged: 8 steps give 3 odd and 3 even states, 9 give 4 odd and 3 even.
      const double expected_mean = steps == 8 ? 0.0 : first / 7.0;
      CHECK(result.mean_states[i] == Approx(expected_mean).margin(1e-7));
    }
  }
}

TEST_CASE("Chains settling into a 2-cycle end as the step-by-step reference does", "[relax]") {
  // A strong negative self-coupling makes every node flip sign each step; the
  // float32 chains reach an exact 2-cycle and stop there, the double
  // reference runs every step. An odd and an even step count check the phase.
  const std::size_t n = 24, chains = 5;
  auto W = normals(n * n, 0.1 / std::sqrt(static_cast<double>(n)), 31);
  for (std::size_t i = 0; i < n; ++i) W[i * n + i] = -6.0f;
  const auto x0 = normals(chains * n, 0.5, 32);
  const auto problem = free_chains(W, n, x0, chains);
  net::RelaxSettings settings;
  settings.burn_in = 5;
  for (std::int64_t steps : {300, 301}) {
    settings.steps = steps;
    const auto result = net::relax(problem, settings);
    for (std::size_t c = 0; c < chains; ++c) {
      INFO(steps << " steps, chain " << c);
      CHECK(result.cycle_found[c] > 2);
      CHECK(result.cycle_found[c] < 100);
      CHECK(result.steps_taken[c] == steps);
      const auto reference = reference_chain(W, n, x0.data() + c * n, nullptr, 1.0, settings, nullptr);
      CHECK(largest_difference(&result.final_states[c * n], reference.final_state.data(), n) <= 1e-5);
      CHECK(largest_difference(&result.mean_states[c * n], reference.mean_state.data(), n) <= 1e-5);
    }
  }
}

TEST_CASE("relax stops chains by tolerance and averages after the clamped burn-in", "[relax]") {
  const std::size_t n = 12, chains = 3;
  const auto W = contracting_weights(n, 11);
  const auto x0 = normals(chains * n, 0.7, 12);
  const auto problem = free_chains(W, n, x0, chains);
  net::RelaxSettings settings;
  settings.steps = 50;
  settings.tol = 1e-4;
  settings.burn_in = 1000;  // clamped to steps - 1: the mean is the last state
  settings.beta = 2.0;
  const auto result = net::relax(problem, settings);
  for (std::size_t c = 0; c < chains; ++c) {
    const auto reference = reference_chain(W, n, x0.data() + c * n, nullptr, 2.0, settings, nullptr);
    CHECK(reference.converged);
    CHECK(result.steps_taken[c] == reference.steps);
    CHECK(result.steps_taken[c] < 50);
    for (std::size_t i = 0; i < n; ++i) CHECK(result.mean_states[c * n + i] == result.final_states[c * n + i]);
  }
  CHECK(net::mean_start(100, 5) == 5);
  CHECK(net::mean_start(100, 1000) == 99);
  CHECK(net::mean_start(1, 5) == 0);
}

TEST_CASE("A stochastic relax run is bit-identical run to run and keyed by its stream", "[relax]") {
  const std::size_t n = 20, chains = 4;
  const auto W = contracting_weights(n, 21);
  const auto x0 = normals(chains * n, 0.5, 22);
  const std::map<std::string, fepflow::Value> inputs{{"W", as_array(W, {n, n})}, {"x0", as_array(x0, {chains, n})}};
  const std::map<std::string, fepflow::ParamValue> params{{"mode", std::string("stochastic")}, {"steps", std::int64_t{15}}};
  fepflow::testing::StageRunOptions options;
  options.seed = 3;
  const auto once = fepflow::testing::run_stage("relax", params, inputs, options);
  const auto again = fepflow::testing::run_stage("relax", params, inputs, options);
  options.seed = 4;
  const auto other_seed = fepflow::testing::run_stage("relax", params, inputs, options);
  CHECK(once.array<float>("states") == again.array<float>("states"));
  CHECK(once.array<float>("states") != other_seed.array<float>("states"));
  CHECK(once.array<float>("trajectory").shape() == std::vector<std::size_t>{0, chains, n});
}

TEST_CASE("relax rejects bad inputs and parameters with clear errors", "[relax]") {
  const std::size_t n = 4;
  const auto W = as_array(contracting_weights(n, 31), {n, n});
  const auto x0 = as_array(std::vector<float>(2 * n, 0.1f), {2, n});
  auto message_of = [](const std::map<std::string, fepflow::ParamValue>& params,
                       const std::map<std::string, fepflow::Value>& inputs) {
    try {
      fepflow::testing::run_stage("relax", params, inputs);
    } catch (const fepflow::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  using Catch::Matchers::Contains;
  CHECK_THAT(message_of({}, {{"W", as_array(std::vector<float>(12, 0.0f), {3, 4})}, {"x0", x0}}),
             Contains("'W'") && Contains("3 x 4") && Contains("square"));
  CHECK_THAT(message_of({}, {{"W", W}, {"x0", as_array(std::vector<float>(10, 0.0f), {2, 5})}}),
             Contains("'x0'") && Contains("2 x 5") && Contains("x 4"));
  CHECK_THAT(message_of({{"beta", 0.0}}, {{"W", W}, {"x0", x0}}), Contains("beta") && Contains("> 0"));
  CHECK_THAT(message_of({{"beta", -1.0}}, {{"W", W}, {"x0", x0}}), Contains("beta"));
  auto with_nan = W;
  with_nan(2, 1) = std::nanf("");
  CHECK_THAT(message_of({}, {{"W", with_nan}, {"x0", x0}}), Contains("'W'") && Contains("NaN") && Contains("row 2, column 1"));
  CHECK_THAT(message_of({}, {{"W", W}, {"x0", x0}, {"u", as_array(std::vector<float>(3, 0.0f), {3})}}),
             Contains("'u'") && Contains("2 x 4"));
  CHECK_THAT(message_of({{"mode", std::string("annealed")}}, {{"W", W}, {"x0", x0}}), Contains("mode"));
}
