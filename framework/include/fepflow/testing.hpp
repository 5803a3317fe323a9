// Runs one stage on its own, without a pipeline or a file: the harness for
// a stage's unit tests (parameters are validated exactly as in a pipeline).
#pragma once

#include <fepflow/stage.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace fepflow::testing {

struct StageResult {
  std::map<std::string, ValuePtr> outputs;
  std::map<std::string, double> metrics;

  template <class T>
  const xt::xarray<T>& array(const std::string& port) const {
    return output(port).array<T>();
  }
  const Value& output(const std::string& port) const;
};

struct StageRunOptions {
  std::uint64_t seed = 0;
  std::string name = "stage";  // the stage's name keys its random stream
  int threads = 0;             // 0: all cores
};

/// Validates `params` against the stage's declaration (throws fepflow::Error
/// naming the parameter and the problem), connects `inputs` by port name and
/// runs the stage. Throws what the stage throws.
StageResult run_stage(std::string_view type, const std::map<std::string, ParamValue>& params,
                      const std::map<std::string, Value>& inputs, const StageRunOptions& options = {});

}  // namespace fepflow::testing
