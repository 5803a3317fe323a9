// Reading and validating pipeline YAML. Every problem is collected with its
// position, so one run of `fepflow validate` shows them all.
#include <fepflow/pipeline.hpp>
#include <fepflow/registry.hpp>

#include "suggest.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

namespace fepflow {

std::string Diagnostic::str() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!stage.empty()) out += "stage '" + stage + "': ";
  return out + message;
}

namespace {

std::string join_messages(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += (out.empty() ? "" : "\n") + d.str();
  return out;
}

}  // namespace

ValidationError::ValidationError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join_messages(diagnostics)), diagnostics_(std::move(diagnostics)) {}

const StageConfig* Pipeline::find(std::string_view stage) const {
  for (const auto& s : stages)
    if (s.name == stage) return &s;
  return nullptr;
}

namespace {

const std::regex& identifier() {
  static const std::regex re("[A-Za-z_][A-Za-z0-9_]*");
  return re;
}

/// Where a YAML node came from: the pipeline file, or a --set override.
struct Origin {
  std::string file;
  std::string override_text;  // non-empty for --set values
};

/// Converts a YAML node to a parameter of `kind`; empty optional and an
/// explanation when it does not fit.
std::optional<ParamValue> convert_param(const YAML::Node& n, ParamKind kind, std::string& why) {
  auto scalar = [&](auto tag) -> std::optional<decltype(tag)> {
    using T = decltype(tag);
    if (!n.IsScalar()) return std::nullopt;
    const std::string& s = n.Scalar();
    if constexpr (std::is_same_v<T, std::string>) {
      return s;
    } else if constexpr (std::is_same_v<T, bool>) {
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
      return std::nullopt;
    } else {
      if (s == "true" || s == "false") return std::nullopt;
      try {
        return n.as<T>();
      } catch (const YAML::Exception&) {
        return std::nullopt;
      }
    }
  };
  auto list = [&](auto tag) -> std::optional<ParamValue> {
    using T = decltype(tag);
    if (!n.IsSequence()) return std::nullopt;
    std::vector<T> out;
    for (const auto& e : n) {
      if (!e.IsScalar()) return std::nullopt;
      const std::string& s = e.Scalar();
      if constexpr (std::is_same_v<T, std::string>) {
        out.push_back(s);
      } else {
        if (s == "true" || s == "false") return std::nullopt;
        try {
          out.push_back(e.as<T>());
        } catch (const YAML::Exception&) {
          return std::nullopt;
        }
      }
    }
    return ParamValue(std::move(out));
  };
  std::optional<ParamValue> v;
  switch (kind) {
    case ParamKind::integer:
      if (auto x = scalar(std::int64_t{})) v = *x;
      why = "an integer";
      break;
    case ParamKind::real:
      if (auto x = scalar(double{})) v = *x;
      why = "a number";
      break;
    case ParamKind::boolean:
      if (auto x = scalar(bool{})) v = *x;
      why = "true or false";
      break;
    case ParamKind::string:
      if (auto x = scalar(std::string{})) v = *x;
      why = "a string";
      break;
    case ParamKind::real_list:
      v = list(double{});
      why = "a list of numbers";
      break;
    case ParamKind::integer_list:
      v = list(std::int64_t{});
      why = "a list of integers";
      break;
    case ParamKind::string_list:
      v = list(std::string{});
      why = "a list of strings";
      break;
  }
  return v;
}


class Validator {
 public:
  Validator(std::string file, std::string yaml_text) : file_(std::move(file)) {
    pipeline_.file = file_;
    pipeline_.yaml_text = std::move(yaml_text);
  }

