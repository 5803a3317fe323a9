// Helpers shared by the tests: scratch folders, files, running the CLI.
#pragma once

#include <fepflow/pipeline.hpp>

#include <functional>
#include <string>
#include <vector>

namespace fepflow::test {

/// A fresh folder under the system's temp dir, removed when the object dies.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);

/// Loads the engine test stages (tests/engine_stages) into this process.
void load_engine_test_stages();

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
/// Runs `fepflow ARGS` (arguments already shell-quoted where needed).
CommandResult run_cli(const std::string& args);
/// Runs a shell command line, capturing stdout and stderr.
CommandResult run_shell(const std::string& command);

/// Starts `fepflow ARGS...` in the background, stdout and stderr to `log`.
int spawn_cli(const std::vector<std::string>& args, const std::string& log);
/// Waits for a spawned process; its exit code, or 128 + signal.
int wait_for_exit(int pid);
/// Polls until `predicate` holds (true) or `seconds` pass (false).
bool wait_until(const std::function<bool()>& predicate, double seconds);

}  // namespace fepflow::test
