// The `fepflow` command: run, validate, stages, describe, inspect.
// Exit codes: 0 success, 1 a stage failed, 2 usage or validation error,
// 3 expected values not met (with --check), 130 interrupted (Ctrl-C / SIGTERM).
#include <fepflow/io.hpp>
#include <fepflow/pipeline.hpp>
#include <fepflow/registry.hpp>
#include <fepflow/testing.hpp>
#include <fepflow/version.hpp>

#include "console.hpp"
#include "store.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace {

constexpr int exit_ok = 0;
constexpr int exit_stage_failed = 1;
constexpr int exit_usage = 2;
constexpr int exit_expectations_unmet = 3;
constexpr int exit_interrupted = 130;

std::atomic<bool> interrupt_requested{false};

extern "C" void on_interrupt(int signal) {
  if (interrupt_requested.exchange(true)) {
    // A second Ctrl-C: stop now (the output file is still whole: writes are atomic).
    std::signal(signal, SIG_DFL);
    std::raise(signal);
  }
}

void add_plugin_option(CLI::App* command, std::vector<std::string>& plugins) {
  command->add_option("--plugin", plugins, "Load a stage plugin (shared library); repeatable")->type_name("PATH");
}

/// Loads FEPFLOW_PLUGIN_PATH and --plugin libraries; false (after saying why) on failure.
bool load_plugins(const std::vector<std::string>& plugins) {
  try {
    fepflow::load_plugins_from_environment();
    for (const auto& p : plugins) fepflow::load_plugin(p);
    return true;
  } catch (const std::exception& e) {
    std::cerr << "fepflow: " << e.what() << "\n";
    return false;
  }
}

std::string rank_text(int rank) { return rank == fepflow::any_rank ? "any" : std::to_string(rank); }

int command_stages() {
  const auto all = fepflow::Registry::global().all();
  std::size_t width = 4;
  for (const auto* s : all) width = std::max(width, s->type.size());
  for (const auto* s : all) {
    std::cout << std::left << std::setw(static_cast<int>(width) + 2) << s->type << s->summary;
    if (s->origin != "built-in") std::cout << "  [" << s->origin << "]";
    std::cout << "\n";
  }
  return exit_ok;
}

int command_describe(const std::string& type) {
  const auto& registry = fepflow::Registry::global();
  const fepflow::StageInfo* info = registry.find(type);
  if (!info) {
    std::cerr << "fepflow: unknown stage type '" << type << "'";
    const auto close = registry.closest(type);
    for (std::size_t i = 0; i < close.size(); ++i) std::cerr << (i ? ", '" : " (did you mean '") << close[i] << "'";
    std::cerr << (close.empty() ? "" : ")") << "; `fepflow stages` lists them all\n";
    return exit_usage;
  }
  const auto stage = info->make();
  std::cout << info->type << " (version " << info->version << ", " << info->origin << ")\n  " << info->summary << "\n";
  auto ports = [](const char* title, const auto& slots) {
    std::cout << "\n" << title << ":\n";
    if (slots.empty()) std::cout << "  (none)\n";
    for (const auto& slot : slots) {
      const auto& s = slot.spec;
      std::cout << "  " << s.name << "  " << fepflow::dtype_name(s.dtype) << ", rank " << rank_text(s.rank)
                << (s.any_numeric ? " (other numeric dtypes converted)" : "") << (s.optional ? ", optional" : "")
                << "\n      " << s.doc << "\n";
    }
  };
  ports("Inputs", stage->inputs());
  ports("Outputs", stage->outputs());
  std::cout << "\nParameters:\n";
  if (stage->params().empty()) std::cout << "  (none)\n";
  for (const auto& slot : stage->params()) {
    const auto& s = slot.spec;
    std::cout << "  " << s.name << "  " << fepflow::param_kind_name(s.kind) << ", "
              << (s.default_value ? "default " + fepflow::format_param_value(*s.default_value) : "required");
    const std::string range = s.constraint.describe();
    if (!range.empty()) std::cout << ", allowed " << range;
    std::cout << "\n      " << s.doc << "\n";
  }
  return exit_ok;
}

