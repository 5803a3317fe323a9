// Progress on the terminal: a live status line on a TTY, plain log lines
// (at each tenth of a stage's progress) otherwise.
#pragma once

#include <fepflow/pipeline.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace fepflow::cli {

class Console : public RunObserver {
 public:
  explicit Console(bool live) : live_(live) {}
  void stage_started(const std::string& stage, const std::string& reason) override;
  void stage_progress(const std::string& stage, double fraction, std::string_view detail) override;
  void stage_log(const std::string& stage, std::string_view message) override;
  void stage_finished(const std::string& stage, StageState state, double seconds) override;
  /// Clears the live line before the summary is printed.
  void finish();

 private:
  struct Active {
    std::chrono::steady_clock::time_point started;
    double fraction = 0;
    std::string detail;
    int reported_tenth = 0;
  };
  void print_line(const std::string& text);  // above the live line
  void redraw();
  std::string status(const std::string& stage, const Active& a) const;

  bool live_;
  std::mutex mutex_;
  std::map<std::string, Active> active_;
  std::chrono::steady_clock::time_point last_draw_{};
  std::size_t drawn_width_ = 0;
};

}  // namespace fepflow::cli
