#include "console.hpp"

#include <cstdio>
#include <iostream>
#include <sstream>

namespace fepflow::cli {
namespace {

std::string duration_text(double seconds) {
  std::ostringstream out;
  if (seconds < 60)
    out << static_cast<int>(seconds + 0.5) << "s";
  else if (seconds < 3600)
    out << static_cast<int>(seconds / 60) << "m" << static_cast<int>(seconds) % 60 << "s";
  else
    out << static_cast<int>(seconds / 3600) << "h" << static_cast<int>(seconds / 60) % 60 << "m";
  return out.str();
}

}  // namespace

std::string Console::status(const std::string& stage, const Active& a) const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - a.started).count();
  std::ostringstream out;
  out << "[" << stage << "] " << static_cast<int>(a.fraction * 100) << "%";
  if (!a.detail.empty()) out << " " << a.detail;
  if (a.fraction > 0.001 && a.fraction < 1) out << ", ETA " << duration_text(elapsed * (1 - a.fraction) / a.fraction);
  return out.str();
}

void Console::print_line(const std::string& text) {
  if (live_ && drawn_width_ > 0) std::cerr << "\r" << std::string(drawn_width_, ' ') << "\r";
  drawn_width_ = 0;
  std::cerr << text << "\n";
  if (live_) redraw();
}

void Console::redraw() {
  std::string line;
  for (const auto& [stage, a] : active_) line += (line.empty() ? "" : " | ") + status(stage, a);
  if (line.size() > 160) line = line.substr(0, 157) + "...";
  std::cerr << "\r" << line;
  if (line.size() < drawn_width_) std::cerr << std::string(drawn_width_ - line.size(), ' ');
  std::cerr << std::flush;
  drawn_width_ = line.size();
  last_draw_ = std::chrono::steady_clock::now();
}

void Console::stage_started(const std::string& stage, const std::string& reason) {
  std::lock_guard lock(mutex_);
  active_[stage] = Active{std::chrono::steady_clock::now(), 0, "", 0};
  print_line("fepflow: [" + stage + "] started (" + reason + ")");
}

void Console::stage_progress(const std::string& stage, double fraction, std::string_view detail) {
  std::lock_guard lock(mutex_);
  auto it = active_.find(stage);
  if (it == active_.end()) return;
  Active& a = it->second;
  a.fraction = fraction;
  a.detail = std::string(detail);
  if (live_) {
    if (std::chrono::steady_clock::now() - last_draw_ > std::chrono::milliseconds(100)) redraw();
    return;
  }
  const int tenth = static_cast<int>(fraction * 10);
  if (tenth > a.reported_tenth && tenth < 10) {
    a.reported_tenth = tenth;
    print_line("fepflow: " + status(stage, a));
  }
}

void Console::stage_log(const std::string& stage, std::string_view message) {
  std::lock_guard lock(mutex_);
  print_line("fepflow: [" + stage + "] " + std::string(message));
}

void Console::stage_finished(const std::string& stage, StageState state, double seconds) {
  std::lock_guard lock(mutex_);
  active_.erase(stage);
  std::ostringstream out;
  out << "fepflow: [" << stage << "] " << stage_state_name(state);
  if (state != StageState::skipped && state != StageState::cancelled) out << " in " << duration_text(seconds);
  print_line(out.str());
}

void Console::finish() {
  std::lock_guard lock(mutex_);
  if (live_ && drawn_width_ > 0) std::cerr << "\r" << std::string(drawn_width_, ' ') << "\r" << std::flush;
  drawn_width_ = 0;
}

}  // namespace fepflow::cli
