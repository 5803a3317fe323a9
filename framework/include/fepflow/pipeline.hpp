// Loading, validating and running a pipeline: what the `fepflow` command
// does, as a library (tests and other front ends use it too).
#pragma once

#include <fepflow/stage.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fepflow {

/// One problem found in a pipeline, with where it is.
struct Diagnostic {
  std::string file;  // pipeline file, or "--set" for a command-line override
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based
  std::string stage; // empty for problems outside a stage
  std::string message;
  /// "FILE:LINE:COL: stage 'name': message"
  std::string str() const;
};

/// Every problem of a pipeline, found in one pass.
class ValidationError : public std::runtime_error {
 public:
  explicit ValidationError(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

struct Connection {
  std::string stage;  // producing stage
  std::string port;   // its output port
};

struct StageConfig {
  std::string name;
  std::string type;
  std::map<std::string, ParamValue> params;        // every declared parameter, defaults filled in
  std::map<std::string, Connection> inputs;        // input port -> producer
  std::map<std::string, std::string> param_origin; // "yaml", "default" or "--set"
};

/// A number the pipeline should reproduce: `expect: {stage.metric: {near: x, tol: t}}`
/// or `{between: [lo, hi]}`; checked after a run.
struct Expectation {
  std::string stage;
  std::string metric;
  double low = 0, high = 0;  // the accepted interval
  std::string text;          // "0.4658 +- 0.03" or "[35, 85]"
};

struct Pipeline {
  std::string file;       // where it was read from
  std::string yaml_text;  // the text as read (stored in the output for provenance)
  std::string name;
  std::uint64_t seed = 0;
  std::string output;     // HDF5 output file
  std::vector<std::string> plugins;  // resolved plugin paths
  std::vector<StageConfig> stages;   // in dependency order (producers first)
  std::vector<Expectation> expectations;

  const StageConfig* find(std::string_view stage) const;
};

/// A parameter value from YAML text ("0.5", "[1, 2]", "stride"), converted to
/// the declared kind and checked; throws ParamError saying what was expected.
ParamValue parse_param_value(const std::string& yaml_text, const ParamSpec& spec);

/// Reads, loads the plugins named in it, applies `overrides`
/// ("stage.param=value", YAML syntax for the value) and validates.
/// Throws ValidationError with every problem found.
Pipeline load_pipeline(const std::string& path, const std::vector<std::string>& overrides = {});
/// The same from text; `file` only labels diagnostics and resolves relative plugin paths.
Pipeline parse_pipeline(const std::string& yaml_text, const std::string& file,
                        const std::vector<std::string>& overrides = {});

// ------------------------------------------------------------------ running

enum class StageState { computed, cached, failed, skipped, cancelled };
const char* stage_state_name(StageState state);

/// Told what happens while a pipeline runs (called from worker threads;
/// implementations synchronise themselves).
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void stage_started(const std::string& /*stage*/, const std::string& /*reason*/) {}
  virtual void stage_progress(const std::string& /*stage*/, double /*fraction*/, std::string_view /*detail*/) {}
  virtual void stage_log(const std::string& /*stage*/, std::string_view /*message*/) {}
  virtual void stage_finished(const std::string& /*stage*/, StageState /*state*/, double /*seconds*/) {}
};

struct RunOptions {
  std::string output;                  // overrides the pipeline's output when not empty
  bool force = false;                  // recompute every stage
  int threads = 0;                     // 0: all cores
  std::string command_line;            // stored for provenance
  RunObserver* observer = nullptr;
  const std::atomic<bool>* interrupt = nullptr;  // set (e.g. by a signal handler) to cancel
  double checkpoint_interval_seconds = 60;       // hint stages get through Context
};

struct StageOutcome {
  std::string name;
  std::string type;
  StageState state = StageState::skipped;
  double seconds = 0;
  std::string reason;  // why it was computed, or that it was cached
  std::string error;   // for a failed stage
  std::map<std::string, double> metrics;
};

struct RunReport {
  std::string output;
  std::vector<StageOutcome> stages;  // in pipeline order
  bool interrupted = false;
  bool ok() const;
  /// The first failed stage's outcome, or nullptr.
  const StageOutcome* first_failure() const;
};

struct ExpectationResult {
  Expectation expectation;
  bool found = false;  // the stage ran (or was cached) and reported the metric
  double value = 0;
  bool passed = false;
};
/// Compares the run's metrics with the pipeline's expectations.
std::vector<ExpectationResult> check_expectations(const Pipeline& pipeline, const RunReport& report);

/// Runs the pipeline into its HDF5 output, reusing stored results whose
/// fingerprint matches. Throws fepflow::Error for problems with the output
/// file itself (not a valid HDF5 file, in use by another run); stage failures
/// are reported in the RunReport.
RunReport run_pipeline(const Pipeline& pipeline, const RunOptions& options = {});

// ------------------------------------------------------------------ plugins

/// Loads a stage plugin (a shared library made with FEPFLOW_PLUGIN). Loading
/// the same file twice is a no-op. Throws fepflow::Error, naming the file,
/// if it cannot be loaded or was built for another fepflow ABI.
void load_plugin(const std::string& path);
/// Loads every plugin named in FEPFLOW_PLUGIN_PATH (colon-separated files or
/// directories; a directory contributes its *.so files).
void load_plugins_from_environment();

}  // namespace fepflow
