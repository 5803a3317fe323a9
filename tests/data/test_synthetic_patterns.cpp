// The synthetic_patterns stage: Gaussian (z-scored rows) and sparse ternary patterns.
#include "data/reference.hpp"
#include "data/synthetic_patterns.hpp"

#include <fepflow/testing.hpp>

#include <catch2/catch.hpp>

using namespace fepflow;
using Catch::Matchers::Contains;
using fepflow::testing::run_stage;

TEST_CASE("synthetic_patterns: Gaussian rows are z-scored and seeded", "[data][synthetic]") {
  const RandomStream stream(11);
  const auto patterns = data::gaussian_patterns(5, 300, stream);
  REQUIRE(test::shape_of(patterns) == std::vector<std::size_t>{5, 300});
  for (std::size_t p = 0; p < 5; ++p) {
    double sum = 0.0, squares = 0.0;
    for (std::size_t i = 0; i < 300; ++i) sum += patterns(p, i);
    for (std::size_t i = 0; i < 300; ++i) squares += patterns(p, i) * patterns(p, i);
    CHECK(sum / 300 == Approx(0.0).margin(1e-6));
    CHECK(squares / 300 == Approx(1.0).epsilon(1e-5));
  }
  CHECK((patterns == data::gaussian_patterns(5, 300, stream)));
  CHECK((patterns != data::gaussian_patterns(5, 300, RandomStream(12))));
  // Rows are distinct draws, not one row repeated.
  CHECK(patterns(0, 0) != patterns(1, 0));
}

TEST_CASE("synthetic_patterns: sparse ternary entries follow the sparsity", "[data][synthetic]") {
  const RandomStream stream(5);
  const std::size_t n = 200 * 1000;
  for (double sparsity : {0.2, 0.5}) {
    const auto patterns = data::sparse_ternary_patterns(200, 1000, sparsity, stream);
    const auto count = [&](float value) {
      return static_cast<std::size_t>(std::count(patterns.begin(), patterns.end(), value));
    };
    const std::size_t plus = count(1.0f), minus = count(-1.0f), zero = count(0.0f);
    INFO("sparsity " << sparsity << ": +1 " << plus << ", -1 " << minus << ", 0 " << zero);
    REQUIRE(plus + minus + zero == n);
    // Binomial counts: these margins are more than 10 standard deviations.
    CHECK(std::abs(static_cast<double>(plus + minus) - sparsity * n) < 0.01 * n);
    CHECK(std::abs(static_cast<double>(plus) - static_cast<double>(minus)) < 0.01 * n);
  }
  CHECK((data::sparse_ternary_patterns(3, 50, 0.0, stream) == xt::zeros<float>({3, 50})));
  const auto dense = data::sparse_ternary_patterns(3, 50, 1.0, stream);
  CHECK(std::all_of(dense.begin(), dense.end(), [](float v) { return v == 1.0f || v == -1.0f; }));
}

TEST_CASE("synthetic_patterns stage: kinds, seeds and parameter errors", "[data][synthetic]") {
  const std::map<std::string, ParamValue> sparse = {{"kind", std::string("sparse_ternary")},
                                                    {"n_patterns", std::int64_t{10}},
                                                    {"n_nodes", std::int64_t{64}}};
  fepflow::testing::StageRunOptions options;
  options.seed = 3;
  const auto a = run_stage("synthetic_patterns", sparse, {}, options);
  const auto b = run_stage("synthetic_patterns", sparse, {}, options);
  CHECK(test::shape_of(a.array<float>("patterns")) == std::vector<std::size_t>{10, 64});
  CHECK((a.array<float>("patterns") == b.array<float>("patterns")));

  auto gaussian = sparse;
  gaussian["kind"] = std::string("gaussian");
  CHECK((a.array<float>("patterns") !=
         run_stage("synthetic_patterns", gaussian, {}, options).array<float>("patterns")));

  auto unknown = sparse;
  unknown["kind"] = std::string("uniform");
  const auto f = test::failure_of([&] { run_stage("synthetic_patterns", unknown, {}); });
  CHECK_THAT(f.message, Contains("kind") && Contains("sparse_ternary"));

  auto too_sparse = sparse;
  too_sparse["sparsity"] = 1.5;
  CHECK_THAT(test::failure_of([&] { run_stage("synthetic_patterns", too_sparse, {}); }).message,
             Contains("sparsity"));
}