  Pipeline run(const std::vector<std::string>& overrides) {
    YAML::Node root;
    try {
      root = YAML::Load(pipeline_.yaml_text);
    } catch (const YAML::ParserException& e) {
      error_at(e.mark, "", "YAML syntax error: " + e.msg);
      throw ValidationError(diagnostics_);
    }
    if (!root.IsMap()) {
      error_at(root.IsDefined() && !root.IsNull() ? root.Mark() : YAML::Mark(), "",
               "a pipeline is a YAML mapping with at least a 'stages' entry");
      throw ValidationError(diagnostics_);
    }
    read_top_level(root);
    apply_overrides(overrides);
    check_stages();
    order_stages();
    if (!diagnostics_.empty()) {
      // File order; command-line problems after the file's.
      std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
        const auto key = [](const Diagnostic& d) { return std::make_pair(d.line == 0 ? INT32_MAX : d.line, d.column); };
        return key(a) < key(b);
      });
      throw ValidationError(diagnostics_);
    }
    return std::move(pipeline_);
  }

 private:
  struct RawStage {
    std::string name;
    YAML::Mark mark;
    std::optional<YAML::Node> type;  // none when missing (reported when read)
    std::vector<std::pair<std::string, YAML::Node>> params;  // in file order, overrides appended
    std::map<std::string, Origin> param_origin;
    std::map<std::string, YAML::Mark> param_marks;
    std::vector<std::pair<std::string, YAML::Node>> inputs;
    std::map<std::string, YAML::Mark> input_marks;
    std::unique_ptr<Stage> prototype;  // a default instance: its declared ports and parameters
  };

  void error_at(const YAML::Mark& mark, const std::string& stage, const std::string& message) {
    Diagnostic d{file_, mark.line >= 0 ? mark.line + 1 : 0, mark.column >= 0 ? mark.column + 1 : 0, stage,
                 message};
    diagnostics_.push_back(std::move(d));
  }
  void error_from(const Origin& origin, const YAML::Mark& mark, const std::string& stage,
                  const std::string& message) {
    if (origin.override_text.empty())
      error_at(mark, stage, message);
    else
      diagnostics_.push_back({"--set " + origin.override_text, 0, 0, stage, message});
  }

  static std::string scalar_text(const YAML::Node& n) {
    if (n.IsScalar()) return "'" + n.Scalar() + "'";
    if (n.IsSequence()) return "a list";
    if (n.IsMap()) return "a mapping";
    return "nothing";
  }

  void read_top_level(const YAML::Node& root) {
    static const std::vector<std::string> known = {"name",    "description", "seed",  "output",
                                                   "plugins", "stages",      "expect"};
    for (const auto& kv : root) {
      const std::string key = kv.first.Scalar();
      if (std::find(known.begin(), known.end(), key) == known.end())
        error_at(kv.first.Mark(), "",
                 "unknown top-level key '" + key + "'" + detail::did_you_mean(detail::closest_names(key, known)) +
                     "; expected: name, description, seed, output, plugins, stages, expect");
    }
    pipeline_.name = std::filesystem::path(file_).stem().string();
    if (const auto n = root["name"]) {
      if (!n.IsScalar() || !std::regex_match(n.Scalar(), identifier()))
        error_at(n.Mark(), "", "'name' must be a name of letters, digits and '_', got " + scalar_text(n));
      else
        pipeline_.name = n.Scalar();
    }
    if (const auto n = root["seed"]) read_seed(n, Origin{file_, ""});
    pipeline_.output = "results/" + pipeline_.name + ".h5";
    if (const auto n = root["output"]) {
      if (!n.IsScalar() || n.Scalar().empty())
        error_at(n.Mark(), "", "'output' must be a file path, got " + scalar_text(n));
      else
        pipeline_.output = n.Scalar();
    }
    if (const auto n = root["plugins"]) read_plugins(n);
    const auto stages = root["stages"];
    if (!stages) {
      error_at(root.Mark(), "", "missing 'stages': a mapping of stage name -> {type, params, inputs}");
      return;
    }
    if (!stages.IsMap() || stages.size() == 0) {
      error_at(stages.Mark(), "", "'stages' must be a non-empty mapping of stage name -> {type, params, inputs}");
      return;
    }
    for (const auto& kv : stages) read_stage(kv.first, kv.second);
    if (const auto n = root["expect"]) read_expectations(n);
  }

  void read_expectations(const YAML::Node& n) {
    if (!n.IsMap()) {
      error_at(n.Mark(), "", "'expect' must be a mapping of stage.metric -> {near: x, tol: t} or {between: [lo, hi]}");
      return;
    }
    for (const auto& kv : n) {
      const std::string key = kv.first.Scalar();
      const auto dot = key.find('.');
      Expectation e;
      if (dot == std::string::npos || dot == 0 || dot + 1 == key.size()) {
        error_at(kv.first.Mark(), "", "an expectation is named stage.metric, got '" + key + "'");
        continue;
      }
      e.stage = key.substr(0, dot);
      e.metric = key.substr(dot + 1);
      const YAML::Node& spec = kv.second;
      try {
        if (spec.IsMap() && spec["near"] && spec["tol"] && spec.size() == 2) {
          const double near = spec["near"].as<double>(), tol = spec["tol"].as<double>();
          if (!(tol >= 0)) throw YAML::Exception(spec.Mark(), "tol");
          e.low = near - tol;
          e.high = near + tol;
          e.text = format_param_value(near) + " +- " + format_param_value(tol);
        } else if (spec.IsMap() && spec["between"] && spec.size() == 1 && spec["between"].IsSequence() &&
                   spec["between"].size() == 2) {
          e.low = spec["between"][0].as<double>();
          e.high = spec["between"][1].as<double>();
          if (!(e.low <= e.high)) throw YAML::Exception(spec.Mark(), "order");
          e.text = "[" + format_param_value(e.low) + ", " + format_param_value(e.high) + "]";
        } else {
          throw YAML::Exception(spec.Mark(), "form");
        }
      } catch (const YAML::Exception&) {
        error_at(spec.Mark(), "",
                 "expectation '" + key + "' must be {near: x, tol: t} with t >= 0, or {between: [lo, hi]} with lo <= hi");
        continue;
      }
      if (!find_raw(e.stage)) {
        error_at(kv.first.Mark(), "",
                 "expectation '" + key + "' names stage '" + e.stage + "', which is not in the pipeline" +
                     detail::did_you_mean(detail::closest_names(e.stage, stage_names())));
        continue;
      }
      pipeline_.expectations.push_back(e);
    }
  }

  void read_seed(const YAML::Node& n, const Origin& origin) {
    try {
      const long long seed = n.as<long long>();
      if (seed < 0) throw YAML::Exception(n.Mark(), "negative");
      pipeline_.seed = static_cast<std::uint64_t>(seed);
    } catch (const YAML::Exception&) {
      error_from(origin, n.Mark(), "", "'seed' must be a non-negative integer, got " + scalar_text(n));
    }
  }

  void read_plugins(const YAML::Node& n) {
    if (!n.IsSequence()) {
      error_at(n.Mark(), "", "'plugins' must be a list of shared-library paths");
      return;
    }
    const auto base = std::filesystem::path(file_).parent_path();
    for (const auto& p : n) {
      if (!p.IsScalar()) {
        error_at(p.Mark(), "", "a plugin entry must be a path, got " + scalar_text(p));
        continue;
      }
      std::filesystem::path path = p.Scalar();
      if (path.is_relative()) path = base / path;
      try {
        load_plugin(path.string());
        pipeline_.plugins.push_back(path.string());
      } catch (const std::exception& e) {
        error_at(p.Mark(), "", e.what());
      }
    }
  }

  void read_stage(const YAML::Node& key, const YAML::Node& body) {
    RawStage s;
    s.name = key.Scalar();
    s.mark = key.Mark();
    if (!std::regex_match(s.name, identifier()))
      error_at(key.Mark(), s.name, "a stage name must be letters, digits and '_' (not starting with a digit)");
    for (const auto& other : raw_)
      if (other.name == s.name) {
        error_at(key.Mark(), s.name,
                 "duplicate stage name (first defined at line " + std::to_string(other.mark.line + 1) + ")");
        return;
      }
    if (!body.IsMap()) {
      error_at(body.IsNull() ? key.Mark() : body.Mark(), s.name,
               "a stage is a mapping with 'type' and optional 'params' and 'inputs'");
      raw_.push_back(std::move(s));
      return;
    }
    static const std::vector<std::string> known = {"type", "params", "inputs", "doc"};
    for (const auto& kv : body) {
      const std::string k = kv.first.Scalar();
      if (std::find(known.begin(), known.end(), k) == known.end())
        error_at(kv.first.Mark(), s.name,
                 "unknown key '" + k + "'" + detail::did_you_mean(detail::closest_names(k, known)) +
                     "; a stage has: type, params, inputs, doc");
    }
    if (const auto type = body["type"])
      s.type = type;
    else
      error_at(body.Mark(), s.name, "missing 'type'");
    if (const auto params = body["params"]) {
      if (!params.IsMap() && !params.IsNull())
        error_at(params.Mark(), s.name, "'params' must be a mapping of parameter -> value");
      else if (params.IsMap())
        for (const auto& kv : params) {
          s.params.emplace_back(kv.first.Scalar(), kv.second);
          s.param_origin[kv.first.Scalar()] = Origin{file_, ""};
          s.param_marks[kv.first.Scalar()] = kv.first.Mark();
        }
    }
    if (const auto inputs = body["inputs"]) {
      if (!inputs.IsMap() && !inputs.IsNull())
        error_at(inputs.Mark(), s.name, "'inputs' must be a mapping of input port -> stage.port");
      else if (inputs.IsMap())
        for (const auto& kv : inputs) {
          s.inputs.emplace_back(kv.first.Scalar(), kv.second);
          s.input_marks[kv.first.Scalar()] = kv.first.Mark();
        }
    }
    raw_.push_back(std::move(s));
  }

  RawStage* find_raw(const std::string& name) {
    for (auto& s : raw_)
      if (s.name == name) return &s;
    return nullptr;
  }
  std::vector<std::string> stage_names() const {
    std::vector<std::string> names;
    for (const auto& s : raw_) names.push_back(s.name);
    return names;
  }

  void apply_overrides(const std::vector<std::string>& overrides) {
    for (const auto& text : overrides) {
      const Origin origin{"--set", text};
      const auto eq = text.find('=');
      if (eq == std::string::npos || eq == 0) {
        diagnostics_.push_back({"--set " + text, 0, 0, "", "expected stage.param=value (or seed=N, output=PATH)"});
        continue;
      }
      const std::string target = text.substr(0, eq);
      YAML::Node value;
      try {
        value = YAML::Load(text.substr(eq + 1));
      } catch (const YAML::Exception& e) {
        diagnostics_.push_back({"--set " + text, 0, 0, "", "the value is not valid YAML: " + e.msg});
        continue;
      }
      const auto dot = target.find('.');
      if (dot == std::string::npos) {
        if (target == "seed") {
          read_seed(value, origin);
        } else if (target == "output" && value.IsScalar() && !value.Scalar().empty()) {
          pipeline_.output = value.Scalar();
        } else {
          diagnostics_.push_back({"--set " + text, 0, 0, "",
                                  "expected stage.param=value (or seed=N, output=PATH), got '" + target + "'"});
        }
        continue;
      }
      const std::string stage = target.substr(0, dot), param = target.substr(dot + 1);
      RawStage* s = find_raw(stage);
      if (!s) {
        diagnostics_.push_back({"--set " + text, 0, 0, "",
                                "no stage '" + stage + "' in the pipeline" +
                                    detail::did_you_mean(detail::closest_names(stage, stage_names()))});
        continue;
      }
      auto it = std::find_if(s->params.begin(), s->params.end(), [&](const auto& p) { return p.first == param; });
      if (it != s->params.end())
        it->second = value;
      else
        s->params.emplace_back(param, value);
      s->param_origin[param] = origin;
    }
  }

  void check_stages() {
    auto& registry = Registry::global();
    for (auto& s : raw_) {
      if (!s.type) continue;
      if (!s.type->IsScalar()) {
        error_at(s.type->Mark(), s.name, "'type' must be a stage type name, got " + scalar_text(*s.type));
        continue;
      }
      const StageInfo* info = registry.find(s.type->Scalar());
      if (!info) {
        error_at(s.type->Mark(), s.name,
                 "unknown stage type '" + s.type->Scalar() + "'" +
                     detail::did_you_mean(registry.closest(s.type->Scalar())) +
                     "; `fepflow stages` lists them all");
        continue;
      }
      s.prototype = info->make();
    }
    for (auto& s : raw_) {
      if (!s.prototype) continue;
      StageConfig config;
      config.name = s.name;
      config.type = s.type->Scalar();
      check_params(s, config);
      check_inputs(s, config);
      pipeline_.stages.push_back(std::move(config));
    }
  }

  void check_params(RawStage& s, StageConfig& config) {
    const auto& declared = s.prototype->params();
    std::vector<std::string> names;
    for (const auto& p : declared) names.push_back(p.spec.name);
    for (const auto& [name, node] : s.params) {
      const Origin& origin = s.param_origin[name];
      const YAML::Mark mark = origin.override_text.empty() ? s.param_marks[name] : YAML::Mark();
      auto it = std::find_if(declared.begin(), declared.end(), [&](const auto& p) { return p.spec.name == name; });
      if (it == declared.end()) {
        error_from(origin, mark, s.name,
                   "unknown parameter '" + name + "' for type '" + config.type + "'" +
                       detail::did_you_mean(detail::closest_names(name, names)) +
                       "; `fepflow describe " + config.type + "` lists its parameters");
        continue;
      }
      const ParamSpec& spec = it->spec;
      const YAML::Mark value_mark = origin.override_text.empty() ? node.Mark() : YAML::Mark();
      if (node.IsNull()) {
        error_from(origin, value_mark.line >= 0 ? value_mark : mark, s.name,
                   "parameter '" + name + "' has no value; expected " + param_kind_name(spec.kind));
        continue;
      }
      std::string expected;
      auto value = convert_param(node, spec.kind, expected);
      if (!value) {
        error_from(origin, value_mark, s.name,
                   "parameter '" + name + "' expects " + expected + ", got " + scalar_text(node));
        continue;
      }
      if (const std::string why = spec.constraint.check(*value); !why.empty()) {
        error_from(origin, value_mark, s.name, "parameter '" + name + "' " + why);
        continue;
      }
      config.params[name] = *value;
      config.param_origin[name] = origin.override_text.empty() ? "yaml" : "--set";
    }
    for (const auto& p : declared) {
      if (config.params.count(p.spec.name)) continue;
      const bool given = std::any_of(s.params.begin(), s.params.end(),
                                     [&](const auto& kv) { return kv.first == p.spec.name; });
      if (given) continue;  // already reported as invalid
      if (p.spec.default_value) {
        config.params[p.spec.name] = *p.spec.default_value;
        config.param_origin[p.spec.name] = "default";
      } else {
        error_at(s.mark, s.name,
                 "missing required parameter '" + p.spec.name + "' (" + param_kind_name(p.spec.kind) + ": " +
                     p.spec.doc + ")");
      }
    }
  }

  void check_inputs(RawStage& s, StageConfig& config) {
    const auto& declared = s.prototype->inputs();
    std::vector<std::string> names;
    for (const auto& p : declared) names.push_back(p.spec.name);
    for (const auto& [port, node] : s.inputs) {
      const YAML::Mark mark = s.input_marks[port];
      auto it = std::find_if(declared.begin(), declared.end(), [&](const auto& p) { return p.spec.name == port; });
      if (it == declared.end()) {
        error_at(mark, s.name,
                 "unknown input port '" + port + "' for type '" + config.type + "'" +
                     detail::did_you_mean(detail::closest_names(port, names)) +
                     (names.empty() ? "; it has no inputs" : "; `fepflow describe " + config.type + "` lists its ports"));
        continue;
      }
      const std::string text = node.IsScalar() ? node.Scalar() : "";
      const auto dot = text.find('.');
      if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) {
        error_at(node.Mark(), s.name,
                 "input '" + port + "' must name an output as stage.port, got " + scalar_text(node));
        continue;
      }
      const std::string producer = text.substr(0, dot), out_port = text.substr(dot + 1);
      RawStage* p = find_raw(producer);
      if (!p) {
        error_at(node.Mark(), s.name,
                 "input '" + port + "' names stage '" + producer + "', which is not in the pipeline" +
                     detail::did_you_mean(detail::closest_names(producer, stage_names())));
        continue;
      }
      if (!p->prototype) continue;  // its type is unknown: reported already
      const auto& outs = p->prototype->outputs();
      auto o = std::find_if(outs.begin(), outs.end(), [&](const auto& x) { return x.spec.name == out_port; });
      if (o == outs.end()) {
        std::vector<std::string> out_names;
        for (const auto& x : outs) out_names.push_back(x.spec.name);
        std::string listing;
        for (const auto& n : out_names) listing += (listing.empty() ? "" : ", ") + n;
        error_at(node.Mark(), s.name,
                 "input '" + port + "': stage '" + producer + "' (" + p->type->Scalar() + ") has no output '" +
                     out_port + "'" + detail::did_you_mean(detail::closest_names(out_port, out_names)) +
                     "; its outputs: " + listing);
        continue;
      }
      const PortSpec& in = it->spec;
      const PortSpec& out = o->spec;
      const bool convertible = in.any_numeric && out.dtype != DType::string;
      if (in.dtype != out.dtype && !convertible) {
        error_at(node.Mark(), s.name,
                 "input '" + port + "' expects " + dtype_name(in.dtype) + (in.any_numeric ? " (or another number type)" : "") + ", but " + text + " is " +
                     dtype_name(out.dtype));
        continue;
      }
      if (in.rank != any_rank && out.rank != any_rank && in.rank != out.rank) {
        error_at(node.Mark(), s.name,
                 "input '" + port + "' expects rank " + std::to_string(in.rank) + ", but " + text + " has rank " +
                     std::to_string(out.rank));
        continue;
      }
      config.inputs[port] = Connection{producer, out_port};
    }
    for (const auto& p : declared) {
      const bool given = std::any_of(s.inputs.begin(), s.inputs.end(),
                                     [&](const auto& kv) { return kv.first == p.spec.name; });
      if (!given && !p.spec.optional)
        error_at(s.mark, s.name,
                 "missing required input '" + p.spec.name + "' (" + dtype_name(p.spec.dtype) + ", " + p.spec.doc +
                     ")");
    }
  }

  /// Sorts stages so producers come first (stable: file order among equals);
  /// reports cycles with the stages in them.
  void order_stages() {
    std::vector<StageConfig> ordered;
    std::set<std::string> placed;
    auto& pending = pipeline_.stages;
    while (!pending.empty()) {
      auto ready = std::find_if(pending.begin(), pending.end(), [&](const StageConfig& s) {
        return std::all_of(s.inputs.begin(), s.inputs.end(),
                           [&](const auto& kv) { return placed.count(kv.second.stage) > 0; });
      });
      if (ready == pending.end()) {
        report_cycle(pending);
        return;
      }
      placed.insert(ready->name);
      ordered.push_back(std::move(*ready));
      pending.erase(ready);
    }
    pipeline_.stages = std::move(ordered);
  }

  void report_cycle(const std::vector<StageConfig>& pending) {
    // Walk producer links from a pending stage until one repeats: that loop is a cycle.
    std::map<std::string, const StageConfig*> by_name;
    for (const auto& s : pending) by_name[s.name] = &s;
    std::vector<std::string> path;
    const StageConfig* current = &pending.front();
    while (std::find(path.begin(), path.end(), current->name) == path.end()) {
      path.push_back(current->name);
      for (const auto& [port, c] : current->inputs)
        if (by_name.count(c.stage)) {
          current = by_name[c.stage];
          break;
        }
    }
    const auto start = std::find(path.begin(), path.end(), current->name);
    std::vector<std::string> cycle(start, path.end());
    std::reverse(cycle.begin(), cycle.end());  // producer -> consumer order
    // Start the loop at the stage written first in the file.
    auto line_of = [&](const std::string& name) { return find_raw(name)->mark.line; };
    std::rotate(cycle.begin(),
                std::min_element(cycle.begin(), cycle.end(),
                                 [&](const auto& a, const auto& b) { return line_of(a) < line_of(b); }),
                cycle.end());
    std::string text;
    for (const auto& n : cycle) text += n + " -> ";
    text += cycle.front();
    const RawStage* first = find_raw(cycle.front());
    error_at(first ? first->mark : YAML::Mark(), cycle.front(), "the pipeline has a cycle: " + text);
  }

  std::string file_;
  Pipeline pipeline_;
  std::vector<RawStage> raw_;
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace

ParamValue parse_param_value(const std::string& yaml_text, const ParamSpec& spec) {
  YAML::Node node;
  try {
    node = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ParamError(spec.name, "parameter '" + spec.name + "': '" + yaml_text + "' is not a YAML value: " + e.msg);
  }
  std::string expected;
  const auto value = convert_param(node, spec.kind, expected);
  if (!value)
    throw ParamError(spec.name, "parameter '" + spec.name + "' expects " + expected + ", got '" + yaml_text + "'");
  if (const std::string why = spec.constraint.check(*value); !why.empty())
    throw ParamError(spec.name, "parameter '" + spec.name + "' " + why);
  return *value;
}

Pipeline parse_pipeline(const std::string& yaml_text, const std::string& file,
                        const std::vector<std::string>& overrides) {
  return Validator(file, yaml_text).run(overrides);
}

Pipeline load_pipeline(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) throw ValidationError({Diagnostic{path, 0, 0, "", "cannot read the pipeline file"}});
  std::stringstream text;
  text << in.rdbuf();
  return parse_pipeline(text.str(), path, overrides);
}

}  // namespace fepflow
