// The continuous Bernoulli functions against the float64 reference values of
// the fixtures, long-double closed forms at the branch boundaries, and the
// sampler's moments.
#include "network/cb.hpp"
#include "network/fixture_reader.hpp"

#include <fepflow/random.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

namespace cb = fepflow::cb;
using fepflow::test_fixtures::read_dataset;

namespace {

bool within_relative(double value, double reference, double tolerance) {
  return std::isfinite(value) && std::fabs(value - reference) <= tolerance * std::fabs(reference);
}

// Closed forms in long double (64-bit mantissa): accurate enough away from 0,
// where the cancellation in coth t - 1/t costs only a few digits.
long double langevin_closed(long double t) { return std::cosh(t) / std::sinh(t) - 1.0L / t; }
long double log_partition_closed(long double t) { return std::log(2.0L * std::sinh(t) / t); }
long double fisher_closed(long double t) {
  const long double s = std::sinh(t);
  return 1.0L / (t * t) - 1.0L / (s * s);
}
long double sample_closed(long double t, long double u) {
  return std::log((1.0L - u) * std::exp(-t) + u * std::exp(t)) / t;
}

// Float32 values straddling a branch boundary b, both signs.
std::vector<float> around(float b) {
  return {std::nextafter(b, 0.0f), b, std::nextafter(b, 2 * b), -std::nextafter(b, 0.0f), -b,
          -std::nextafter(b, 2 * b)};
}

}  // namespace

TEST_CASE("CB functions match the float64 reference grid to 1e-5 relative", "[cb]") {
  const auto t = read_dataset<double>("/cb/t");
  const auto mean = read_dataset<double>("/cb/langevin");
  const auto psi = read_dataset<double>("/cb/log_partition");
  const auto g = read_dataset<double>("/cb/fisher");
  REQUIRE(t.size() == 121);

  std::vector<float> t32(t.begin(), t.end());
  std::vector<float> mean32(t.size()), psi32(t.size()), g32(t.size());
  cb::langevin(t32.data(), mean32.data(), t32.size());
  cb::log_partition(t32.data(), psi32.data(), t32.size());
  cb::fisher(t32.data(), g32.data(), t32.size());

  for (std::size_t i = 0; i < t.size(); ++i) {
    INFO("t = " << t[i]);
    CHECK(within_relative(cb::langevin(t32[i]), mean[i], 1e-5));
    CHECK(within_relative(cb::log_partition(t32[i]), psi[i], 1e-5));
    CHECK(within_relative(cb::fisher(t32[i]), g[i], 1e-5));
    CHECK(within_relative(mean32[i], mean[i], 1e-5));
    CHECK(within_relative(psi32[i], psi[i], 1e-5));
    CHECK(within_relative(g32[i], g[i], 1e-5));
  }
}

TEST_CASE("CB functions are accurate on both sides of every branch and up to |t| = 1e4", "[cb]") {
  std::vector<float> points;
  for (float boundary : {0.1f, 0.5f, 20.0f, 1e-6f})
    for (float t : around(boundary)) points.push_back(t);
  for (float t : {1e-3f, 0.3f, 1.0f, 3.0f, 19.0f, 21.0f, 88.0f, 500.0f, 2000.0f, 9999.0f, 1e4f}) {
    points.push_back(t);
    points.push_back(-t);
  }
  for (float t : points) {
    const long double tl = t;
    INFO("t = " << t);
    if (std::fabs(t) >= 1e-3f) {  // the closed forms cancel below that
      CHECK(within_relative(cb::langevin(t), static_cast<double>(langevin_closed(tl)), 1e-5));
      CHECK(within_relative(cb::fisher(t), static_cast<double>(fisher_closed(tl)), 1e-5));
    }
    CHECK(within_relative(cb::log_partition(t), static_cast<double>(log_partition_closed(tl)), 1e-5));
    for (double u : {1e-7, 0.01, 0.3, 0.5, 0.77, 0.999, 1 - 1e-7}) {
      const double reference =
          std::fmin(std::fmax(static_cast<double>(sample_closed(tl, u)), -(1 - 1e-7)), 1 - 1e-7);
      INFO("u = " << u);
      CHECK(std::fabs(cb::sample(t, u) - reference) <= 1e-5);
    }
  }
}

