// The continuous Bernoulli (CB) unit on [-1, 1] (SPEC.md section 2): density
// p(x | t) = t e^{t x} / (2 sinh t) with natural parameter t.
//
// Every function computes in double, which with the forms below keeps every
// float32 t accurate to better than 1e-9 relative (sampler: absolute). Each
// comes as a scalar (double) and as a SIMD batch of doubles (Doubles: 4 nodes
// at once with AVX2, 8 with AVX-512) from one definition; the array forms take
// and give float32. Branches are selects: both sides are evaluated and one
// kept, so the batch and scalar forms agree. Nothing here depends on the
// framework.
#pragma once

// GCC 12's AVX-512 intrinsics warn about their own deliberately undefined
// registers once inlined (GCC bug 105593, fixed in later releases); the warning's
// location is in those headers, which this first inclusion brings in.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <xsimd/xsimd.hpp>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace fepflow::cb {

using Doubles = xsimd::batch<double>;

/// Uniforms fed to the sampler lie in [uniform_margin, 1 - uniform_margin].
inline constexpr double uniform_margin = 1e-7;
/// Samples are clipped to [-sample_limit, sample_limit] (float(1 - 1e-7)).
inline constexpr float sample_limit = static_cast<float>(1.0 - 1e-7);

namespace detail {

inline double select(bool condition, double if_true, double if_false) { return condition ? if_true : if_false; }
template <class Arch>
xsimd::batch<double, Arch> select(const xsimd::batch_bool<double, Arch>& condition,
                                  const xsimd::batch<double, Arch>& if_true,
                                  const xsimd::batch<double, Arch>& if_false) {
  return xsimd::select(condition, if_true, if_false);
}

// log q for q > 0, as k ln 2 + log1p(m - 1) with q = m 2^k and m in
// [sqrt(1/2), sqrt(2)), where m - 1 is exact. xsimd's log rounds a few inputs
// in a thousand differently on AVX2 and AVX-512; splitting off the exponent
// and xsimd's log1p give the same bits on both, which keeps the training's
// VFE independent of the ISA.
inline double log_positive(double q) {
  int k = 0;
  double m = std::frexp(q, &k);
  if (m < 0.70710678118654752440) {
    m += m;
    --k;
  }
  return std::fma(static_cast<double>(k), 0.69314718055994530942, std::log1p(m - 1.0));
}
// The batch form splits q's bits itself (q is positive and normal wherever
// its result is kept): xsimd 8.1's frexp does not compile for AVX-512 at -O0.
template <class Arch>
xsimd::batch<double, Arch> log_positive(const xsimd::batch<double, Arch>& q) {
  using V = xsimd::batch<double, Arch>;
  using Bits = xsimd::batch<std::int64_t, Arch>;
  const Bits bits = xsimd::bitwise_cast<Bits>(q);
  const Bits mantissa = bits & Bits(0x000fffffffffffff);
  const V fraction = xsimd::bitwise_cast<V>(mantissa | Bits(0x3fe0000000000000));  // in [1/2, 1)
  const V exponent = xsimd::to_float(bits >> 52) - V(1022.0);                        // q = fraction 2^exponent
  const auto low = fraction < V(0.70710678118654752440);
  const V m = xsimd::select(low, fraction + fraction, fraction);
  const V k = exponent - xsimd::select(low, V(1.0), V(0.0));
  return xsimd::fma(k, V(0.69314718055994530942), xsimd::log1p(m - V(1.0)));
}

template <class V>
V langevin(const V& t) {
  const V a = xsimd::abs(t);
  const V t2 = t * t;
  // coth t - 1/t cancels catastrophically near 0: the odd series there.
  const V series = t * (V(1.0 / 3.0) - t2 * (V(1.0 / 45.0) - t2 * V(2.0 / 945.0)));
  const V e = xsimd::exp(V(-2.0) * a);  // never overflows, unlike cosh and sinh
  const V closed = xsimd::copysign((V(1.0) + e) / (V(1.0) - e) - V(1.0) / a, t);
  return select(a < V(0.1), series, closed);
}

template <class V>
V log_partition(const V& t) {
  const V a = xsimd::abs(t);
  const V t2 = t * t;
  const V series = V(0.69314718055994530942) + t2 * (V(1.0 / 6.0) - t2 * V(1.0 / 180.0));
  // 2 sinh a / a = e^a (1 - e^{-2a}) / a; expm1 keeps the small-a end exact.
  const V closed = a + log_positive(-xsimd::expm1(V(-2.0) * a) / a);
  return select(a < V(0.1), series, closed);
}

template <class V>
V fisher(const V& t) {
  const V a = xsimd::abs(t);
  const V t2 = t * t;
  // Both terms of 1/t^2 - 1/sinh^2 t grow like 1/t^2 near 0: the series below 0.5.
  const V series =
      V(1.0 / 3.0) -
      t2 * (V(1.0 / 15.0) - t2 * (V(2.0 / 189.0) - t2 * (V(1.0 / 675.0) - t2 * V(2.0 / 10395.0))));
  const V e = xsimd::exp(V(-2.0) * a);
  const V one_minus_e = V(1.0) - e;
  const V closed = V(1.0) / (a * a) - V(4.0) * e / (one_minus_e * one_minus_e);
  return select(a < V(0.5), series, closed);
}

template <class V>
V sample(const V& t, const V& u) {
  const V a = xsimd::abs(t);
  const auto positive = t > V(0.0);
  // Factoring e^{a} out of (1-u) e^{-t} + u e^{t} leaves log1p(w expm1(-2a)),
  // exact for small and huge a alike; w is the mass on the far side (1 - u for
  // t > 0). Negative t mirrors: x(t, u) = -x(-t, 1 - u).
  const V far_mass = select(positive, V(1.0) - u, u);
  const V x_if_positive = V(1.0) + xsimd::log1p(far_mass * xsimd::expm1(V(-2.0) * a)) / a;
  const V x = select(t == V(0.0), V(2.0) * u - V(1.0), select(positive, x_if_positive, -x_if_positive));
  return xsimd::clip(x, V(-double{sample_limit}), V(double{sample_limit}));
}

}  // namespace detail

