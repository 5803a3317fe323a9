#include <fepflow/testing.hpp>

#include "execution.hpp"
#include "suggest.hpp"

#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/task_arena.h>

namespace fepflow::testing {
namespace {

/// The value as the declared kind (integers are accepted for reals); empty if it does not fit.
std::optional<ParamValue> coerce(const ParamValue& v, ParamKind kind) {
  if (kind == ParamKind::real && std::holds_alternative<std::int64_t>(v))
    return static_cast<double>(std::get<std::int64_t>(v));
  if (kind == ParamKind::real_list && std::holds_alternative<std::vector<std::int64_t>>(v)) {
    const auto& ints = std::get<std::vector<std::int64_t>>(v);
    return std::vector<double>(ints.begin(), ints.end());
  }
  static constexpr ParamKind by_index[] = {ParamKind::integer,   ParamKind::real,         ParamKind::boolean,
                                           ParamKind::string,    ParamKind::real_list,    ParamKind::integer_list,
                                           ParamKind::string_list};
  if (by_index[v.index()] == kind) return v;
  return std::nullopt;
}

}  // namespace

const Value& StageResult::output(const std::string& port) const {
  auto it = outputs.find(port);
  if (it == outputs.end()) throw Error("the stage has no output '" + port + "'");
  return *it->second;
}

StageResult run_stage(std::string_view type, const std::map<std::string, ParamValue>& params,
                      const std::map<std::string, Value>& inputs, const StageRunOptions& options) {
  const StageInfo* info = Registry::global().find(type);
  if (!info)
    throw Error("unknown stage type '" + std::string(type) + "'" +
                detail::did_you_mean(Registry::global().closest(type)));
  const auto prototype = info->make();
  std::map<std::string, ParamValue> values;
  std::vector<std::string> names;
  for (const auto& slot : prototype->params()) names.push_back(slot.spec.name);
  for (const auto& [name, value] : params) {
    auto slot = std::find_if(prototype->params().begin(), prototype->params().end(),
                             [&](const auto& s) { return s.spec.name == name; });
    if (slot == prototype->params().end())
      throw ParamError(name, "unknown parameter '" + name + "'" + detail::did_you_mean(detail::closest_names(name, names)));
    auto v = coerce(value, slot->spec.kind);
    if (!v) throw ParamError(name, "parameter '" + name + "' expects " + param_kind_name(slot->spec.kind));
    if (const std::string why = slot->spec.constraint.check(*v); !why.empty())
      throw ParamError(name, "parameter '" + name + "' " + why);
    values[name] = *v;
  }
  for (const auto& slot : prototype->params())
    if (!values.count(slot.spec.name) && !slot.spec.default_value)
      throw ParamError(slot.spec.name, "missing required parameter '" + slot.spec.name + "'");

  auto stage = detail::instantiate(*info, values);
  std::map<std::string, ValuePtr> connected;
  for (const auto& [port, value] : inputs) {
    auto slot = std::find_if(stage->inputs().begin(), stage->inputs().end(),
                             [&](const auto& s) { return s.spec.name == port; });
    if (slot == stage->inputs().end()) throw Error("the stage has no input '" + port + "'");
    const bool convertible = slot->spec.any_numeric && value.dtype() != DType::string;
    if (value.dtype() != slot->spec.dtype && !convertible)
      throw Error("input '" + port + "' expects " + dtype_name(slot->spec.dtype) + ", got " + value.describe());
    connected[port] = std::make_shared<const Value>(value);
  }
  for (const auto& slot : stage->inputs())
    if (!slot.spec.optional && !connected.count(slot.spec.name))
      throw Error("missing required input '" + slot.spec.name + "'");
  detail::connect_inputs(*stage, connected);

  const int threads = options.threads > 0 ? options.threads : tbb::info::default_concurrency();
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
  std::optional<Checkpoint> saved;
  detail::StageContext::Hooks hooks;
  hooks.load_checkpoint = [&] { return saved; };
  hooks.save_checkpoint = [&](const Checkpoint& c) { saved = c; };
  detail::StageContext ctx(options.name, RandomStream::for_stage(options.seed, options.name), threads, hooks);
  tbb::task_arena arena(threads);  // as in a run: the stage's loops get `threads` threads
  arena.execute([&] { stage->run(ctx); });

  StageResult result;
  for (auto& [port, value] : detail::collect_outputs(*stage)) result.outputs[port] = value;
  result.metrics = ctx.metrics();
  return result;
}

}  // namespace fepflow::testing