int command_validate(const std::string& file, const std::vector<std::string>& overrides) {
  try {
    const auto pipeline = fepflow::load_pipeline(file, overrides);
    std::cout << file << ": OK, pipeline '" << pipeline.name << "' with " << pipeline.stages.size()
              << " stages, output " << pipeline.output << "\n  order:";
    for (const auto& s : pipeline.stages) std::cout << " " << s.name;
    std::cout << "\n";
    return exit_ok;
  } catch (const fepflow::ValidationError& e) {
    for (const auto& d : e.diagnostics()) std::cerr << d.str() << "\n";
    std::cerr << "fepflow: " << e.diagnostics().size() << " problem" << (e.diagnostics().size() == 1 ? "" : "s")
              << " in " << file << "\n";
    return exit_usage;
  }
}

std::string format_number(double x) {
  std::ostringstream out;
  out << std::setprecision(4) << x;
  return out.str();
}

int command_inspect(const std::string& file, bool show_pipeline) {
  fepflow::detail::StoredRun run;
  try {
    run = fepflow::detail::read_run(file);
  } catch (const std::exception& e) {
    std::cerr << "fepflow: " << e.what() << "\n";
    return exit_usage;
  }
  if (show_pipeline) {
    std::cout << run.attributes["pipeline_yaml"];
    return exit_ok;
  }
  std::cout << file << "\n";
  for (const char* key : {"pipeline_name", "pipeline_file", "status", "seed", "started", "finished", "host",
                          "command_line", "fepflow_version", "libraries"})
    if (run.attributes.count(key)) std::cout << "  " << std::left << std::setw(16) << key << run.attributes[key] << "\n";
  for (const auto& s : run.stages) {
    std::cout << "\n/" << s.name << "  (" << s.attribute("type") << ", " << s.attribute("state");
    if (s.numbers.count("seconds")) std::cout << ", " << format_number(s.numbers.at("seconds")) << " s";
    std::cout << ", fingerprint " << s.attribute("fingerprint").substr(0, 12) << ")\n";
    std::istringstream params(s.attribute("parameters"));
    std::string line, joined;
    while (std::getline(params, line)) joined += (joined.empty() ? "" : ", ") + line;
    if (!joined.empty()) std::cout << "    parameters: " << joined << "\n";
    for (const auto& [port, text] : s.datasets) std::cout << "    " << std::left << std::setw(18) << port << text << "\n";
    for (const auto& [name, value] : s.metrics) std::cout << "    metric " << name << " = " << format_number(value) << "\n";
  }
  return exit_ok;
}

/// Draws a stored dataset with the `render` stage: `--set` gives its parameters.
int command_render(const std::string& file, const std::string& dataset, const std::string& figure,
                   const std::string& scores, const std::vector<std::string>& settings) {
  const fepflow::StageInfo* info = fepflow::Registry::global().find("render");
  if (!info) {
    std::cerr << "fepflow: this build has no `render` stage\n";
    return exit_usage;
  }
  try {
    const auto prototype = info->make();
    std::map<std::string, fepflow::ParamValue> params;
    for (const auto& setting : settings) {
      const auto eq = setting.find('=');
      const std::string name = setting.substr(0, eq);
      auto slot = std::find_if(prototype->params().begin(), prototype->params().end(),
                               [&](const auto& p) { return p.spec.name == name; });
      if (eq == std::string::npos || slot == prototype->params().end())
        throw fepflow::Error("--set " + setting + ": expected PARAM=VALUE with a parameter of `fepflow describe render`");
      params[name] = fepflow::parse_param_value(setting.substr(eq + 1), slot->spec);
    }
    std::string target = figure;
    if (target.empty()) {
      // Beside the data: results/run.h5 + /stage/port -> results/run-stage-port.png
      std::string suffix = dataset;
      std::replace(suffix.begin(), suffix.end(), '/', '-');
      const std::filesystem::path data(file);
      target = (data.parent_path() / (data.stem().string() + suffix + ".png")).string();
    }
    params["file"] = target;
    std::map<std::string, fepflow::Value> inputs{
        {"images", fepflow::read_hdf5_dataset(file, dataset)}};
    if (!scores.empty()) inputs["scores"] = fepflow::read_hdf5_dataset(file, scores);
    fepflow::testing::StageRunOptions options;
    options.name = "render";
    fepflow::testing::run_stage("render", params, inputs, options);
    std::cout << "wrote " << target << "\n";
    return exit_ok;
  } catch (const std::exception& e) {
    std::cerr << "fepflow render: " << e.what() << "\n";
    return exit_usage;
  }
}

