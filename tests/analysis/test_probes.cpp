// The probe stages on a planted network (orthogonal +-1 patterns stored by
// the Hopfield outer-product rule, whose attractors are known), the greedy
// deduplication on hand-made states, and the shared probe arithmetic.
#include "analysis/deduplicate.hpp"
#include "analysis/probe_math.hpp"

#include <fepflow/random.hpp>
#include <fepflow/testing.hpp>

#include <catch2/catch.hpp>
#include <xtensor/xview.hpp>

#include <algorithm>
#include <bitset>
#include <cmath>
#include <numeric>
#include <set>
#include <vector>

namespace analysis = fepflow::analysis;
using fepflow::testing::run_stage;
using Catch::Matchers::Contains;

namespace {

constexpr std::size_t nodes = 64;

// Walsh function: (-1)^popcount(i & mask); distinct masks give orthogonal patterns.
std::vector<float> walsh(unsigned mask) {
  std::vector<float> p(nodes);
  for (std::size_t i = 0; i < nodes; ++i) p[i] = std::bitset<8>(i & mask).count() % 2 ? -1.0f : 1.0f;
  return p;
}

xt::xarray<float> rows_of(const std::vector<std::vector<float>>& rows) {
  auto a = xt::xarray<float>::from_shape({rows.size(), rows.at(0).size()});
  for (std::size_t r = 0; r < rows.size(); ++r) std::copy(rows[r].begin(), rows[r].end(), &a(r, 0));
  return a;
}

// W = (1/n) sum_p p p^T with a zero diagonal.
xt::xarray<float> hopfield(const std::vector<std::vector<float>>& patterns) {
  auto W = xt::xarray<float>::from_shape({nodes, nodes});
  for (std::size_t i = 0; i < nodes; ++i)
    for (std::size_t j = 0; j < nodes; ++j) {
      float sum = 0.0f;
      for (const auto& p : patterns) sum += p[i] * p[j];
      W(i, j) = i == j ? 0.0f : sum / static_cast<float>(nodes);
    }
  return W;
}

const std::vector<std::vector<float>> planted = {walsh(0x05), walsh(0x32)};

std::vector<float> row(const xt::xarray<float>& a, std::size_t r) {
  const std::size_t width = a.shape()[1];
  return std::vector<float>(a.data() + r * width, a.data() + (r + 1) * width);
}

double r_of(const std::vector<float>& a, const std::vector<float>& b) { return analysis::pearson(a.data(), b.data(), a.size()); }

std::string error_of(const std::string& type, const std::map<std::string, fepflow::ParamValue>& params,
                     const std::map<std::string, fepflow::Value>& inputs) {
  try {
    run_stage(type, params, inputs);
  } catch (const fepflow::Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

// ------------------------------------------------------------ deduplicate

TEST_CASE("deduplicate keeps states greedily in input order with a strict threshold", "[deduplicate]") {
  // Threshold 0.25 and entries exact in float32, so the edge is exact.
  const auto states = rows_of({{0.0f, 0.0f, 0.0f},
                               {0.125f, -0.125f, 0.24f},  // within 0.25 of state 0
                               {0.25f, 0.0f, 0.0f},       // exactly 0.25 from state 0: new
                               {0.375f, 0.0f, 0.125f},    // 0.375 from state 0, 0.125 from state 2
                               {0.2f, 0.2f, 0.2f},        // within reach of states 0 and 2: the first kept wins
                               {-1.0f, 1.0f, 0.0f}});
  const auto result = run_stage("deduplicate", {{"threshold", 0.25}}, {{"states", states}});
  CHECK(result.array<std::int64_t>("assignment") == xt::xarray<std::int64_t>{0, 0, 1, 1, 0, 2});
  CHECK(result.array<std::int64_t>("counts") == xt::xarray<std::int64_t>{3, 2, 1});
  const auto& unique = result.array<float>("unique");
  REQUIRE(unique.shape() == std::vector<std::size_t>{3, 3});
  CHECK(row(unique, 0) == row(states, 0));
  CHECK(row(unique, 1) == row(states, 2));
  CHECK(row(unique, 2) == row(states, 5));
  CHECK(result.metrics.at("unique") == 3.0);

  // Just inside the threshold, state 2 joins state 0.
  const auto inside = analysis::deduplicate(rows_of({{0.0f}, {std::nextafter(0.25f, 0.0f)}}).data(), 2, 1, 0.25);
  CHECK(inside.assignment == std::vector<std::int64_t>{0, 0});
  CHECK(inside.counts == std::vector<std::int64_t>{2});
}

TEST_CASE("deduplicate handles no states and the default threshold", "[deduplicate]") {
  const auto none = run_stage("deduplicate", {}, {{"states", xt::xarray<float>::from_shape({0, 4})}});
  CHECK(none.array<float>("unique").shape() == std::vector<std::size_t>{0, 4});
  CHECK(none.array<std::int64_t>("assignment").size() == 0);
  // Default 0.2: 0.19 apart is the same state, 0.21 apart is not.
  const auto two = run_stage("deduplicate", {}, {{"states", rows_of({{0.0f}, {0.19f}, {0.21f}})}});
  CHECK(two.array<std::int64_t>("assignment") == xt::xarray<std::int64_t>{0, 0, 1});
  CHECK_THAT(error_of("deduplicate", {{"threshold", 0.0}}, {{"states", rows_of({{0.0f}})}}), Contains("threshold"));
}

// ------------------------------------------------------ planted network

TEST_CASE("retention of planted patterns is 1 and of a foreign pattern is not", "[probes]") {
  std::vector<float> foreign(nodes);
  fepflow::RandomStream(9).fill_normal(foreign.data(), nodes);
  const auto result = run_stage("retention", {},
                                {{"W", hopfield(planted)}, {"patterns", rows_of({planted[0], planted[1], foreign})}});
  const auto& scores = result.array<float>("scores");
  CHECK(scores(0) > 0.9999);
  CHECK(scores(1) > 0.9999);
  CHECK(scores(2) < 0.9);
  CHECK(result.metrics.at("mean_r") == Approx((scores(0) + scores(1) + scores(2)) / 3.0));
  // A stored pattern is a fixed point: its chain stops long before 150 steps.
  CHECK(result.array<std::int64_t>("steps")(0) < 150);
  CHECK(r_of(row(result.array<float>("states"), 1), planted[1]) == Approx(scores(1)));
}

TEST_CASE("restarts find the planted patterns and their negatives, and nothing else", "[probes]") {
  const auto result = run_stage("restarts", {{"restarts", std::int64_t{40}}, {"beta", 10.0}}, {{"W", hopfield(planted)}});
  const auto& attractors = result.array<float>("attractors");
  REQUIRE(attractors.shape() == std::vector<std::size_t>{4, nodes});
  std::set<std::pair<int, int>> found;  // (pattern, sign)
  for (std::size_t a = 0; a < 4; ++a) {
    const auto state = row(attractors, a);
    for (int p = 0; p < 2; ++p) {
      const double r = r_of(state, planted[static_cast<std::size_t>(p)]);
      if (std::fabs(r) > 0.999) found.insert({p, r > 0 ? 1 : -1});
    }
  }
  CHECK(found.size() == 4);
  const auto& counts = result.array<std::int64_t>("counts");
  CHECK(std::accumulate(counts.begin(), counts.end(), std::int64_t{0}) == 40);
  CHECK(result.array<std::int64_t>("assignment").size() == 40);
  CHECK(result.metrics.at("unique_attractors") == 4.0);
  CHECK(result.metrics.at("not_converged") == 0.0);
  const auto& converged = result.array<std::int64_t>("converged");
  CHECK(std::all_of(converged.begin(), converged.end(), [](std::int64_t c) { return c == 1; }));
  const auto& steps = result.array<std::int64_t>("steps");
  CHECK(*std::max_element(steps.begin(), steps.end()) < 500);

  // Too few steps: no restart converges, and each still ends somewhere.
  const auto cut = run_stage("restarts", {{"restarts", std::int64_t{5}}, {"beta", 10.0}, {"max_steps", std::int64_t{1}}},
                             {{"W", hopfield(planted)}});
  CHECK(cut.metrics.at("not_converged") == 5.0);
  CHECK(cut.array<std::int64_t>("steps") == xt::xarray<std::int64_t>{1, 1, 1, 1, 1});
}

TEST_CASE("reconstruction improves on the noisy copies of planted patterns", "[probes]") {
  const auto patterns = rows_of(planted);
  const auto result = run_stage("reconstruction", {}, {{"W", hopfield(planted)}, {"patterns", patterns}});
  const auto& noisy_scores = result.array<float>("noisy_scores");
  const auto& scores = result.array<float>("scores");
  const auto& noisy = result.array<float>("noisy");
  for (std::size_t k = 0; k < 2; ++k) {
    CHECK(noisy_scores(k) == Approx(r_of(row(noisy, k), planted[k])));
    CHECK(scores(k) == Approx(r_of(row(result.array<float>("reconstructions"), k), planted[k])));
    CHECK(scores(k) > noisy_scores(k));
  }
  CHECK(result.metrics.at("noisy_r") == Approx((noisy_scores(0) + noisy_scores(1)) / 2.0));
  CHECK(result.metrics.at("reconstructed_r") == Approx((scores(0) + scores(1)) / 2.0));
  CHECK(result.metrics.at("gain") == Approx(result.metrics.at("reconstructed_r") - result.metrics.at("noisy_r")));
  CHECK(result.metrics.at("gain") > 0.1);
}

TEST_CASE("attractor_gallery shows distinct patterns over the states their free runs reach", "[probes]") {
  const auto W = hopfield(planted);
  const auto patterns = rows_of({planted[0], planted[1], walsh(0x0c)});
  const auto result = run_stage("attractor_gallery", {{"count", std::int64_t{3}}}, {{"W", W}, {"patterns", patterns}});
  const auto& indices = result.array<std::int64_t>("indices");
  CHECK(std::set<std::int64_t>(indices.begin(), indices.end()) == std::set<std::int64_t>{0, 1, 2});
  const auto& pairs = result.array<float>("pairs");
  REQUIRE(pairs.shape() == std::vector<std::size_t>{2, 3, nodes});
  const xt::xarray<float> shown = xt::view(pairs, 0);
  const xt::xarray<float> attractors = xt::view(pairs, 1);
  // The same free runs through the `relax` stage (beta 1, 150 steps).
  const auto relaxed = run_stage("relax", {{"steps", std::int64_t{150}}}, {{"W", W}, {"x0", shown}});
  CHECK(attractors == relaxed.array<float>("states"));
  for (std::size_t k = 0; k < 3; ++k) {
    CHECK(row(shown, k) == row(patterns, static_cast<std::size_t>(indices(k))));
    CHECK(result.array<float>("scores")(k) == Approx(r_of(row(attractors, k), row(shown, k))));
  }
  CHECK_THAT(error_of("attractor_gallery", {{"count", std::int64_t{4}}}, {{"W", W}, {"patterns", patterns}}),
             Contains("count") && Contains("3 rows"));
}

TEST_CASE("precision_grid lays out settings and scales each cell's own noisy cue", "[probes]") {
  const auto W = hopfield(planted);
  const auto patterns = rows_of(planted);
  const auto grid = run_stage("precision_grid", {{"count", std::int64_t{2}}, {"steps", std::int64_t{30}}},
                              {{"W", W}, {"patterns", patterns}});
  const auto& betas = grid.array<double>("betas");
  const auto& signals = grid.array<double>("signal_strengths");
  REQUIRE(betas.size() == 20);
  CHECK(betas(0) == 0.4);
  CHECK(betas(4) == 1.2);
  CHECK(betas(5) == 0.4);
  CHECK(signals(4) == 0.1);
  CHECK(signals(5) == 0.2);
  CHECK(signals(19) == 0.4);
  const auto& noisy = grid.array<float>("noisy");
  const auto& recon = grid.array<float>("reconstructions");
  const auto& rows = grid.array<float>("rows");
  REQUIRE(noisy.shape() == std::vector<std::size_t>{20, 2, nodes});
  REQUIRE(recon.shape() == std::vector<std::size_t>{20, 2, nodes});
  REQUIRE(rows.shape() == std::vector<std::size_t>{22, 2, nodes});
  const auto& indices = grid.array<std::int64_t>("indices");
  for (std::size_t k = 0; k < 2; ++k) {
    const auto& pattern = planted[static_cast<std::size_t>(indices(k))];
    CHECK(std::vector<float>(&rows(0, k, 0), &rows(0, k, 0) + nodes) == pattern);
    CHECK(std::equal(&rows(1, k, 0), &rows(1, k, 0) + nodes, &noisy(0, k, 0)));
    for (std::size_t s = 0; s < 20; ++s) {
      std::vector<float> cue(&noisy(s, k, 0), &noisy(s, k, 0) + nodes);
      std::vector<float> mean(&recon(s, k, 0), &recon(s, k, 0) + nodes);
      CHECK(std::equal(mean.begin(), mean.end(), &rows(2 + s, k, 0)));
      CHECK(grid.array<float>("noisy_scores")(s, k) == Approx(r_of(cue, pattern)));
      CHECK(grid.array<float>("scores")(s, k) == Approx(r_of(mean, pattern)));
      // cue / signal - pattern is the noise, with spread 2 std(p) = 2 (64 draws).
      double squares = 0.0;
      for (std::size_t i = 0; i < nodes; ++i) squares += std::pow(cue[i] / signals(s) - pattern[i], 2);
      CHECK(std::sqrt(squares / nodes) == Approx(2.0).margin(0.6));
    }
    // Every cell draws its own noise.
    CHECK(noisy(0, k, 0) / signals(0) != noisy(5, k, 0) / signals(5));
  }

  const auto pairs = run_stage("precision_grid",
                               {{"layout", std::string("pairs")}, {"betas", std::vector<double>{0.4, 0.7}},
                                {"signal_strengths", std::vector<double>{2.0, 1.0}}, {"steps", std::int64_t{5}}},
                               {{"W", W}, {"patterns", patterns}});
  CHECK(pairs.array<double>("betas") == xt::xarray<double>{0.4, 0.7});
  CHECK(pairs.array<double>("signal_strengths") == xt::xarray<double>{2.0, 1.0});
  CHECK(pairs.array<float>("scores").shape() == std::vector<std::size_t>{2, 1});
  CHECK_THAT(error_of("precision_grid", {{"layout", std::string("pairs")}, {"betas", std::vector<double>{0.4}}},
                      {{"W", W}, {"patterns", patterns}}),
             Contains("signal_strengths") && Contains("pairs"));
  CHECK_THAT(error_of("precision_grid", {{"betas", std::vector<double>{0.4, -1.0}}}, {{"W", W}, {"patterns", patterns}}),
             Contains("betas"));
}

TEST_CASE("Probe stages reject patterns that do not fit W", "[probes]") {
  const auto W = hopfield(planted);
  const auto narrow = xt::xarray<float>::from_shape({2, nodes - 1});
  for (const char* type : {"retention", "attractor_gallery", "reconstruction", "precision_grid"}) {
    INFO(type);
    CHECK_THAT(error_of(type, {}, {{"W", W}, {"patterns", narrow}}), Contains("'patterns'") && Contains("x 64"));
    CHECK_THAT(error_of(type, {}, {{"W", xt::xarray<float>::from_shape({3, 2})}, {"patterns", narrow}}),
               Contains("'W'") && Contains("square"));
  }
  auto with_inf = rows_of(planted);
  with_inf(1, 7) = INFINITY;
  CHECK_THAT(error_of("retention", {}, {{"W", W}, {"patterns", with_inf}}), Contains("Inf") && Contains("row 1"));
}

// ------------------------------------------------------------ probe math

TEST_CASE("Pearson r, standard deviation and pattern choice", "[probe_math]") {
  const std::vector<float> a = {1, 2, 3, 4}, b = {1, 3, 2, 4};
  CHECK(analysis::pearson(a.data(), b.data(), 4) == Approx(0.8).epsilon(1e-12));
  std::vector<float> scaled(4), flipped(4);
  for (std::size_t i = 0; i < 4; ++i) {
    scaled[i] = 2 * a[i] + 3;
    flipped[i] = -a[i];
  }
  CHECK(analysis::pearson(a.data(), scaled.data(), 4) == Approx(1.0).epsilon(1e-12));
  CHECK(analysis::pearson(a.data(), flipped.data(), 4) == Approx(-1.0).epsilon(1e-12));
  const std::vector<float> constant(4, 0.7f);
  CHECK(analysis::pearson(a.data(), constant.data(), 4) == 0.0);  // NumPy: NaN
  CHECK(analysis::standard_deviation(a.data(), 4) == Approx(std::sqrt(1.25)).epsilon(1e-12));

  const fepflow::RandomStream stream(4);
  auto all = analysis::choose_distinct(10, 10, stream);
  std::sort(all.begin(), all.end());
  CHECK(all == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  const auto few = analysis::choose_distinct(1000, 5, stream);
  CHECK(std::set<std::int64_t>(few.begin(), few.end()).size() == 5);
  CHECK(*std::max_element(few.begin(), few.end()) < 1000);
  CHECK_THROWS(analysis::choose_distinct(3, 4, stream));
}

TEST_CASE("Noisy copies add Gaussian noise scaled by the pattern's spread, then scale by the signal", "[probe_math]") {
  constexpr std::size_t n = 20000;
  std::vector<float> pattern(n);
  fepflow::RandomStream(5).fill_normal(pattern.data(), n);
  for (float& v : pattern) v = 3.0f * v + 1.0f;  // std 3
  const fepflow::RandomStream noise(6);
  std::vector<float> plain(n), scaled(n);
  analysis::noisy_copy(pattern.data(), n, 2.0, 1.0, noise, plain.data());
  analysis::noisy_copy(pattern.data(), n, 2.0, 0.5, noise, scaled.data());
  const double spread = 2.0 * analysis::standard_deviation(pattern.data(), n);
  double sum = 0.0, squares = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double z = (plain[i] - pattern[i]) / spread;
    sum += z;
    squares += z * z;
    CHECK(scaled[i] == Approx(0.5 * plain[i]).epsilon(1e-6).margin(1e-6));
  }
  // Five standard errors of a fixed seed.
  CHECK(std::fabs(sum / n) < 5.0 / std::sqrt(n));
  CHECK(std::sqrt(squares / n) == Approx(1.0).margin(5.0 / std::sqrt(2.0 * n)));
}
