// Trains small networks and describes each result by hashes of its bits. The
// test compares the native build's description with those printed by
// train_bits.cpp built for other instruction sets (tests/CMakeLists.txt).
#pragma once

#include "network/train_kernels.hpp"

#include <fepflow/hash.hpp>

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace fepflow::test {

// The SHA-256 of the values' bytes.
template <class T>
std::string hash_of(const std::vector<T>& values) {
  return sha256_hex(std::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
}

// One line per case: sizes with and without a last odd block of 16 columns
// and a tail of columns, both update kernels, both error weightings.
inline std::string describe_trainings() {
  namespace net = fepflow::network;
  struct Case {
    std::size_t nodes;
    net::KernelOptions kernel;
    bool precision_weighted;
  };
  const Case cases[] = {{88, {net::UpdateKernel::deferred, 4}, false},
                        {200, {net::UpdateKernel::fused, 1}, false},
                        {333, {net::UpdateKernel::deferred, 16}, true}};
  std::ostringstream out;
  for (const Case& c : cases) {
    const std::size_t n = c.nodes, count = 3;
    std::vector<float> patterns(count * n);
    for (std::size_t k = 0; k < count; ++k)
      for (std::size_t i = 0; i < n; ++i)
        patterns[k * n + i] = static_cast<float>((i * 7 + k * 13) % 11) / 5.0f - 1.0f;
    net::TrainParams params;
    params.beta = 0.7;
    params.lr = 0.01;
    params.epochs = 12;
    params.steps = 6;
    params.precision_weighted = c.precision_weighted;
    net::TrainState state(n);
    net::train_epochs(state, {patterns.data(), count, n}, params, RandomStream::for_stage(42, "network"),
                      params.epochs, c.kernel);
    net::apply_pending(state, params);
    out << n << " nodes: W " << hash_of(state.weights) << " vfe " << hash_of(state.vfe) << " order "
        << hash_of(state.order) << "\n";
  }
  return out.str();
}

}  // namespace fepflow::test