/// Mean of the unit, the Langevin function L(t) = coth t - 1/t.
inline double langevin(double t) { return detail::langevin(t); }
inline Doubles langevin(const Doubles& t) { return detail::langevin(t); }

/// Log-partition psi(t) = log(2 sinh t / t) (even in t).
inline double log_partition(double t) { return detail::log_partition(t); }
inline Doubles log_partition(const Doubles& t) { return detail::log_partition(t); }

/// Variance of the unit, the Fisher metric g(t) = 1/t^2 - 1/sinh^2 t (even in t).
inline double fisher(double t) { return detail::fisher(t); }
inline Doubles fisher(const Doubles& t) { return detail::fisher(t); }

/// Maps a uniform number in [0, 1) into [uniform_margin, 1 - uniform_margin]
/// by scaling (clamping would pile probability mass on the ends).
inline double open_uniform(double u01) { return uniform_margin + u01 * (1.0 - 2.0 * uniform_margin); }
inline Doubles open_uniform(const Doubles& u01) {
  return Doubles(uniform_margin) + u01 * Doubles(1.0 - 2.0 * uniform_margin);
}

/// Inverse CDF of the unit at u in (0, 1): x = log((1-u) e^{-t} + u e^{t}) / t,
/// clipped to [-sample_limit, sample_limit].
inline double sample(double t, double u) { return detail::sample(t, u); }
inline Doubles sample(const Doubles& t, const Doubles& u) { return detail::sample(t, u); }

/// One node's term of the free-energy proxy: psi(t) - t x.
inline double free_energy_term(double t, double x) { return log_partition(t) - t * x; }
inline Doubles free_energy_term(const Doubles& t, const Doubles& x) { return log_partition(t) - t * x; }

/// The first min(count, Doubles::size) floats of `values` as doubles, the
/// other lanes 0 (so arrays of any length run through batches).
inline Doubles load_doubles(const float* values, std::size_t count) {
  alignas(Doubles::arch_type::alignment()) double lanes[Doubles::size] = {};
  std::copy_n(values, std::min(count, Doubles::size), lanes);
  return Doubles::load_aligned(lanes);
}
/// Stores the first min(count, Doubles::size) lanes of `v` as floats.
inline void store_floats(const Doubles& v, float* out, std::size_t count) {
  alignas(Doubles::arch_type::alignment()) double lanes[Doubles::size];
  v.store_aligned(lanes);
  for (std::size_t i = 0; i < std::min(count, Doubles::size); ++i) out[i] = static_cast<float>(lanes[i]);
}

// Array forms: out[i] = f(t[i]) for i < count (out may alias t).
void langevin(const float* t, float* out, std::size_t count);
void log_partition(const float* t, float* out, std::size_t count);
void fisher(const float* t, float* out, std::size_t count);
/// x[i] = sample(t[i], open_uniform(u01[i])), with u01 uniform in [0, 1).
void sample(const float* t, const float* u01, float* x, std::size_t count);
/// The free-energy proxy VFE(t, x) = sum_i psi(t_i) - t_i x_i, summed in double.
double free_energy(const float* t, const float* x, std::size_t count);

}  // namespace fepflow::cb
