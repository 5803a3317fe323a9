// The `train` stage through the framework's test harness: outputs, metrics,
// determinism, checkpoint slicing and parameter validation.
#include "network/train_kernels.hpp"

#include <fepflow/stage.hpp>
#include <fepflow/testing.hpp>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xtensor.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <utility>

namespace net = fepflow::network;
using fepflow::ParamValue;
using fepflow::testing::run_stage;

namespace {

constexpr std::size_t pattern_count = 3, nodes = 37;

xt::xarray<float> test_patterns() {
  xt::xarray<float> p = xt::empty<float>({pattern_count, nodes});
  fepflow::RandomStream(12).fill_normal(p.data(), p.size());
  return p;
}

std::map<std::string, ParamValue> small_training(std::int64_t checkpoint_every = 0) {
  return {{"evidence_level", 2.0}, {"beta", 0.6},   {"lr", 0.02},
          {"epochs", std::int64_t{30}}, {"steps", std::int64_t{6}}, {"checkpoint_every", checkpoint_every}};
}

fepflow::testing::StageResult train(const std::map<std::string, ParamValue>& params, int threads = 1,
                                     const std::string& name = "network") {
  fepflow::testing::StageRunOptions options;
  options.seed = 42;
  options.name = name;
  options.threads = threads;
  return run_stage("train", params, {{"patterns", fepflow::Value(test_patterns())}}, options);
}

}  // namespace

TEST_CASE("train: outputs are the deferred kernel's training, with S + A = W", "[train][stage]") {
  const auto result = train(small_training());
  const auto& W = result.array<float>("W");
  const auto& vfe = result.array<double>("vfe");
  const auto& order = result.array<std::int64_t>("order");
  REQUIRE(W.shape() == std::vector<std::size_t>{nodes, nodes});
  REQUIRE(vfe.size() == 30 * 6);
  REQUIRE(order.size() == 30);

  // The same training straight from the kernels, with the stage's stream.
  const auto patterns = test_patterns();
  net::TrainParams p;
  p.evidence_level = 2.0;
  p.beta = 0.6;
  p.lr = 0.02;
  p.epochs = 30;
  p.steps = 6;
  net::TrainState state(nodes);
  const auto rng = fepflow::RandomStream::for_stage(42, "network");
  net::train_epochs(state, {patterns.data(), pattern_count, nodes}, p, rng, p.epochs,
                    {net::UpdateKernel::deferred, 16});
  net::apply_pending(state, p);
  CHECK(std::equal(W.begin(), W.end(), state.weights.begin()));
  CHECK(std::equal(vfe.begin(), vfe.end(), state.vfe.begin()));
  CHECK(std::equal(order.begin(), order.end(), state.order.begin()));

  const auto& S = result.array<float>("symmetric");
  const auto& A = result.array<float>("antisymmetric");
  for (std::size_t i = 0; i < nodes; ++i) {
    CHECK(W(i, i) == 0.0f);
    for (std::size_t j = 0; j < nodes; ++j) {
      CHECK(S(i, j) == S(j, i));
      CHECK(A(i, j) == -A(j, i));
      CHECK(S(i, j) + A(i, j) == Approx(W(i, j)).margin(1e-7));
    }
  }

  double last_tenth = 0;
  for (std::size_t s = vfe.size() - 18; s < vfe.size(); ++s) last_tenth += vfe(s);
  CHECK(result.metrics.at("final_mean_vfe") == Approx(last_tenth / 18));
  CHECK(result.metrics.at("steps_per_second") > 0);
  const double symmetry = result.metrics.at("w_symmetry");
  CHECK(symmetry > -1.0);
  CHECK(symmetry < 1.0);
}

TEST_CASE("train: results do not depend on threads or on checkpointing", "[train][stage]") {
  const auto reference = train(small_training());
  for (const auto& [threads, checkpoint_every] : {std::pair{2, 0}, std::pair{1, 1}, std::pair{2, 7}}) {
    INFO(threads << " threads, checkpoint every " << checkpoint_every << " epochs");
    const auto other = train(small_training(checkpoint_every), threads);
    for (const char* port : {"W", "symmetric", "antisymmetric"})
      CHECK(other.array<float>(port) == reference.array<float>(port));
    CHECK(other.array<double>("vfe") == reference.array<double>("vfe"));
    CHECK(other.array<std::int64_t>("order") == reference.array<std::int64_t>("order"));
  }
  // The stream is keyed by the stage's name: another name, another training.
  CHECK(train(small_training(), 1, "other").array<float>("W") != reference.array<float>("W"));
}

TEST_CASE("train: parameters out of range and bad patterns are errors", "[train][stage]") {
  const auto rejects = [](const std::string& name, ParamValue value) {
    auto params = small_training();
    params[name] = value;
    INFO(name);
    CHECK_THROWS_AS(train(params), fepflow::ParamError);
  };
  rejects("lr", -1e-4);
  rejects("lr", 0.0);
  rejects("epochs", std::int64_t{0});
  rejects("steps", std::int64_t{-2});
  rejects("beta", std::numeric_limits<double>::quiet_NaN());
  rejects("evidence_level", std::numeric_limits<double>::infinity());
  rejects("checkpoint_every", std::int64_t{-1});

  auto patterns = test_patterns();
  patterns(1, 5) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(run_stage("train", small_training(), {{"patterns", fepflow::Value(patterns)}}),
                    Catch::Contains("non-finite value (pattern 1)"));
}
