// The continuous Bernoulli (CB) unit on [-1, 1] (SPEC.md section 2): density
// p(x | t) = t e^{t x} / (2 sinh t) with natural parameter t.
//
// Scalar forms are inline so kernels can call them per element; they compute
// in double, which with the forms below keeps every float32 t accurate to
// better than 1e-9 relative (sampler: absolute). The array forms take and give
// float32. Nothing here depends on the framework.
#pragma once

#include <cmath>
#include <cstddef>

namespace fepflow::cb {

/// Uniforms fed to the sampler lie in [uniform_margin, 1 - uniform_margin].
inline constexpr double uniform_margin = 1e-7;
/// Samples are clipped to [-sample_limit, sample_limit] (float(1 - 1e-7)).
inline constexpr float sample_limit = static_cast<float>(1.0 - 1e-7);

/// Mean of the unit, the Langevin function L(t) = coth t - 1/t.
inline double langevin(double t) {
  const double a = std::fabs(t);
  // coth t - 1/t cancels catastrophically near 0: use the odd series there.
  if (a < 0.1) {
    const double t2 = t * t;
    return t * (1.0 / 3.0 - t2 * (1.0 / 45.0 - t2 * (2.0 / 945.0)));
  }
  const double e = std::exp(-2.0 * a);  // never overflows, unlike cosh/sinh
  const double mean_abs = (1.0 + e) / (1.0 - e) - 1.0 / a;
  return std::copysign(mean_abs, t);
}

/// Log-partition psi(t) = log(2 sinh t / t) (even in t).
inline double log_partition(double t) {
  const double a = std::fabs(t);
  if (a < 0.1) {
    const double t2 = t * t;
    return 0.69314718055994530942 + t2 * (1.0 / 6.0 - t2 * (1.0 / 180.0));
  }
  // 2 sinh a = e^a (1 - e^{-2a}); expm1 keeps the small-a end exact.
  return a + std::log(-std::expm1(-2.0 * a)) - std::log(a);
}

/// Variance of the unit, the Fisher metric g(t) = 1/t^2 - 1/sinh^2 t (even in t).
inline double fisher(double t) {
  const double a = std::fabs(t);
  // Both terms grow like 1/t^2 near 0: use the series below 0.5.
  if (a < 0.5) {
    const double t2 = t * t;
    return 1.0 / 3.0 -
           t2 * (1.0 / 15.0 - t2 * (2.0 / 189.0 - t2 * (1.0 / 675.0 - t2 * (2.0 / 10395.0))));
  }
  const double e = std::exp(-2.0 * a);
  const double one_minus_e = 1.0 - e;
  return 1.0 / (a * a) - 4.0 * e / (one_minus_e * one_minus_e);
}

/// Maps a uniform number in [0, 1) into [uniform_margin, 1 - uniform_margin]
/// by scaling (clamping would pile probability mass on the ends).
inline double open_uniform(double u01) { return uniform_margin + u01 * (1.0 - 2.0 * uniform_margin); }

/// Inverse CDF of the unit at u in (0, 1): x = log((1-u) e^{-t} + u e^{t}) / t,
/// clipped to [-sample_limit, sample_limit].
inline double sample(double t, double u) {
  if (t == 0.0) return 2.0 * u - 1.0;
  const double a = std::fabs(t);
  // Factoring out e^{a} leaves log1p(w * expm1(-2a)), exact for small and huge a
  // alike; w is the probability mass on the far side (1-u for t > 0). Negative t
  // mirrors: x(t, u) = -x(-t, 1-u).
  const double far_mass = t > 0.0 ? 1.0 - u : u;
  const double x_for_positive = 1.0 + std::log1p(far_mass * std::expm1(-2.0 * a)) / a;
  const double limit = sample_limit;
  const double x = t > 0.0 ? x_for_positive : -x_for_positive;
  return x > limit ? limit : (x < -limit ? -limit : x);
}

/// One node's term of the free-energy proxy: psi(t) - t x.
inline double free_energy_term(double t, double x) { return log_partition(t) - t * x; }

// Array forms: out[i] = f(t[i]) for i < count (out may alias t).
void langevin(const float* t, float* out, std::size_t count);
void log_partition(const float* t, float* out, std::size_t count);
void fisher(const float* t, float* out, std::size_t count);
/// x[i] = sample(t[i], open_uniform(u01[i])), with u01 uniform in [0, 1).
void sample(const float* t, const float* u01, float* x, std::size_t count);
/// The free-energy proxy VFE(t, x) = sum_i psi(t_i) - t_i x_i, summed in double.
double free_energy(const float* t, const float* x, std::size_t count);

}  // namespace fepflow::cb