void print_summary(const fepflow::RunReport& report) {
  std::size_t name_width = 5, type_width = 4;
  for (const auto& s : report.stages) {
    name_width = std::max(name_width, s.name.size());
    type_width = std::max(type_width, s.type.size());
  }
  const int nw = static_cast<int>(name_width) + 2, tw = static_cast<int>(type_width) + 2;
  std::cout << "\n" << std::left << std::setw(nw) << "stage" << std::setw(tw) << "type" << std::setw(11) << "state"
            << std::right << std::setw(10) << "seconds" << "  metrics\n";
  double total = 0;
  for (const auto& s : report.stages) {
    total += s.seconds;
    std::cout << std::left << std::setw(nw) << s.name << std::setw(tw) << s.type << std::setw(11)
              << fepflow::stage_state_name(s.state) << std::right << std::setw(10) << std::fixed
              << std::setprecision(2) << s.seconds << std::defaultfloat << "  ";
    std::string metrics;
    for (const auto& [name, value] : s.metrics) metrics += (metrics.empty() ? "" : ", ") + name + "=" + format_number(value);
    std::cout << metrics << "\n";
  }
  std::cout << "stage seconds summed: " << std::fixed << std::setprecision(2) << total << std::defaultfloat << "\n";
}

/// Prints the expectations table; true when every expectation holds.
bool report_expectations(const fepflow::Pipeline& pipeline, const fepflow::RunReport& report) {
  const auto results = fepflow::check_expectations(pipeline, report);
  if (results.empty()) return true;
  std::size_t width = 11;
  for (const auto& r : results) width = std::max(width, r.expectation.stage.size() + r.expectation.metric.size() + 1);
  const int w = static_cast<int>(width) + 2;
  std::cout << "\n" << std::left << std::setw(w) << "expectation" << std::setw(14) << "value" << std::setw(22)
            << "expected" << "result\n";
  bool all = true;
  for (const auto& r : results) {
    all = all && r.passed;
    std::cout << std::left << std::setw(w) << r.expectation.stage + "." + r.expectation.metric << std::setw(14)
              << (r.found ? format_number(r.value) : "missing") << std::setw(22) << r.expectation.text
              << (r.passed ? "pass" : "FAIL") << "\n";
  }
  return all;
}

