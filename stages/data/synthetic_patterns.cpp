// Stage `synthetic_patterns`: Gaussian or sparse ternary random patterns.
#include "data/synthetic_patterns.hpp"

#include "preprocess/zscore.hpp"

#include <fepflow/registry.hpp>
#include <fepflow/stage.hpp>

namespace fepflow::data {

xt::xtensor<float, 2> gaussian_patterns(std::size_t n_patterns, std::size_t n_nodes,
                                        const RandomStream& rng) {
  xt::xtensor<double, 2> draws({n_patterns, n_nodes});
  for (std::size_t k = 0; k < draws.size(); ++k) draws.flat(k) = rng.normal(k);
  return xt::cast<float>(preprocess::zscore_rows(draws));
}

xt::xtensor<float, 2> sparse_ternary_patterns(std::size_t n_patterns, std::size_t n_nodes, double sparsity,
                                              const RandomStream& rng) {
  xt::xtensor<float, 2> patterns({n_patterns, n_nodes});
  for (std::size_t k = 0; k < patterns.size(); ++k) {
    // One uniform draw decides both: below sparsity means nonzero, and its
    // lower half of that range (probability sparsity / 2) means -1.
    const double u = rng.uniform_double(k);
    patterns.flat(k) = u >= sparsity ? 0.0f : (u < sparsity / 2 ? -1.0f : 1.0f);
  }
  return patterns;
}

namespace {

class SyntheticPatterns : public Stage {
  Param<std::string> kind{this, "kind", required,
                          "gaussian: standard normal entries, each row z-scored; sparse_ternary: each "
                          "entry +1 or -1 with probability sparsity / 2 each, else 0",
                          one_of({"gaussian", "sparse_ternary"})};
  Param<std::int64_t> n_patterns{this, "n_patterns", required, "number of patterns (rows)", positive()};
  Param<std::int64_t> n_nodes{this, "n_nodes", required, "entries per pattern (network nodes)", positive()};
  Param<double> sparsity{this, "sparsity", 0.2, "sparse_ternary only: probability that an entry is nonzero",
                         between(0.0, 1.0)};
  Output<float> patterns{this, "patterns", 2, "n_patterns x n_nodes float32"};

  void run(Context& ctx) override {
    const auto rows = static_cast<std::size_t>(*n_patterns);
    const auto cols = static_cast<std::size_t>(*n_nodes);
    patterns = *kind == "gaussian" ? gaussian_patterns(rows, cols, ctx.rng())
                                   : sparse_ternary_patterns(rows, cols, *sparsity, ctx.rng());
  }
};

FEPFLOW_REGISTER_STAGE(SyntheticPatterns, "synthetic_patterns", 1,
                       "Random patterns: Gaussian (rows z-scored) or sparse ternary (+-1, 0)")

}  // namespace
}  // namespace fepflow::data