TEST_CASE("CB functions stay finite for every float32 magnitude", "[cb]") {
  for (float t : {FLT_MAX, 1e30f, 1e4f, FLT_MIN, FLT_TRUE_MIN, 0.0f}) {
    for (float s : {t, -t}) {
      INFO("t = " << s);
      CHECK(std::isfinite(static_cast<float>(cb::langevin(s))));
      CHECK(std::fabs(cb::langevin(s)) <= 1.0);
      CHECK(std::isfinite(static_cast<float>(cb::log_partition(s))));
      CHECK(std::isfinite(static_cast<float>(cb::fisher(s))));
      CHECK(cb::fisher(s) >= 0.0);
      for (double u : {cb::open_uniform(0.0), 0.5, cb::open_uniform(1.0 - 0x1.0p-24)}) {
        const double x = cb::sample(s, u);
        CHECK(std::isfinite(x));
        CHECK(std::fabs(x) <= cb::sample_limit);
      }
    }
  }
}

TEST_CASE("The sampler reproduces the reference inverse CDF to 1e-5", "[cb]") {
  const auto t = read_dataset<double>("/cb/sample_t");
  const auto u = read_dataset<double>("/cb/sample_u");
  const auto x = read_dataset<double>("/cb/sample_x");
  REQUIRE(t.size() == u.size());
  REQUIRE(t.size() == x.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    INFO("t = " << t[i] << ", u = " << u[i]);
    CHECK(std::fabs(cb::sample(static_cast<float>(t[i]), u[i]) - x[i]) <= 1e-5);
  }
}

TEST_CASE("Uniforms are scaled into the sampler's open interval, not clamped", "[cb]") {
  CHECK(cb::open_uniform(0.0) == Approx(1e-7).epsilon(1e-12));
  CHECK(cb::open_uniform(0.5) == Approx(0.5).epsilon(1e-15));
  CHECK(cb::open_uniform(1.0 - 0x1.0p-24) < 1.0 - 1e-7);
  // Distinct uniforms stay distinct (clamping would merge the ends).
  CHECK(cb::open_uniform(1e-9) > cb::open_uniform(0.0));

  // The array sampler maps its uniforms the same way (and runs in SIMD
  // batches, with a padded last batch: 7 values).
  const std::vector<float> t = {-3.0f, 0.0f, 0.2f, 7.5f, -1e-5f, 40.0f, 0.6f};
  const std::vector<float> u01 = {0.0f, 0.25f, 0.5f, 0.9999f, 0.1f, 0.3f, 0.999f};
  std::vector<float> x(t.size());
  cb::sample(t.data(), u01.data(), x.data(), t.size());
  for (std::size_t i = 0; i < t.size(); ++i)
    CHECK(std::fabs(x[i] - cb::sample(t[i], cb::open_uniform(u01[i]))) <= 1e-7);
}

TEST_CASE("Samples at fixed t have mean L(t) and variance g(t)", "[cb]") {
  const fepflow::RandomStream stream(20250527);
  constexpr std::size_t count = 200000;
  std::vector<float> u01(count), t(count), x(count);
  std::uint64_t stream_id = 0;
  for (float t_value : {-6.0f, -0.7f, -0.05f, 0.0f, 1e-4f, 0.3f, 2.0f, 25.0f}) {
    stream.substream(stream_id++).fill_uniform(u01.data(), count);
    std::fill(t.begin(), t.end(), t_value);
    cb::sample(t.data(), u01.data(), x.data(), count);
    double sum = 0, sum_sq = 0;
    for (float v : x) {
      sum += v;
      sum_sq += static_cast<double>(v) * v;
    }
    const double mean = sum / count;
    const double variance = sum_sq / count - mean * mean;
    const double g = cb::fisher(t_value);
    INFO("t = " << t_value << ", mean " << mean << ", variance " << variance);
    // Five standard errors: the seed is fixed, so this is not flaky.
    CHECK(std::fabs(mean - cb::langevin(t_value)) <= 5 * std::sqrt(g / count));
    CHECK(std::fabs(variance - g) <= 0.03 * g);
  }
}

TEST_CASE("The free-energy proxy sums psi(t) - t x over nodes", "[cb]") {
  const auto t = read_dataset<double>("/cb/t");
  const auto psi = read_dataset<double>("/cb/log_partition");
  std::vector<float> t32(t.begin(), t.end()), x32(t.size());
  double reference = 0, magnitude = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    x32[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
    reference += psi[i] - static_cast<double>(t32[i]) * x32[i];
    magnitude += std::fabs(psi[i]) + std::fabs(static_cast<double>(t32[i]) * x32[i]);
  }
  // The reference psi is taken at the float64 t, the sum at float32 t: allow for that rounding.
  CHECK(std::fabs(cb::free_energy(t32.data(), x32.data(), t32.size()) - reference) <= 1e-7 * magnitude);
  CHECK(cb::free_energy_term(0.0, 0.5) == Approx(std::log(2.0)));
}
