#include <fepflow/registry.hpp>

#include "suggest.hpp"

#include <algorithm>

namespace fepflow {

Registry& Registry::global() {
  static Registry registry;
  return registry;
}

void Registry::add(StageInfo info) {
  if (const StageInfo* existing = find(info.type))
    throw Error("stage type '" + info.type + "' from " + info.origin + " is already registered by " +
                existing->origin);
  stages_.push_back(std::move(info));
}

const StageInfo* Registry::find(std::string_view type) const {
  for (const auto& s : stages_)
    if (s.type == type) return &s;
  return nullptr;
}

std::vector<const StageInfo*> Registry::all() const {
  std::vector<const StageInfo*> out;
  for (const auto& s : stages_) out.push_back(&s);
  std::sort(out.begin(), out.end(), [](const auto* a, const auto* b) { return a->type < b->type; });
  return out;
}

std::vector<std::string> Registry::closest(std::string_view type, std::size_t max) const {
  std::vector<std::string> names;
  for (const auto& s : stages_) names.push_back(s.type);
  return detail::closest_names(type, names, max);
}

}  // namespace fepflow
