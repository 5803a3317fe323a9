#include <fepflow/registry.hpp>

#include "suggest.hpp"

#include <algorithm>
#include <cctype>

namespace fepflow {

Registry& Registry::global() {
  static Registry registry;
  return registry;
}

namespace {

bool is_identifier(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

/// Port and parameter names become YAML keys and HDF5 dataset names.
void check_declarations(const StageInfo& info) {
  const auto stage = info.make();
  std::vector<std::string> seen;
  auto check = [&](const std::string& what, const std::string& name, std::vector<std::string>& names) {
    if (!is_identifier(name))
      throw Error("stage type '" + info.type + "' (" + info.origin + ") declares " + what + " '" + name +
                  "': names are letters, digits and '_', not starting with a digit");
    if (std::find(names.begin(), names.end(), name) != names.end())
      throw Error("stage type '" + info.type + "' (" + info.origin + ") declares " + what + " '" + name + "' twice");
    names.push_back(name);
  };
  std::vector<std::string> inputs, outputs, params;
  for (const auto& slot : stage->inputs()) check("input", slot.spec.name, inputs);
  for (const auto& slot : stage->outputs()) check("output", slot.spec.name, outputs);
  for (const auto& slot : stage->params()) check("parameter", slot.spec.name, params);
}

}  // namespace

void Registry::add(StageInfo info) {
  if (!is_identifier(info.type))
    throw Error("stage type '" + info.type + "' (" + info.origin + "): type names are letters, digits and '_'");
  if (const StageInfo* existing = find(info.type))
    throw Error("stage type '" + info.type + "' from " + info.origin + " is already registered by " +
                existing->origin);
  check_declarations(info);
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
