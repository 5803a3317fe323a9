// Stage `precision_grid` (SPEC.md 4.5): reconstructions of a few random
// patterns under several settings of prior precision (beta) and likelihood
// precision (signal_strength, which scales the noisy cue). Every (pattern,
// setting) cell draws its own noise; all cells relax together in one batch.
#include "analysis/probe_math.hpp"
#include "analysis/probe_stage.hpp"

#include <fepflow/registry.hpp>
#include <fepflow/stage.hpp>

#include <algorithm>

namespace fepflow::analysis {

namespace {

// Substreams of the stage's random stream.
constexpr std::uint64_t selection_substream = 0;  // which patterns
constexpr std::uint64_t noise_substream = 1;      // .substream(cell): the cell's normals
constexpr std::uint64_t sampler_substream = 2;    // the relaxation's uniforms, keyed by cell

class PrecisionGrid : public Stage {
  Input<float> weights{this, "W", 2, "coupling matrix, n x n (e.g. network.W)"};
  Input<float> patterns{this, "patterns", 2, "stored patterns, P x n (e.g. patterns.patterns)"};

  Param<std::int64_t> count{this, "count", 1,
                            "patterns reconstructed, chosen at random without repetition (the stage's random stream)",
                            at_least(1)};
  Param<std::vector<double>> betas{this, "betas", std::vector<double>{0.4, 0.6, 0.8, 1.0, 1.2},
                                   "prior precisions (the notebook's grid columns)", positive() & non_empty()};
  Param<std::vector<double>> signal_strengths{
      this, "signal_strengths", std::vector<double>{0.1, 0.2, 0.3, 0.4},
      "likelihood precisions: the noisy cue is multiplied by them (the notebook's grid rows)",
      positive() & non_empty()};
  Param<std::string> layout{this, "layout", "grid",
                            "grid: every signal_strength (rows) with every beta (columns), row-major; pairs: "
                            "betas[j] with signal_strengths[j] (equal lengths)",
                            one_of({"grid", "pairs"})};
  Param<double> noise{this, "noise", 2.0, "cue = (p + N(0, (noise * std(p))^2)) * signal_strength (notebook: 2.0)",
                      non_negative()};
  Param<std::int64_t> steps{this, "steps", 100, "stochastic steps per cell (notebook: 100 for the grid, 500 for "
                                                "the galleries)",
                            at_least(1)};
  Param<std::int64_t> burn_in{this, "burn_in", 10,
                              "the reconstruction averages the states after steps burn_in + 1 ... steps (clamped "
                              "to steps - 1; notebook: 10)",
                              non_negative()};

  Output<std::int64_t> indices{this, "indices", 1, "row of `patterns` of each reconstructed pattern (K)"};
  Output<float> originals{this, "patterns", 2, "the reconstructed patterns, K x n"};
  Output<double> setting_betas{this, "betas", 1, "beta of each setting (S), in setting order"};
  Output<double> setting_signals{this, "signal_strengths", 1, "signal_strength of each setting (S)"};
  Output<float> noisy{this, "noisy", 3, "the cue of each cell (start state and input u), S x K x n"};
  Output<float> reconstructions{this, "reconstructions", 3,
                                "mean state after burn-in of each cell, S x K x n (grid, K = 1: a 4 x 5 figure "
                                "with `columns: 5`)"};
  Output<float> rows{this, "rows", 3,
                     "(2 + S) x K x n, the notebook's gallery figure: the patterns, the first setting's cues, "
                     "then one row of reconstructions per setting"};
  Output<float> noisy_scores{this, "noisy_scores", 2, "Pearson r(cue, pattern) per cell, S x K"};
  Output<float> scores{this, "scores", 2, "Pearson r(reconstruction, pattern) per cell, S x K"};

  void run(Context& ctx) override {
    const std::size_t n = check_weights(*weights, "W");
    const std::size_t available = check_rows(*patterns, "patterns", n, "P patterns");
    const auto k_count = static_cast<std::size_t>(*count);
    check_pick_count(k_count, available);
    const auto [cell_betas, cell_signals] = settings_in_order();
    const std::size_t s_count = cell_betas.size(), cells = s_count * k_count;

    // Cells are setting-major: cell s * K + k is pattern k under setting s.
    const auto chosen = choose_distinct(available, k_count, ctx.rng().substream(selection_substream));
    std::vector<float> shown(k_count * n), cues(cells * n);
    std::vector<double> chain_betas(cells);
    for (std::size_t k = 0; k < k_count; ++k)
      std::copy_n(patterns->data() + static_cast<std::size_t>(chosen[k]) * n, n, shown.data() + k * n);
    for (std::size_t cell = 0; cell < cells; ++cell) {
      const std::size_t s = cell / k_count;
      noisy_copy(shown.data() + (cell % k_count) * n, n, *noise, cell_signals[s],
                 ctx.rng().substream(noise_substream).substream(cell), cues.data() + cell * n);
      chain_betas[cell] = cell_betas[s];
    }

    auto problem = chains_on(*weights, cues.data(), cells);
    problem.inputs = cues.data();
    problem.input_layout = network::InputLayout::per_chain;
    problem.chain_betas = chain_betas;
    network::RelaxSettings settings;
    settings.steps = *steps;
    settings.mode = network::RelaxMode::stochastic;
    settings.burn_in = *burn_in;
    const auto result =
        relax_in_stage(ctx, problem, settings, ctx.rng().substream(sampler_substream), "precision_grid");

    std::vector<double> before(cells), after(cells);
    for (std::size_t cell = 0; cell < cells; ++cell) {
      const float* pattern = shown.data() + (cell % k_count) * n;
      before[cell] = pearson(cues.data() + cell * n, pattern, n);
      after[cell] = pearson(result.mean_states.data() + cell * n, pattern, n);
    }
    std::vector<float> figure(shown);
    figure.insert(figure.end(), cues.begin(), cues.begin() + static_cast<std::ptrdiff_t>(k_count * n));
    figure.insert(figure.end(), result.mean_states.begin(), result.mean_states.end());

    indices = to_array(chosen, {k_count});
    originals = to_array(shown, {k_count, n});
    setting_betas = to_array(cell_betas, {s_count});
    setting_signals = to_array(cell_signals, {s_count});
    noisy = to_array(cues, {s_count, k_count, n});
    reconstructions = to_array(result.mean_states, {s_count, k_count, n});
    rows = to_array(figure, {2 + s_count, k_count, n});
    noisy_scores = to_float_array(before, {s_count, k_count});
    scores = to_float_array(after, {s_count, k_count});
    ctx.metric("mean_r", mean(after));
    ctx.metric("best_r", *std::max_element(after.begin(), after.end()));
  }

  // (beta, signal_strength) of each setting, in output order.
  std::pair<std::vector<double>, std::vector<double>> settings_in_order() const {
    if (*layout == "pairs") {
      if (betas->size() != signal_strengths->size())
        throw ParamError("signal_strengths", "layout 'pairs' needs as many signal_strengths as betas; got " +
                                                 std::to_string(signal_strengths->size()) + " and " +
                                                 std::to_string(betas->size()));
      return {*betas, *signal_strengths};
    }
    std::vector<double> grid_betas, grid_signals;
    for (double signal : *signal_strengths)
      for (double beta : *betas) {
        grid_betas.push_back(beta);
        grid_signals.push_back(signal);
      }
    return {grid_betas, grid_signals};
  }
};

FEPFLOW_REGISTER_STAGE(PrecisionGrid, "precision_grid", 1,
                       "Reconstructions of random patterns over settings of prior and likelihood precision")

}  // namespace
}  // namespace fepflow::analysis
