// Runs a validated pipeline as a oneTBB flow graph: one node per stage that
// must be computed, an edge per dependency. Cached stages (same fingerprint
// as stored) are not run; their stored outputs are read only if a computed
// stage needs them. Each finished stage is published to the output file.
#include <fepflow/hash.hpp>
#include <fepflow/pipeline.hpp>
#include <fepflow/registry.hpp>
#include <fepflow/version.hpp>

#include "execution.hpp"
#include "store.hpp"

#include <H5public.h>
#include <tbb/flow_graph.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/task_arena.h>
#include <tbb/version.h>
#include <xtensor/xtensor_config.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <ctime>
#include <filesystem>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace fepflow {

const char* stage_state_name(StageState state) {
  switch (state) {
    case StageState::computed: return "computed";
    case StageState::cached: return "cached";
    case StageState::failed: return "failed";
    case StageState::skipped: return "skipped";
    case StageState::cancelled: return "cancelled";
  }
  return "?";
}

bool RunReport::ok() const {
  if (interrupted) return false;
  for (const auto& s : stages)
    if (s.state != StageState::computed && s.state != StageState::cached) return false;
  return true;
}

const StageOutcome* RunReport::first_failure() const {
  for (const auto& s : stages)
    if (s.state == StageState::failed) return &s;
  return nullptr;
}

namespace {

std::string now_text() {
  const std::time_t t = std::time(nullptr);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&t));
  return buffer;
}

std::string host_name() {
  char buffer[256] = {};
  ::gethostname(buffer, sizeof buffer - 1);
  return buffer;
}

std::string library_versions() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  std::ostringstream out;
  out << "hdf5 " << major << "." << minor << "." << release << "; oneTBB " << TBB_runtime_version() << "; xtensor "
      << XTENSOR_VERSION_MAJOR << "." << XTENSOR_VERSION_MINOR << "." << XTENSOR_VERSION_PATCH;
  return out.str();
}

/// "name: value" lines, one per parameter (sorted): stored, and compared to say why a stage re-runs.
std::string parameters_text(const StageConfig& config) {
  std::string out;
  for (const auto& [name, value] : config.params) out += name + ": " + format_param_value(value) + "\n";
  return out;
}

std::map<std::string, std::string> parse_lines(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(": ");
    if (colon != std::string::npos) out[line.substr(0, colon)] = line.substr(colon + 2);
  }
  return out;
}

/// Exclusive use of an output file by one run (an advisory lock beside it).
class OutputLock {
 public:
  explicit OutputLock(const std::string& output) {
    const fs::path p(output);
    std::error_code ec;
    if (!p.parent_path().empty()) fs::create_directories(p.parent_path(), ec);
    path_ = (p.parent_path() / ("." + p.filename().string() + ".lock")).string();
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT, 0644);
    if (fd_ < 0) throw Error("cannot create the lock file '" + path_ + "' beside the output");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw Error("another fepflow run is writing '" + output + "' right now; wait for it or choose another -o");
    }
  }
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;
  ~OutputLock() {
    ::unlink(path_.c_str());
    ::close(fd_);
  }

 private:
  std::string path_;
  int fd_ = -1;
};

/// One thread that runs storage jobs in submission order, so that writing a
/// large result (deflate is slow) does not hold back the stages that use it.
class SerialWriter {
 public:
  SerialWriter() : thread_([this] { work(); }) {}
  SerialWriter(const SerialWriter&) = delete;
  SerialWriter& operator=(const SerialWriter&) = delete;
  ~SerialWriter() { finish(); }

  void submit(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
  }

  bool has_queued_jobs() {
    std::lock_guard lock(mutex_);
    return !jobs_.empty();
  }

