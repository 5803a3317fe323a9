// What a running stage may use from the framework: its random stream,
// progress and cancellation, metrics, logging and checkpoints.
#pragma once

#include <fepflow/random.hpp>
#include <fepflow/value.hpp>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fepflow {

/// Thrown by Context::progress / check_cancelled once the run is cancelled
/// (Ctrl-C, or another stage failed). Stages let it propagate.
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("cancelled") {}
};

/// Named values a stage saves to resume later (e.g. weights, epoch, history).
using Checkpoint = std::map<std::string, Value>;

class Context {
 public:
  virtual ~Context() = default;

  /// The stage's name in the pipeline.
  virtual const std::string& stage_name() const = 0;
  /// The stage's own counter-based stream, derived from the pipeline seed and
  /// the stage name. Key draws by item (chain, epoch, ...) through substreams.
  virtual const RandomStream& rng() const = 0;
  /// The most threads the stage's own parallel loops may use (--threads).
  /// The stage runs inside the run's TBB arena of that many threads: call
  /// TBB's parallel algorithms directly. (An arena of the stage's own would
  /// lose threads: one that the run has lent to another stage cannot join it.)
  virtual int max_threads() const = 0;

  /// Reports progress in [0, 1] with a short detail ("epoch 120, VFE -3.2").
  /// Throws Cancelled if the run was cancelled; call it regularly.
  virtual void progress(double fraction, std::string_view detail = {}) = 0;
  virtual bool cancelled() const = 0;
  void check_cancelled() const {
    if (cancelled()) throw Cancelled();
  }

  /// A headline scalar (stored with the stage, shown by the run summary and
  /// `fepflow inspect`).
  virtual void metric(const std::string& name, double value) = 0;
  virtual void log(std::string_view message) = 0;

  /// The checkpoint saved by an interrupted earlier run of this very stage
  /// (same fingerprint), if any.
  virtual std::optional<Checkpoint> load_checkpoint() = 0;
  /// Saves a checkpoint atomically (replacing the previous one); the framework
  /// deletes it once the stage has finished and its results are stored.
  virtual void save_checkpoint(const Checkpoint& state) = 0;
  /// Seconds since the last checkpoint (or the stage's start): stages use it
  /// to checkpoint about once a minute without knowing the machine's speed.
  virtual double seconds_since_checkpoint() const = 0;
};

}  // namespace fepflow
