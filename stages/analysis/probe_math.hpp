// Small numeric helpers the probe stages share (SPEC.md section 4): Pearson
// correlation, noisy copies of patterns and random choices of patterns.
// Nothing here depends on the framework.
#pragma once

#include <fepflow/random.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fepflow::analysis {

/// Pearson correlation of a and b (n values each), in double. A constant
/// vector makes it undefined (NumPy gives NaN); it counts as 0, as SPEC.md says.
double pearson(const float* a, const float* b, std::size_t n);

/// pearson(row k of a, row k of b) for each of `rows` rows of n values.
std::vector<double> row_pearson(const float* a, const float* b, std::size_t rows, std::size_t n);

/// The population standard deviation (ddof = 0), in double.
double standard_deviation(const float* values, std::size_t n);

/// out[i] = (pattern[i] + noise_level * std(pattern) * z_i) * signal_strength,
/// with z_i = noise.normal(i): SPEC.md 4.4 (signal_strength 1) and 4.5.
void noisy_copy(const float* pattern, std::size_t n, double noise_level, double signal_strength,
                const RandomStream& noise, float* out);

/// `count` distinct indices of [0, population), uniformly at random in the
/// order drawn (a partial Fisher-Yates shuffle driven by stream.below).
std::vector<std::int64_t> choose_distinct(std::size_t population, std::size_t count, const RandomStream& stream);

/// The mean of values, in double (0 for none).
double mean(const std::vector<double>& values);

}  // namespace fepflow::analysis
