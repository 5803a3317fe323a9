// Counter-based random numbers (Philox4x32-10 from Random123).
//
// A RandomStream is a pure function of (key, stream id, index): the numbers a
// piece of code draws do not depend on which thread draws them, in which order,
// or how work is split. Give every independent consumer (a chain, an epoch, a
// pattern) its own substream and index its draws; results are then identical
// for any thread count. This header depends on Random123 only, so numeric
// kernels can use it without the rest of the framework.
#pragma once

#include <Random123/philox.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fepflow {

/// SplitMix64 finaliser: a bijective 64-bit mixer, used to derive keys.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// FNV-1a over a string: a stable (platform independent) name hash.
constexpr std::uint64_t hash_name(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

class RandomStream {
 public:
  /// The stream a pipeline stage gets: derived from the pipeline seed and the stage name.
  static RandomStream for_stage(std::uint64_t seed, std::string_view stage_name) {
    return RandomStream(mix64(seed ^ mix64(hash_name(stage_name))));
  }

  explicit RandomStream(std::uint64_t key, std::uint64_t stream = 0) : key_(key), stream_(stream) {}

  /// An independent stream identified by `id` (nest as deep as needed).
  RandomStream substream(std::uint64_t id) const {
    return RandomStream(key_, mix64(stream_ ^ mix64(id + 0x632be59bd9b4e019ULL)));
  }

  std::uint64_t key() const { return key_; }
  std::uint64_t stream() const { return stream_; }

  /// Four random 32-bit words: block `block` of this stream.
  r123::Philox4x32::ctr_type bits(std::uint64_t block) const {
    r123::Philox4x32 gen;
    r123::Philox4x32::ctr_type ctr = {{static_cast<std::uint32_t>(block),
                                       static_cast<std::uint32_t>(block >> 32),
                                       static_cast<std::uint32_t>(stream_),
                                       static_cast<std::uint32_t>(stream_ >> 32)}};
    r123::Philox4x32::key_type k = {{static_cast<std::uint32_t>(key_),
                                     static_cast<std::uint32_t>(key_ >> 32)}};
    return gen(ctr, k);
  }

  /// Uniform float in [0, 1) from a 32-bit word (24 significant bits, exact).
  static float to_unit_float(std::uint32_t w) { return static_cast<float>(w >> 8) * 0x1.0p-24f; }
  /// Uniform double in [0, 1) from two 32-bit words (53 significant bits, exact).
  static double to_unit_double(std::uint32_t hi, std::uint32_t lo) {
    const std::uint64_t v = (static_cast<std::uint64_t>(hi) << 32) | lo;
    return static_cast<double>(v >> 11) * 0x1.0p-53;
  }

  /// out[j] = uniform [0, 1) number number `first + j` of this stream.
  void fill_uniform(float* out, std::size_t n, std::uint64_t first = 0) const {
    std::size_t j = 0;
    std::uint64_t i = first;
    while (j < n) {
      const auto r = bits(i / 4);
      for (unsigned lane = static_cast<unsigned>(i % 4); lane < 4 && j < n; ++lane, ++j, ++i)
        out[j] = to_unit_float(r[lane]);
    }
  }

  /// Uniform double in [0, 1): number `i` of this stream's double sequence.
  double uniform_double(std::uint64_t i) const {
    const auto r = bits(i / 2);
    const unsigned lane = static_cast<unsigned>(i % 2) * 2;
    return to_unit_double(r[lane], r[lane + 1]);
  }

  /// A uniform integer in [0, bound): number `i` of this stream's integer sequence.
  /// (64-bit multiply-shift; the bias is below bound / 2^64.)
  std::uint64_t below(std::uint64_t bound, std::uint64_t i) const {
    const auto r = bits(i / 2);
    const unsigned lane = static_cast<unsigned>(i % 2) * 2;
    const std::uint64_t v = (static_cast<std::uint64_t>(r[lane]) << 32) | r[lane + 1];
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(v) * bound) >> 64);
  }

  /// out[j] = standard normal number `first + j` (Box-Muller in double, one block per pair).
  void fill_normal(float* out, std::size_t n, std::uint64_t first = 0) const {
    for (std::size_t j = 0; j < n; ++j) out[j] = static_cast<float>(normal(first + j));
  }

  /// Standard normal number `i` of this stream.
  double normal(std::uint64_t i) const {
    const auto r = bits(i / 2);
    // u1 in (0, 1] so the logarithm is finite.
    const double u1 = 1.0 - to_unit_double(r[0], r[1]);
    const double u2 = to_unit_double(r[2], r[3]);
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 6.283185307179586476925286766559 * u2;
    return (i % 2 == 0) ? radius * std::cos(angle) : radius * std::sin(angle);
  }

 private:
  std::uint64_t key_;
  std::uint64_t stream_;
};

}  // namespace fepflow
