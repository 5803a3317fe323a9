// Stage `reconstruction` (SPEC.md 4.4): a noisy copy of every stored pattern
// is both the start state and the input of a stochastic run; the mean state
// after burn-in is the reconstruction.
#include "analysis/probe_math.hpp"
#include "analysis/probe_stage.hpp"

#include <fepflow/registry.hpp>
#include <fepflow/stage.hpp>

namespace fepflow::analysis {

namespace {

// Substreams of the stage's random stream.
constexpr std::uint64_t noise_substream = 0;    // .substream(pattern): the noisy copy's normals
constexpr std::uint64_t sampler_substream = 1;  // the relaxation's uniforms, keyed by pattern

class Reconstruction : public Stage {
  Input<float> weights{this, "W", 2, "coupling matrix, n x n (e.g. network.W)"};
  Input<float> patterns{this, "patterns", 2, "stored patterns, P x n (e.g. patterns.patterns)"};

  Param<double> noise{this, "noise", 2.0, "noisy = p + N(0, (noise * std(p))^2) per node (notebook: 2.0)",
                      non_negative()};
  Param<double> beta{this, "beta", 2.0, "precision of the stochastic runs (notebook: 2.0)", positive()};
  Param<std::int64_t> steps{this, "steps", 100, "stochastic steps per pattern (notebook: 100)", at_least(1)};
  Param<std::int64_t> burn_in{this, "burn_in", 5,
                              "the reconstruction averages the states after steps burn_in + 1 ... steps (clamped "
                              "to steps - 1; notebook: 5)",
                              non_negative()};

  Output<float> noisy{this, "noisy", 2, "the noisy copies, P x n (start state and input u of each run)"};
  Output<float> reconstructions{this, "reconstructions", 2, "mean state after burn-in of each run, P x n"};
  Output<float> noisy_scores{this, "noisy_scores", 1, "Pearson r(noisy copy, pattern) per pattern (P)"};
  Output<float> scores{this, "scores", 1, "Pearson r(reconstruction, pattern) per pattern (P)"};

  void run(Context& ctx) override {
    const std::size_t n = check_weights(*weights, "W");
    const std::size_t count = check_rows(*patterns, "patterns", n, "P patterns");
    std::vector<float> cues(count * n);
    for (std::size_t k = 0; k < count; ++k)
      noisy_copy(patterns->data() + k * n, n, *noise, 1.0, ctx.rng().substream(noise_substream).substream(k),
                 cues.data() + k * n);

    auto problem = chains_on(*weights, cues.data(), count);
    problem.inputs = cues.data();
    problem.input_layout = network::InputLayout::per_chain;
    network::RelaxSettings settings;
    settings.beta = *beta;
    settings.steps = *steps;
    settings.mode = network::RelaxMode::stochastic;
    settings.burn_in = *burn_in;
    const auto result =
        relax_in_stage(ctx, problem, settings, ctx.rng().substream(sampler_substream), "reconstruction");

    const auto before = row_pearson(cues.data(), patterns->data(), count, n);
    const auto after = row_pearson(result.mean_states.data(), patterns->data(), count, n);
    noisy = to_array(cues, {count, n});
    reconstructions = to_array(result.mean_states, {count, n});
    noisy_scores = to_float_array(before, {count});
    scores = to_float_array(after, {count});
    ctx.metric("noisy_r", mean(before));
    ctx.metric("reconstructed_r", mean(after));
    ctx.metric("gain", mean(after) - mean(before));
  }
};

FEPFLOW_REGISTER_STAGE(Reconstruction, "reconstruction", 1,
                       "Reconstructs every stored pattern from a noisy copy by stochastic inference")

}  // namespace
}  // namespace fepflow::analysis
