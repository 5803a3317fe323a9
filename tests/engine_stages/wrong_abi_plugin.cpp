// A plugin that claims another fepflow ABI: the loader must refuse it
// without calling its registration (which would abort the test process).
#include <fepflow/registry.hpp>

#include <cstdlib>

extern "C" __attribute__((visibility("default"))) const fepflow::PluginInfo* fepflow_plugin_info() {
  static const fepflow::PluginInfo info{FEPFLOW_ABI_VERSION + 1, __GXX_ABI_VERSION, "wrong_abi", "0.0",
                                        "0.0.0"};
  return &info;
}

extern "C" __attribute__((visibility("default"))) void fepflow_plugin_register(fepflow::Registry*) {
  std::abort();
}
