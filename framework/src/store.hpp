// The HDF5 store: one file per run, a group per stage, a dataset per output
// port. Writes go to a working copy that is published by atomic rename, so
// the output file is always either the previous one or a valid file holding
// every stage finished so far. Every function takes hdf5_mutex() itself.
#pragma once

#include <fepflow/context.hpp>
#include <fepflow/value.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace fepflow::detail {

/// What the store keeps about one stage (attributes of its group).
struct StoredStage {
  std::string name;
  std::map<std::string, std::string> attributes;  // type, parameters, fingerprint, ...
  std::map<std::string, double> numbers;          // seconds, stage_version, ...
  std::map<std::string, double> metrics;          // headline scalars
  std::vector<std::pair<std::string, std::string>> datasets;  // port -> "float32[400, 4096]"

  std::string attribute(const std::string& key) const {
    auto it = attributes.find(key);
    return it == attributes.end() ? std::string() : it->second;
  }
};

struct StoredRun {
  std::map<std::string, std::string> attributes;  // root: pipeline text, seed, host, ...
  std::vector<StoredStage> stages;                // in file order
  const StoredStage* find(const std::string& stage) const;
};

/// Reads what a file holds (no array data). Throws fepflow::Error if the file
/// exists but is not a readable HDF5 file.
StoredRun read_run(const std::string& file);
/// Reads one stage's output port.
Value read_output(const std::string& file, const std::string& stage, const std::string& port);

/// Whether deflating an array is worth its time (about a second per 35 MB):
/// only if it shrinks the data at least 1.25:1. Trained couplings (float32
/// noise to deflate: 1.16:1) are stored raw; images, masks, counts and
/// saturated states (1.3:1 to 10:1) are deflated. Judged on `elements` values
/// (the first chunk), byte-shuffled as HDF5's filter would.
bool deflate_pays(const void* values, std::size_t elements, std::size_t element_size);

/// A group's content to write.
struct StageData {
  std::map<std::string, std::string> attributes;
  std::map<std::string, double> numbers;
  std::map<std::string, double> metrics;
  std::vector<std::pair<std::string, ValuePtr>> outputs;
};

class WorkFile {
 public:
  /// Starts a working copy for `output` (in the same folder, hidden name).
  WorkFile(std::string output, const std::map<std::string, std::string>& root_attributes);
  WorkFile(const WorkFile&) = delete;
  WorkFile& operator=(const WorkFile&) = delete;
  /// Removes the working files (not the published output).
  ~WorkFile();

  /// Copies a stage group from a previous output, setting its `state` attribute.
  void copy_stage(const std::string& previous_file, const std::string& stage, const std::string& state);
  /// Writes (or replaces) a stage group.
  void write_stage(const std::string& stage, const StageData& data);
  void set_root_attribute(const std::string& key, const std::string& value);
  /// Atomically replaces the output with the working copy's current content.
  void publish();
  /// Publishes a compacted copy (space of replaced groups reclaimed).
  void publish_compacted();

 private:
  std::string output_;
  std::string work_;
  bool replaced_any_ = false;
};

/// Checkpoints live beside the output (`OUT.h5.checkpoints/<stage>.h5`), keyed
/// by the stage's fingerprint, written atomically.
std::string checkpoint_path(const std::string& output, const std::string& stage);
void save_checkpoint_file(const std::string& path, const std::string& fingerprint, const Checkpoint& state);
/// The checkpoint if the file exists and its fingerprint matches.
std::optional<Checkpoint> load_checkpoint_file(const std::string& path, const std::string& fingerprint);
void remove_checkpoint_file(const std::string& output, const std::string& stage);

}  // namespace fepflow::detail
