// Stage `retention` (SPEC.md 4.1): does each stored pattern stay put under
// deterministic free running (u = 0)? Score r(final state, pattern).
#include "analysis/probe_math.hpp"
#include "analysis/probe_stage.hpp"

#include <fepflow/registry.hpp>
#include <fepflow/stage.hpp>

namespace fepflow::analysis {

namespace {

class Retention : public Stage {
  Input<float> weights{this, "W", 2, "coupling matrix, n x n (e.g. network.W)"};
  Input<float> patterns{this, "patterns", 2, "stored patterns, P x n (e.g. patterns.patterns)"};

  Param<double> beta{this, "beta", 100.0, "precision of the free run (notebook: 100)", positive()};
  Param<std::int64_t> steps{this, "steps", 150, "deterministic steps from each pattern (notebook: 150)", at_least(1)};

  Output<float> scores{this, "scores", 1, "Pearson r(final state, pattern) per pattern (P)"};
  Output<float> states{this, "states", 2, "final state of each pattern's run, P x n"};
  Output<std::int64_t> settled{this, "steps", 1,
                               "steps until the state stopped changing exactly (`steps` if it never did)"};

  void run(Context& ctx) override {
    const std::size_t n = check_weights(*weights, "W");
    const std::size_t count = check_rows(*patterns, "patterns", n, "P patterns");

    const auto problem = chains_on(*weights, patterns->data(), count);
    network::RelaxSettings settings;
    settings.beta = *beta;
    settings.steps = *steps;
    const auto result = relax_in_stage(ctx, problem, settings, std::nullopt, "retention");

    const auto r = row_pearson(result.final_states.data(), patterns->data(), count, n);
    scores = to_float_array(r, {count});
    states = to_array(result.final_states, {count, n});
    settled = to_array(result.steps_taken, {count});
    ctx.metric("mean_r", mean(r));
  }
};

FEPFLOW_REGISTER_STAGE(Retention, "retention", 1,
                       "Correlation of each stored pattern with the state a deterministic free run ends in")

}  // namespace
}  // namespace fepflow::analysis
