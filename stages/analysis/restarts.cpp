// Stage `restarts` (SPEC.md 4.3): relax from random states until the state
// settles, then count the distinct attractors reached.
#include "analysis/deduplicate.hpp"
#include "analysis/probe_stage.hpp"

#include <fepflow/registry.hpp>
#include <fepflow/stage.hpp>

#include <algorithm>

namespace fepflow::analysis {

namespace {

class Restarts : public Stage {
  Input<float> weights{this, "W", 2, "coupling matrix, n x n (e.g. network.W)"};

  Param<std::int64_t> restarts{this, "restarts", 200,
                               "random starts, x0 ~ U(-1, 1)^n each (the stage's random stream, keyed by restart)",
                               at_least(1)};
  Param<double> beta{this, "beta", 1.0, "precision of the deterministic runs (notebook: 1)", positive()};
  Param<double> tol{this, "tol", 1e-5, "a run has converged once max|x_new - x| < tol (notebook: 1e-5)",
                    non_negative()};
  Param<std::int64_t> max_steps{this, "max_steps", 500,
                                "a run that has not converged by then ends at its last state and is deduplicated "
                                "like the others (notebook: 500)",
                                at_least(1)};
  Param<double> threshold{this, "threshold", 0.2,
                          "final states are the same attractor when max|a - b| < threshold (greedy, in restart "
                          "order; notebook: 0.2)",
                          positive()};

  Output<float> attractors{this, "attractors", 2, "the unique attractors, U x n, in the order first reached"};
  Output<std::int64_t> counts{this, "counts", 1, "restarts that ended in each attractor (U)"};
  Output<std::int64_t> assignment{this, "assignment", 1, "the attractor each restart ended in (R)"};
  Output<std::int64_t> steps_taken{this, "steps", 1, "steps each restart ran, the converging step included (R)"};
  Output<std::int64_t> converged{this, "converged", 1, "1 if the restart converged within max_steps, else 0 (R)"};

  void run(Context& ctx) override {
    const std::size_t n = check_weights(*weights, "W");
    const auto count = static_cast<std::size_t>(*restarts);
    std::vector<float> starts(count * n);
    for (std::size_t r = 0; r < count; ++r) {
      float* x0 = starts.data() + r * n;
      ctx.rng().substream(r).fill_uniform(x0, n);
      for (std::size_t i = 0; i < n; ++i) x0[i] = 2.0f * x0[i] - 1.0f;
    }

    const auto problem = chains_on(*weights, starts.data(), count);
    network::RelaxSettings settings;
    settings.beta = *beta;
    settings.steps = *max_steps;
    settings.tol = *tol;
    const auto result = relax_in_stage(ctx, problem, settings, std::nullopt, "restarts");
    const auto found = deduplicate(result.final_states.data(), count, n, *threshold);

    attractors = to_array(kept_states(found, result.final_states.data(), n), {found.kept.size(), n});
    counts = to_array(found.counts, {found.counts.size()});
    assignment = to_array(found.assignment, {count});
    steps_taken = to_array(result.steps_taken, {count});
    converged = to_array(result.converged, {count});
    ctx.metric("unique_attractors", static_cast<double>(found.kept.size()));
    ctx.metric("not_converged", static_cast<double>(std::count(result.converged.begin(), result.converged.end(), 0)));
    ctx.metric("single_restart_attractors", static_cast<double>(std::count(found.counts.begin(), found.counts.end(), 1)));
  }
};

FEPFLOW_REGISTER_STAGE(Restarts, "restarts", 1,
                       "Relaxes from random states and counts the unique attractors reached")

}  // namespace
}  // namespace fepflow::analysis