  /// Runs what was submitted, then stops the thread.
  void finish() {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return closing_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();  // jobs handle their own errors
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool closing_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

struct StagePlan {
  const StageConfig* config = nullptr;
  const StageInfo* info = nullptr;
  std::unique_ptr<Stage> stage;
  std::string fingerprint;
  std::string extra;  // fingerprint_extra(), or why it could not be computed
  std::string inputs_text;
  bool compute = true;
  std::string reason;
  std::map<std::string, ValuePtr> outputs;  // filled when computed or loaded from the cache
  StageOutcome outcome;
};

class Runner {
 public:
  Runner(const Pipeline& pipeline, const RunOptions& options)
      : pipeline_(pipeline), options_(options), output_(options.output.empty() ? pipeline.output : options.output) {}

  RunReport run() {
    OutputLock lock(output_);
    std::error_code ec;
    const bool had_output = fs::exists(output_, ec);
    if (had_output) previous_ = detail::read_run(output_);  // throws if it is not HDF5: nothing is touched
    plan();

    RunReport report;
    report.output = output_;
    const bool any_compute =
        std::any_of(plans_.begin(), plans_.end(), [](const StagePlan& p) { return p.compute; });
    if (!any_compute) {
      for (auto& p : plans_) report.stages.push_back(p.outcome);
      return report;
    }

    const int threads = options_.threads > 0 ? options_.threads : tbb::info::default_concurrency();
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
    work_ = std::make_unique<detail::WorkFile>(output_, root_attributes());
    if (had_output) copy_previous_groups();
    load_cached_inputs();
    writer_ = std::make_unique<SerialWriter>();
    // One arena for the whole run: every thread can help any stage's parallel
    // loops. (An arena of a stage's own, entered by the only worker thread,
    // could never get a second thread: the main thread waits in another.)
    tbb::task_arena arena(threads);
    arena.execute([&] { execute(threads); });
    writer_->finish();

    report.interrupted = interrupted();
    const bool failed = std::any_of(plans_.begin(), plans_.end(),
                                    [](const StagePlan& p) { return p.outcome.state == StageState::failed; });
    work_->set_root_attribute("finished", now_text());
    work_->set_root_attribute("status", report.interrupted ? "interrupted" : failed ? "failed" : "complete");
    work_->publish_compacted();
    for (auto& p : plans_) report.stages.push_back(p.outcome);
    return report;
  }

 private:
  bool interrupted() const { return options_.interrupt && options_.interrupt->load(); }
  bool should_stop() const { return interrupted() || failed_.load(); }

  StagePlan& plan_of(const std::string& name) {
    for (auto& p : plans_)
      if (p.config->name == name) return p;
    throw std::logic_error("no stage " + name);
  }

  void plan() {
    plans_.reserve(pipeline_.stages.size());  // StagePlan addresses stay valid below
    for (const auto& config : pipeline_.stages) {
      StagePlan p;
      p.config = &config;
      p.info = Registry::global().find(config.type);
      p.stage = detail::instantiate(*p.info, config.params);
      try {
        p.extra = p.stage->fingerprint_extra();
      } catch (const std::exception& e) {
        p.extra = std::string("unavailable: ") + e.what();  // never matches: the stage runs and reports it
      }
      for (const auto& [port, c] : config.inputs)
        p.inputs_text += port + ": " + c.stage + "." + c.port + " @" + plan_of(c.stage).fingerprint.substr(0, 16) + "\n";
      std::ostringstream key;
      key << "fepflow-fingerprint-1\ntype: " << config.type << "\nstage_version: " << p.info->version
          << "\nseed: " << pipeline_.seed << "\nname: " << config.name << "\n"
          << parameters_text(config) << "extra: " << p.extra << "\n" << p.inputs_text;
      p.fingerprint = sha256_hex(key.str());
      decide(p);
      p.outcome.name = config.name;
      p.outcome.type = config.type;
      p.outcome.reason = p.reason;
      if (!p.compute) {
        p.outcome.state = StageState::cached;
        p.outcome.seconds = 0;
        if (const auto* stored = previous_.find(config.name)) p.outcome.metrics = stored->metrics;
      }
      plans_.push_back(std::move(p));
    }
  }

  /// Cached, or why the stage must run (DVC/Snakemake-style reasons).
  void decide(StagePlan& p) {
    const detail::StoredStage* stored = previous_.find(p.config->name);
    if (stored && stored->attribute("fingerprint") == p.fingerprint) {
      if (options_.force) {
        p.reason = "--force";
        return;
      }
      for (const auto& file : p.stage->external_files()) {
        std::error_code ec;
        if (!fs::exists(file, ec)) {
          p.reason = "its file " + file + " is missing";
          return;
        }
      }
      p.compute = false;
      p.reason = "cached";
      return;
    }
    if (options_.force) {
      p.reason = "--force";
      return;
    }
    if (!stored) {
      p.reason = "not in the output yet";
      return;
    }
    std::vector<std::string> why;
    if (stored->attribute("type") != p.config->type)
      why.push_back("type changed (" + stored->attribute("type") + " -> " + p.config->type + ")");
    auto version = stored->numbers.find("stage_version");
    if (version != stored->numbers.end() && static_cast<int>(version->second) != p.info->version)
      why.push_back("stage version changed (" + std::to_string(static_cast<int>(version->second)) + " -> " +
                    std::to_string(p.info->version) + ")");
    if (stored->attribute("seed") != std::to_string(pipeline_.seed))
      why.push_back("seed changed (" + stored->attribute("seed") + " -> " + std::to_string(pipeline_.seed) + ")");
    const auto old_params = parse_lines(stored->attribute("parameters"));
    for (const auto& [name, value] : p.config->params) {
      const std::string now = format_param_value(value);
      auto it = old_params.find(name);
      if (it == old_params.end())
        why.push_back("new parameter " + name + " = " + now);
      else if (it->second != now)
        why.push_back(name + " " + it->second + " -> " + now);
    }
    if (stored->attribute("extra") != p.extra) why.push_back("its source data changed");
    const auto old_inputs = parse_lines(stored->attribute("inputs"));
    const auto new_inputs = parse_lines(p.inputs_text);
    for (const auto& [port, text] : new_inputs) {
      auto it = old_inputs.find(port);
      if (it == old_inputs.end() || it->second != text) {
        const auto& c = p.config->inputs.at(port);
        const StagePlan& producer = plan_of(c.stage);
        why.push_back("input '" + port + "' changed" + (producer.compute ? " (" + c.stage + " re-runs)" : ""));
      }
    }
    p.reason = why.empty() ? "the stored result is from another configuration" : "";
    for (std::size_t i = 0; i < why.size(); ++i) p.reason += (i ? "; " : "") + why[i];
  }

  std::map<std::string, std::string> root_attributes() const {
    std::string order;
    for (const auto& s : pipeline_.stages) order += (order.empty() ? "" : " ") + s.name;
    return {{"pipeline_name", pipeline_.name},
            {"stage_order", order},
            {"pipeline_file", pipeline_.file},
            {"pipeline_yaml", pipeline_.yaml_text},
            {"seed", std::to_string(pipeline_.seed)},
            {"command_line", options_.command_line},
            {"started", now_text()},
            {"host", host_name()},
            {"fepflow_version", FEPFLOW_VERSION_STRING},
            {"libraries", library_versions()},
            {"status", "running"}};
  }

  /// Earlier results stay in the file until replaced: cached ones as they
  /// are, the rest marked stale (they no longer match the pipeline).
  void copy_previous_groups() {
    for (const auto& p : plans_)
      if (previous_.find(p.config->name))
        work_->copy_stage(output_, p.config->name, p.compute ? "stale" : "cached");
  }

  void load_cached_inputs() {
    std::set<std::pair<std::string, std::string>> needed;
    for (const auto& p : plans_)
      if (p.compute)
        for (const auto& [port, c] : p.config->inputs)
          if (!plan_of(c.stage).compute) needed.insert({c.stage, c.port});
    for (const auto& [stage, port] : needed)
      plan_of(stage).outputs[port] = std::make_shared<const Value>(detail::read_output(output_, stage, port));
  }

  void execute(int threads) {
    using Node = tbb::flow::continue_node<tbb::flow::continue_msg>;
    tbb::flow::graph graph;
    tbb::flow::broadcast_node<tbb::flow::continue_msg> start(graph);
    std::map<std::string, std::unique_ptr<Node>> nodes;
    for (auto& p : plans_) {
      if (!p.compute) continue;
      StagePlan* plan = &p;
      nodes[p.config->name] = std::make_unique<Node>(
          graph, [this, plan, threads](const tbb::flow::continue_msg&) { run_stage(*plan, threads); });
    }
    for (auto& p : plans_) {
      if (!p.compute) continue;
      std::set<std::string> producers;
      for (const auto& [port, c] : p.config->inputs)
        if (nodes.count(c.stage)) producers.insert(c.stage);
      Node& node = *nodes[p.config->name];
      if (producers.empty()) tbb::flow::make_edge(start, node);
      for (const auto& producer : producers) tbb::flow::make_edge(*nodes[producer], node);
    }
    start.try_put(tbb::flow::continue_msg());
    graph.wait_for_all();
  }

  void run_stage(StagePlan& p, int threads) {
    const std::string& name = p.config->name;
    const bool inputs_ready = std::all_of(p.config->inputs.begin(), p.config->inputs.end(), [&](const auto& kv) {
      return plan_of(kv.second.stage).outputs.count(kv.second.port) > 0;
    });
    if (should_stop() || !inputs_ready) {
      p.outcome.state = interrupted() ? StageState::cancelled : StageState::skipped;
      p.outcome.reason = interrupted() ? "interrupted before it started" : "an upstream stage failed";
      if (options_.observer) options_.observer->stage_finished(name, p.outcome.state, 0);
      return;
    }
    if (options_.observer) options_.observer->stage_started(name, p.reason);
    const auto begin = std::chrono::steady_clock::now();
    const std::string checkpoint = detail::checkpoint_path(output_, name);
    detail::StageContext::Hooks hooks;
    hooks.progress = [this, &name](double f, std::string_view d) {
      if (options_.observer) options_.observer->stage_progress(name, f, d);
    };
    hooks.log = [this, &name](std::string_view m) {
      if (options_.observer) options_.observer->stage_log(name, m);
    };
    hooks.cancelled = [this] { return should_stop(); };
    hooks.load_checkpoint = [this, &p, checkpoint]() -> std::optional<Checkpoint> {
      if (options_.force) return std::nullopt;
      return detail::load_checkpoint_file(checkpoint, p.fingerprint);
    };
    hooks.save_checkpoint = [&p, checkpoint](const Checkpoint& state) {
      detail::save_checkpoint_file(checkpoint, p.fingerprint, state);
    };
    detail::StageContext ctx(name, RandomStream::for_stage(pipeline_.seed, name), threads, hooks);
    try {
      std::map<std::string, ValuePtr> inputs;
      for (const auto& [port, c] : p.config->inputs) inputs[port] = plan_of(c.stage).outputs.at(c.port);
      detail::connect_inputs(*p.stage, inputs);
      // While it waits on its own parallel loops, a thread must not take up
      // another stage: that stage would hold this one until it ended.
      tbb::this_task_arena::isolate([&] { p.stage->run(ctx); });
      auto outputs = detail::collect_outputs(*p.stage);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
      detail::StageData data;
      data.attributes = {{"type", p.config->type},
                         {"parameters", parameters_text(*p.config)},
                         {"inputs", p.inputs_text},
                         {"seed", std::to_string(pipeline_.seed)},
                         {"extra", p.extra},
                         {"fingerprint", p.fingerprint},
                         {"state", "computed"},
                         {"finished", now_text()},
                         {"fepflow_version", FEPFLOW_VERSION_STRING}};
      data.numbers = {{"seconds", seconds}, {"stage_version", p.info->version}};
      data.metrics = ctx.metrics();
      data.outputs = outputs;
      // Consumers may start now; the results are stored meanwhile by the writer.
      for (auto& [port, value] : outputs) p.outputs[port] = value;
      writer_->submit([this, &p, data = std::move(data), seconds] { store(p, data, seconds); });
      return;
    } catch (const Cancelled&) {
      p.outcome.state = interrupted() ? StageState::cancelled : StageState::skipped;
      p.outcome.reason = interrupted() ? "interrupted" : "stopped: another stage failed";
    } catch (const std::exception& e) {
      p.outcome.state = StageState::failed;
      p.outcome.error = e.what();
      failed_ = true;
    }
    p.outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    if (options_.observer) options_.observer->stage_finished(name, p.outcome.state, p.outcome.seconds);
  }

  /// On the writer thread: stores a computed stage and publishes the file.
  void store(StagePlan& p, const detail::StageData& data, double seconds) {
    const std::string& name = p.config->name;
    try {
      work_->write_stage(name, data);
      // Stages finishing together are published once: each publish copies the file.
      if (!writer_->has_queued_jobs()) work_->publish();
      detail::remove_checkpoint_file(output_, name);
      p.outcome.state = StageState::computed;
      p.outcome.metrics = data.metrics;
    } catch (const std::exception& e) {
      p.outcome.state = StageState::failed;
      p.outcome.error = std::string("storing its results failed: ") + e.what();
      failed_ = true;
    }
    p.outcome.seconds = seconds;
    if (options_.observer) options_.observer->stage_finished(name, p.outcome.state, seconds);
  }

  const Pipeline& pipeline_;
  const RunOptions& options_;
  std::string output_;
  detail::StoredRun previous_;
  std::vector<StagePlan> plans_;
  std::unique_ptr<detail::WorkFile> work_;
  std::unique_ptr<SerialWriter> writer_;
  std::atomic<bool> failed_{false};
};

}  // namespace

std::vector<ExpectationResult> check_expectations(const Pipeline& pipeline, const RunReport& report) {
  std::vector<ExpectationResult> out;
  for (const auto& e : pipeline.expectations) {
    ExpectationResult r;
    r.expectation = e;
    for (const auto& s : report.stages) {
      auto it = s.metrics.find(e.metric);
      if (s.name == e.stage && it != s.metrics.end()) {
        r.found = true;
        r.value = it->second;
        r.passed = it->second >= e.low && it->second <= e.high;
      }
    }
    out.push_back(r);
  }
  return out;
}

RunReport run_pipeline(const Pipeline& pipeline, const RunOptions& options) {
  return Runner(pipeline, options).run();
}

}  // namespace fepflow
