// Running one stage: what the pipeline runner and the test harness share.
#pragma once

#include <fepflow/context.hpp>
#include <fepflow/pipeline.hpp>
#include <fepflow/registry.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>

namespace fepflow::detail {

/// Builds a stage of `info`'s type and assigns validated parameter values.
std::unique_ptr<Stage> instantiate(const StageInfo& info, const std::map<std::string, ParamValue>& params);

/// Gives each input port its value (absent optional inputs stay unconnected).
void connect_inputs(Stage& stage, const std::map<std::string, ValuePtr>& inputs);

/// The stage's outputs after run(); throws fepflow::Error if one is missing
/// or does not have its declared dtype and rank.
std::vector<std::pair<std::string, ValuePtr>> collect_outputs(const Stage& stage);

/// The Context a stage runs with; what it does with progress, logs and
/// checkpoints is given by its owner.
class StageContext : public Context {
 public:
  struct Hooks {
    std::function<void(double, std::string_view)> progress;
    std::function<void(std::string_view)> log;
    std::function<std::optional<Checkpoint>()> load_checkpoint;
    std::function<void(const Checkpoint&)> save_checkpoint;
    std::function<bool()> cancelled;
  };

  StageContext(std::string name, RandomStream rng, int max_threads, Hooks hooks)
      : name_(std::move(name)), rng_(rng), max_threads_(max_threads), hooks_(std::move(hooks)),
        last_checkpoint_(std::chrono::steady_clock::now()) {}

  const std::string& stage_name() const override { return name_; }
  const RandomStream& rng() const override { return rng_; }
  int max_threads() const override { return max_threads_; }
  void progress(double fraction, std::string_view detail) override;
  bool cancelled() const override { return hooks_.cancelled && hooks_.cancelled(); }
  void metric(const std::string& name, double value) override;
  void log(std::string_view message) override;
  std::optional<Checkpoint> load_checkpoint() override;
  void save_checkpoint(const Checkpoint& state) override;
  double seconds_since_checkpoint() const override;

  std::map<std::string, double> metrics() const;

 private:
  std::string name_;
  RandomStream rng_;
  int max_threads_;
  Hooks hooks_;
  mutable std::mutex mutex_;
  std::map<std::string, double> metrics_;
  std::chrono::steady_clock::time_point last_checkpoint_;
};

}  // namespace fepflow::detail
