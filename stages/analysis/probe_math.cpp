#include "analysis/probe_math.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace fepflow::analysis {

namespace {

double mean_of(const float* values, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(values[i]);
  return sum / static_cast<double>(n);
}

}  // namespace

double pearson(const float* a, const float* b, std::size_t n) {
  if (n == 0) return 0.0;
  // Two passes (means first) so nearly constant vectors do not cancel.
  const double mean_a = mean_of(a, n), mean_b = mean_of(b, n);
  double cross = 0.0, squares_a = 0.0, squares_b = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double da = static_cast<double>(a[i]) - mean_a, db = static_cast<double>(b[i]) - mean_b;
    cross += da * db;
    squares_a += da * da;
    squares_b += db * db;
  }
  if (squares_a == 0.0 || squares_b == 0.0) return 0.0;
  return std::clamp(cross / std::sqrt(squares_a * squares_b), -1.0, 1.0);
}

std::vector<double> row_pearson(const float* a, const float* b, std::size_t rows, std::size_t n) {
  std::vector<double> r(rows);
  for (std::size_t k = 0; k < rows; ++k) r[k] = pearson(a + k * n, b + k * n, n);
  return r;
}

double standard_deviation(const float* values, std::size_t n) {
  if (n == 0) return 0.0;
  const double m = mean_of(values, n);
  double squares = 0.0;
  for (std::size_t i = 0; i < n; ++i) squares += (static_cast<double>(values[i]) - m) * (static_cast<double>(values[i]) - m);
  return std::sqrt(squares / static_cast<double>(n));
}

void noisy_copy(const float* pattern, std::size_t n, double noise_level, double signal_strength,
                const RandomStream& noise, float* out) {
  const double spread = noise_level * standard_deviation(pattern, n);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<float>((static_cast<double>(pattern[i]) + spread * noise.normal(i)) * signal_strength);
}

std::vector<std::int64_t> choose_distinct(std::size_t population, std::size_t count, const RandomStream& stream) {
  if (count > population)
    throw std::invalid_argument("cannot choose " + std::to_string(count) + " distinct items of " +
                                std::to_string(population));
  std::vector<std::int64_t> pool(population);
  std::iota(pool.begin(), pool.end(), std::int64_t{0});
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t pick = k + static_cast<std::size_t>(stream.below(population - k, k));
    std::swap(pool[k], pool[pick]);
  }
  pool.resize(count);
  return pool;
}

double mean(const std::vector<double>& values) {
  if (values.empty()) return 0.0;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

}  // namespace fepflow::analysis
