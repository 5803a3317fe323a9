#include "network/cb.hpp"

namespace fepflow::cb {

void langevin(const float* t, float* out, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<float>(langevin(static_cast<double>(t[i])));
}

void log_partition(const float* t, float* out, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<float>(log_partition(static_cast<double>(t[i])));
}

void fisher(const float* t, float* out, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<float>(fisher(static_cast<double>(t[i])));
}

void sample(const float* t, const float* u01, float* x, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i)
    x[i] = static_cast<float>(sample(static_cast<double>(t[i]), open_uniform(static_cast<double>(u01[i]))));
}

double free_energy(const float* t, const float* x, std::size_t count) {
  double total = 0.0;
  for (std::size_t i = 0; i < count; ++i) total += free_energy_term(static_cast<double>(t[i]), static_cast<double>(x[i]));
  return total;
}

}  // namespace fepflow::cb
