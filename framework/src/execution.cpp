#include "execution.hpp"

#include <cmath>

namespace fepflow::detail {

std::unique_ptr<Stage> instantiate(const StageInfo& info, const std::map<std::string, ParamValue>& params) {
  auto stage = info.make();
  for (const auto& slot : stage->params()) {
    auto it = params.find(slot.spec.name);
    if (it != params.end()) slot.assign(it->second);
  }
  return stage;
}

void connect_inputs(Stage& stage, const std::map<std::string, ValuePtr>& inputs) {
  for (const auto& slot : stage.inputs()) {
    auto it = inputs.find(slot.spec.name);
    ValuePtr v = it == inputs.end() ? nullptr : it->second;
    if (v && slot.spec.any_numeric && v->dtype() != slot.spec.dtype)
      v = std::make_shared<const Value>(v->converted(slot.spec.dtype));
    *slot.value = v;
  }
}

std::vector<std::pair<std::string, ValuePtr>> collect_outputs(const Stage& stage) {
  std::vector<std::pair<std::string, ValuePtr>> out;
  for (const auto& slot : stage.outputs()) {
    const ValuePtr& v = *slot.value;
    if (!v) throw Error("the stage did not produce its output '" + slot.spec.name + "' (a bug in the stage)");
    if (slot.spec.rank != any_rank && static_cast<int>(v->rank()) != slot.spec.rank && v->dtype() != DType::string)
      throw Error("output '" + slot.spec.name + "' is declared with rank " + std::to_string(slot.spec.rank) +
                  " but the stage produced " + v->describe() + " (a bug in the stage)");
    out.emplace_back(slot.spec.name, v);
  }
  return out;
}

void StageContext::progress(double fraction, std::string_view detail) {
  if (hooks_.progress) hooks_.progress(std::clamp(fraction, 0.0, 1.0), detail);
  check_cancelled();
}

void StageContext::metric(const std::string& name, double value) {
  std::lock_guard lock(mutex_);
  metrics_[name] = value;
}

std::map<std::string, double> StageContext::metrics() const {
  std::lock_guard lock(mutex_);
  return metrics_;
}

void StageContext::log(std::string_view message) {
  if (hooks_.log) hooks_.log(message);
}

std::optional<Checkpoint> StageContext::load_checkpoint() {
  return hooks_.load_checkpoint ? hooks_.load_checkpoint() : std::nullopt;
}

void StageContext::save_checkpoint(const Checkpoint& state) {
  if (hooks_.save_checkpoint) hooks_.save_checkpoint(state);
  last_checkpoint_ = std::chrono::steady_clock::now();
}

double StageContext::seconds_since_checkpoint() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - last_checkpoint_).count();
}

}  // namespace fepflow::detail
