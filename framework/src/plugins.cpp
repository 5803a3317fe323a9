// Loading stage plugins safely: the ABI is checked through a C entry point
// before any C++ of the plugin is called.
#include <fepflow/pipeline.hpp>
#include <fepflow/registry.hpp>

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace fepflow {

void load_plugin(const std::string& path) {
  static std::mutex mutex;
  static std::set<std::string> loaded;
  std::lock_guard lock(mutex);
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error("plugin '" + path + "' does not exist");
  const std::string canonical = fs::canonical(path, ec).string();
  if (loaded.count(canonical)) return;

  void* handle = ::dlopen(canonical.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw Error("cannot load plugin '" + path + "': " + ::dlerror());
  using InfoFn = const PluginInfo* (*)();
  using RegisterFn = void (*)(Registry*);
  auto info_fn = reinterpret_cast<InfoFn>(::dlsym(handle, "fepflow_plugin_info"));
  auto register_fn = reinterpret_cast<RegisterFn>(::dlsym(handle, "fepflow_plugin_register"));
  if (!info_fn || !register_fn) {
    ::dlclose(handle);
    throw Error("'" + path + "' is not a fepflow plugin: it lacks the entry points made by FEPFLOW_PLUGIN");
  }
  const PluginInfo* info = info_fn();
  if (info->abi_version != FEPFLOW_ABI_VERSION || info->cxx_abi != __GXX_ABI_VERSION) {
    std::ostringstream why;
    why << "plugin '" << path << "' was built for fepflow ABI " << info->abi_version << " (C++ ABI "
        << info->cxx_abi << "), but this fepflow " FEPFLOW_VERSION_STRING " has ABI " << FEPFLOW_ABI_VERSION
        << " (C++ ABI " << __GXX_ABI_VERSION << "); rebuild the plugin against this fepflow";
    ::dlclose(handle);
    throw Error(why.str());
  }
  auto& registry = Registry::global();
  registry.set_origin(std::string("plugin ") + info->name + " " + info->version + " (" + canonical + ")");
  try {
    register_fn(&registry);
  } catch (...) {
    registry.set_origin("built-in");
    throw;
  }
  registry.set_origin("built-in");
  loaded.insert(canonical);
  // The library stays loaded for the life of the process: its stages are registered.
}

void load_plugins_from_environment() {
  const char* env = std::getenv("FEPFLOW_PLUGIN_PATH");
  if (!env) return;
  std::stringstream list(env);
  std::string entry;
  while (std::getline(list, entry, ':')) {
    if (entry.empty()) continue;
    std::error_code ec;
    if (fs::is_directory(entry, ec)) {
      std::vector<std::string> files;
      for (const auto& f : fs::directory_iterator(entry, ec))
        if (f.path().extension() == ".so") files.push_back(f.path().string());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) load_plugin(f);
    } else {
      load_plugin(entry);
    }
  }
}

}  // namespace fepflow
