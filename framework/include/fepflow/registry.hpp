// Stage types by name: built-in stages register themselves with
// FEPFLOW_REGISTER_STAGE; plugins add theirs in FEPFLOW_PLUGIN.
#pragma once

#include <fepflow/stage.hpp>
#include <fepflow/version.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fepflow {

struct StageInfo {
  std::string type;     // the YAML `type`
  int version = 1;      // bump when the stage's results change: cached results are recomputed
  std::string summary;  // one line
  std::function<std::unique_ptr<Stage>()> make;
  std::string origin;   // "built-in" or the plugin's path
};

class Registry {
 public:
  /// The process-wide registry.
  static Registry& global();

  /// Adds a stage type; throws fepflow::Error if the name is taken.
  void add(StageInfo info);
  template <class S>
  void add(std::string type, int version, std::string summary) {
    add(StageInfo{std::move(type), version, std::move(summary), [] { return std::make_unique<S>(); },
                  origin_});
  }

  const StageInfo* find(std::string_view type) const;
  /// All stage types, sorted by name.
  std::vector<const StageInfo*> all() const;
  /// Up to `max` registered names closest to `type` (edit distance), for "did you mean".
  std::vector<std::string> closest(std::string_view type, std::size_t max = 3) const;

  /// Where stages added from now on come from (the plugin loader sets it).
  void set_origin(std::string origin) { origin_ = std::move(origin); }

 private:
  std::vector<StageInfo> stages_;
  std::string origin_ = "built-in";
};

namespace detail {
struct StageRegistrar {
  StageRegistrar(StageInfo info) { Registry::global().add(std::move(info)); }
};
}  // namespace detail

// ------------------------------------------------------------------ plugins

/// What a plugin reports about itself before anything else of it is used.
/// The first two fields never change place, so any fepflow can read them.
struct PluginInfo {
  std::uint32_t abi_version;  // FEPFLOW_ABI_VERSION the plugin was compiled against
  std::uint32_t cxx_abi;      // __GXX_ABI_VERSION: std::string etc. cross the boundary
  const char* name;
  const char* version;
  const char* fepflow_version;  // FEPFLOW_VERSION_STRING it was built with
};

}  // namespace fepflow

/// Registers a built-in stage (one line at the end of the stage's file).
#define FEPFLOW_REGISTER_STAGE(Class, type_name, stage_version, summary_text)                    \
  static const ::fepflow::detail::StageRegistrar fepflow_registrar_##Class(::fepflow::StageInfo{ \
      type_name, stage_version, summary_text, [] { return std::make_unique<Class>(); }, "built-in"});

/// Defines a plugin's two C entry points. The body registers the plugin's
/// stages on `registry`:
///   FEPFLOW_PLUGIN("my_stages", "1.0") { registry.add<MyStage>("my_stage", 1, "Does X"); }
#define FEPFLOW_PLUGIN(plugin_name, plugin_version)                                          \
  extern "C" __attribute__((visibility("default"))) const ::fepflow::PluginInfo*             \
  fepflow_plugin_info() {                                                                    \
    static const ::fepflow::PluginInfo info{FEPFLOW_ABI_VERSION, __GXX_ABI_VERSION,          \
                                            plugin_name, plugin_version, FEPFLOW_VERSION_STRING}; \
    return &info;                                                                            \
  }                                                                                          \
  static void fepflow_plugin_register_body(::fepflow::Registry& registry);                   \
  extern "C" __attribute__((visibility("default"))) void fepflow_plugin_register(            \
      ::fepflow::Registry* registry) {                                                       \
    fepflow_plugin_register_body(*registry);                                                 \
  }                                                                                          \
  static void fepflow_plugin_register_body(::fepflow::Registry& registry)