int command_run(const std::string& file, const fepflow::RunOptions& base, const std::vector<std::string>& overrides,
                bool check) {
  fepflow::Pipeline pipeline;
  try {
    pipeline = fepflow::load_pipeline(file, overrides);
  } catch (const fepflow::ValidationError& e) {
    for (const auto& d : e.diagnostics()) std::cerr << d.str() << "\n";
    std::cerr << "fepflow: nothing was run: " << e.diagnostics().size() << " problem"
              << (e.diagnostics().size() == 1 ? "" : "s") << " in " << file << "\n";
    return exit_usage;
  }
  fepflow::cli::Console console(::isatty(STDERR_FILENO) != 0);
  fepflow::RunOptions options = base;
  options.observer = &console;
  options.interrupt = &interrupt_requested;
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  const auto started = std::chrono::steady_clock::now();
  fepflow::RunReport report;
  try {
    report = fepflow::run_pipeline(pipeline, options);
  } catch (const std::exception& e) {
    console.finish();
    std::cerr << "fepflow: " << e.what() << "\n";
    return exit_usage;
  }
  console.finish();
  print_summary(report);
  const bool expectations_met = report_expectations(pipeline, report);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "wall time: " << std::fixed << std::setprecision(2) << wall << " s; results in " << report.output
            << "\n";
  if (report.interrupted) {
    std::cerr << "fepflow: interrupted; the stages that finished are stored in " << report.output
              << " (re-run to continue: they are cached)\n";
    return exit_interrupted;
  }
  if (const auto* failure = report.first_failure()) {
    std::cerr << "fepflow: stage '" << failure->name << "' (" << failure->type << ") failed: " << failure->error
              << "\n";
    return exit_stage_failed;
  }
  if (check && !expectations_met) {
    std::cerr << "fepflow: some expected values were not reproduced (--check)\n";
    return exit_expectations_unmet;
  }
  return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fepflow " FEPFLOW_VERSION_STRING
               ": YAML pipelines of attractor-network experiments, run as TBB flow graphs, stored in HDF5.\n"
               "Exit codes: 0 success, 1 a stage failed, 2 usage or validation error, 3 expected values not met\n"
               "(run --check), 130 interrupted."};
  app.require_subcommand(1);
  app.set_version_flag("--version", FEPFLOW_VERSION_STRING);
  std::vector<std::string> plugins;

  std::string pipeline_file;
  std::vector<std::string> overrides;
  fepflow::RunOptions run_options;
  auto* run = app.add_subcommand("run", "Run a pipeline; stages whose inputs and parameters are unchanged are reused");
  run->add_option("pipeline", pipeline_file, "Pipeline YAML file")->required()->check(CLI::ExistingFile);
  run->add_option("-o,--output", run_options.output, "Output HDF5 file (default: the pipeline's `output`)");
  run->add_option("--set", overrides, "Override a parameter: stage.param=value (YAML value); also seed=N")
      ->type_name("STAGE.PARAM=VALUE");
  run->add_flag("--force", run_options.force, "Recompute every stage, ignoring stored results and checkpoints");
  run->add_option("--threads", run_options.threads, "Most threads to use (default: all cores)")
      ->check(CLI::PositiveNumber);
  bool check = false;
  run->add_flag("--check", check, "Exit with status 3 when a value under `expect:` is not reproduced");
  add_plugin_option(run, plugins);

  auto* validate = app.add_subcommand("validate", "Check a pipeline without running it; lists every problem");
  validate->add_option("pipeline", pipeline_file, "Pipeline YAML file")->required()->check(CLI::ExistingFile);
  validate->add_option("--set", overrides, "Override a parameter, as for run")->type_name("STAGE.PARAM=VALUE");
  add_plugin_option(validate, plugins);

  auto* stages = app.add_subcommand("stages", "List every registered stage type (built-in and plugins)");
  add_plugin_option(stages, plugins);

  std::string type;
  auto* describe = app.add_subcommand("describe", "Show a stage type's ports and parameters");
  describe->add_option("type", type, "Stage type")->required();
  add_plugin_option(describe, plugins);

  std::string output_file;
  bool show_pipeline = false;
  auto* inspect = app.add_subcommand("inspect", "Show what an output file holds: stages, arrays, parameters, metrics");
  inspect->add_option("file", output_file, "HDF5 output of `fepflow run`")->required()->check(CLI::ExistingFile);
  inspect->add_flag("--pipeline", show_pipeline, "Print the pipeline YAML stored in the file");

  std::string render_file, render_dataset, render_output, render_scores;
  std::vector<std::string> render_settings;
  auto* render = app.add_subcommand("render", "Draw a stored array: a montage of images, a line plot or an image grid");
  render->add_option("file", render_file, "HDF5 output of `fepflow run`")->required()->check(CLI::ExistingFile);
  render->add_option("dataset", render_dataset, "Dataset to draw, e.g. /network/vfe")->required();
  render->add_option("-o,--output", render_output, "Figure file: .png, .pdf or .svg (default: beside FILE)");
  render->add_option("--scores", render_scores, "Dataset of per-image scores for tile titles, e.g. /retention/scores");
  render->add_option("--set", render_settings, "A parameter of the render stage: PARAM=VALUE (`fepflow describe render`)")
      ->type_name("PARAM=VALUE");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? exit_ok : exit_usage;
  }
  if (!load_plugins(plugins)) return exit_usage;

  if (*run) {
    std::ostringstream command_line;
    for (int i = 0; i < argc; ++i) command_line << (i ? " " : "") << argv[i];
    run_options.command_line = command_line.str();
    return command_run(pipeline_file, run_options, overrides, check);
  }
  if (*validate) return command_validate(pipeline_file, overrides);
  if (*stages) return command_stages();
  if (*describe) return command_describe(type);
  if (*inspect) return command_inspect(output_file, show_pipeline);
  if (*render) return command_render(render_file, render_dataset, render_output, render_scores, render_settings);
  return exit_usage;
}
