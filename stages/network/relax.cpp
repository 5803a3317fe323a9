// Stage `relax`: inference (SPEC.md section 3) from a batch of start states,
// t = beta (W x + u), deterministic x <- L(t) or stochastic x <- sample CB(t).
#include "analysis/probe_stage.hpp"
#include "network/relax_kernels.hpp"

#include <fepflow/registry.hpp>
#include <fepflow/stage.hpp>

#include <algorithm>

namespace fepflow::network {

namespace {

class Relax : public Stage {
  Input<float> weights{this, "W", 2, "coupling matrix, n x n (h = W x), e.g. network.W"};
  Input<float> starts{this, "x0", 2, "start states, one chain per row: B x n"};
  Input<float> inputs{this, "u", any_rank,
                      "external input: B x n (one row per chain) or n (shared); unconnected: 0", optional_input};

  Param<double> beta{this, "beta", 1.0, "precision (inverse temperature): t = beta (W x + u)", positive()};
  Param<std::int64_t> steps{this, "steps", 100, "most steps per chain", at_least(1)};
  Param<std::string> mode{this, "mode", "deterministic",
                          "deterministic: x <- L(t), the CB mean; stochastic: x <- a CB sample (the stage's random "
                          "stream, keyed by chain and step)",
                          one_of({"deterministic", "stochastic"})};
  Param<double> tol{this, "tol", 0.0,
                    "a chain stops once max|x_new - x| < tol (0: never by tolerance; deterministic chains always "
                    "stop at an exact fixed point, which changes no result)",
                    non_negative()};
  Param<std::int64_t> burn_in{this, "burn_in", 0,
                              "`mean` averages the states after steps burn_in + 1 ... steps (burn_in is clamped to "
                              "steps - 1)",
                              non_negative()};
  Param<bool> keep_trajectory{this, "keep_trajectory", false,
                              "output every step's states (steps x B x n floats: large for big batches)"};

  Output<float> states{this, "states", 2, "final state of each chain, B x n"};
  Output<std::int64_t> steps_taken{this, "steps", 1, "steps each chain ran, the stopping step included"};
  Output<std::int64_t> converged{this, "converged", 1, "1 if the chain stopped early (tol or fixed point), else 0"};
  Output<float> mean_state{this, "mean", 2,
                           "mean of each chain's states after burn-in, B x n (a stopped chain counts its final "
                           "state for the remaining steps)"};
  Output<float> trajectory{this, "trajectory", 3,
                           "the state after each step, steps x B x n, if keep_trajectory; else 0 x B x n"};

  void run(Context& ctx) override {
    const std::size_t n = analysis::check_weights(*weights, "W");
    const std::size_t chains = analysis::check_rows(*starts, "x0", n, "B chains");

    RelaxProblem problem;
    problem.weights = weights->data();
    problem.nodes = n;
    problem.starts = starts->data();
    problem.chains = chains;
    if (inputs.connected()) {
      const auto& u = *inputs;
      const bool shared = u.dimension() == 1 && u.shape()[0] == n;
      const bool per_chain = u.dimension() == 2 && u.shape()[0] == chains && u.shape()[1] == n;
      if (!shared && !per_chain)
        throw Error("input 'u' is " + analysis::shape_text(u) + "; expected " + std::to_string(chains) + " x " +
                    std::to_string(n) + " (one row per chain of x0) or " + std::to_string(n) + " (shared)");
      analysis::check_finite(u, "u");
      problem.inputs = u.data();
      problem.input_layout = shared ? InputLayout::shared : InputLayout::per_chain;
    }

    RelaxSettings settings;
    settings.beta = *beta;
    settings.steps = *steps;
    settings.mode = *mode == "stochastic" ? RelaxMode::stochastic : RelaxMode::deterministic;
    settings.tol = *tol;
    settings.burn_in = *burn_in;
    settings.keep_trajectory = *keep_trajectory;

    const auto result = analysis::relax_in_stage(ctx, problem, settings, ctx.rng(), "relax");

    using analysis::to_array;
    states = to_array(result.final_states, {chains, n});
    mean_state = to_array(result.mean_states, {chains, n});
    steps_taken = to_array(result.steps_taken, {chains});
    converged = to_array(result.converged, {chains});
    const std::size_t kept_steps = *keep_trajectory ? static_cast<std::size_t>(*steps) : 0;
    trajectory = to_array(result.trajectory, {kept_steps, chains, n});
    ctx.metric("not_converged", static_cast<double>(std::count(result.converged.begin(), result.converged.end(), 0)));
  }
};

FEPFLOW_REGISTER_STAGE(Relax, "relax", 1, "Runs inference (deterministic or stochastic) from a batch of start states")

}  // namespace
}  // namespace fepflow::network
