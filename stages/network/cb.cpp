#include "network/cb.hpp"

namespace fepflow::cb {

namespace {

// out[i] = f(in[i]) a batch at a time; the last batch is padded with zeros.
template <class F>
void map_batches(const float* in, float* out, std::size_t count, const F& f) {
  for (std::size_t i = 0; i < count; i += Doubles::size)
    store_floats(f(load_doubles(in + i, count - i)), out + i, count - i);
}

}  // namespace

void langevin(const float* t, float* out, std::size_t count) {
  map_batches(t, out, count, [](const Doubles& v) { return langevin(v); });
}

void log_partition(const float* t, float* out, std::size_t count) {
  map_batches(t, out, count, [](const Doubles& v) { return log_partition(v); });
}

void fisher(const float* t, float* out, std::size_t count) {
  map_batches(t, out, count, [](const Doubles& v) { return fisher(v); });
}

void sample(const float* t, const float* u01, float* x, std::size_t count) {
  for (std::size_t i = 0; i < count; i += Doubles::size) {
    const Doubles u = open_uniform(load_doubles(u01 + i, count - i));
    store_floats(sample(load_doubles(t + i, count - i), u), x + i, count - i);
  }
}

double free_energy(const float* t, const float* x, std::size_t count) {
  double total = 0.0;
  for (std::size_t i = 0; i < count; i += Doubles::size) {
    alignas(Doubles::arch_type::alignment()) double terms[Doubles::size];
    free_energy_term(load_doubles(t + i, count - i), load_doubles(x + i, count - i)).store_aligned(terms);
    for (std::size_t lane = 0; lane < std::min(count - i, Doubles::size); ++lane) total += terms[lane];
  }
  return total;
}

}  // namespace fepflow::cb
