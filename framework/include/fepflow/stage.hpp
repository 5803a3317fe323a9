// A stage declares its ports and parameters as members registered with `this`
// and computes in run(). The framework reads the declarations to validate
// pipelines, describe stages, store results and cache them; a stage never
// touches YAML, HDF5 or threads' lifetimes itself.
//
//   class Scale : public fepflow::Stage {
//     fepflow::Input<float> x{this, "x", fepflow::any_rank, "values to scale"};
//     fepflow::Output<float> y{this, "y", fepflow::any_rank, "x * factor"};
//     fepflow::Param<double> factor{this, "factor", 2.0, "multiplier", fepflow::finite()};
//     void run(fepflow::Context&) override { y = *x * static_cast<float>(*factor); }
//   };
//   FEPFLOW_REGISTER_STAGE(Scale, "scale", 1, "Multiplies an array by a constant")
#pragma once

#include <fepflow/context.hpp>
#include <fepflow/value.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace fepflow {

/// What a stage throws for bad input or a failed computation. The framework
/// adds the stage's name; say what was wrong and what was expected.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An error about one parameter: the framework reports it with the
/// parameter's YAML location.
class ParamError : public Error {
 public:
  ParamError(std::string param, const std::string& message) : Error(message), param_(std::move(param)) {}
  const std::string& param() const { return param_; }

 private:
  std::string param_;
};

// ---------------------------------------------------------------- parameters

enum class ParamKind { integer, real, boolean, string, real_list, integer_list, string_list };
const char* param_kind_name(ParamKind kind);

using ParamValue = std::variant<std::int64_t, double, bool, std::string, std::vector<double>,
                                std::vector<std::int64_t>, std::vector<std::string>>;

/// YAML-style text of a value ("0.0001", "true", "[0.4, 0.7]", "stride"); reals
/// print with enough digits to round-trip, so the text can be hashed.
std::string format_param_value(const ParamValue& v);

/// Allowed values of a parameter (for lists: of each element). Reals must
/// always be finite; build with the helpers below and combine with `&`.
struct Constraint {
  std::optional<double> min, max;
  bool min_exclusive = false, max_exclusive = false;
  std::vector<std::string> choices;  // strings only
  bool non_empty = false;            // lists and strings

  /// "> 0", "[0, 100]", "one of: stride, mean", or "" when unconstrained.
  std::string describe() const;
  /// Empty if `v` is allowed, else why not ("must be > 0, got -1").
  std::string check(const ParamValue& v) const;
};
Constraint operator&(Constraint a, const Constraint& b);
Constraint positive();                       // > 0
Constraint non_negative();                   // >= 0
Constraint at_least(double lo);              // >= lo
Constraint between(double lo, double hi);    // [lo, hi]
Constraint one_of(std::vector<std::string> choices);
Constraint non_empty();
/// No constraint beyond the type (reals are always checked to be finite).
Constraint any();

struct ParamSpec {
  std::string name;
  ParamKind kind;
  std::string doc;
  std::optional<ParamValue> default_value;  // none: the parameter is required
  Constraint constraint;
};

/// Marks a parameter without default: the pipeline must set it.
struct Required {};
inline constexpr Required required{};

// --------------------------------------------------------------------- ports

struct PortSpec {
  std::string name;
  DType dtype;
  int rank;  // any_rank accepts any
  std::string doc;
  bool optional = false;     // inputs only
  bool any_numeric = false;  // inputs only: converts other numeric dtypes
};

/// How an input port connects: `optional_input` may be left unconnected;
/// `any_numeric` also accepts the other numeric dtypes and converts them to
/// the port's dtype (e.g. a plotting stage that draws float64 and int64 data
/// too). Combine with `|`.
struct InputFlags {
  bool optional = false;
  bool any_numeric = false;
};
constexpr InputFlags operator|(InputFlags a, InputFlags b) {
  return {a.optional || b.optional, a.any_numeric || b.any_numeric};
}
inline constexpr InputFlags optional_input{true, false};
inline constexpr InputFlags any_numeric{false, true};

class Stage;

namespace detail {
struct ParamSlot {
  ParamSpec spec;
  std::function<void(const ParamValue&)> assign;
};
struct InputSlot {
  PortSpec spec;
  ValuePtr* value;
};
struct OutputSlot {
  PortSpec spec;
  ValuePtr* value;
};
template <class T>
constexpr ParamKind param_kind_of();
template <> constexpr ParamKind param_kind_of<std::int64_t>() { return ParamKind::integer; }
template <> constexpr ParamKind param_kind_of<double>() { return ParamKind::real; }
template <> constexpr ParamKind param_kind_of<bool>() { return ParamKind::boolean; }
template <> constexpr ParamKind param_kind_of<std::string>() { return ParamKind::string; }
template <> constexpr ParamKind param_kind_of<std::vector<double>>() { return ParamKind::real_list; }
template <> constexpr ParamKind param_kind_of<std::vector<std::int64_t>>() { return ParamKind::integer_list; }
template <> constexpr ParamKind param_kind_of<std::vector<std::string>>() { return ParamKind::string_list; }
}  // namespace detail

/// Base of every stage. Not copyable: its members register themselves.
class Stage {
 public:
  Stage() = default;
  Stage(const Stage&) = delete;
  Stage& operator=(const Stage&) = delete;
  virtual ~Stage() = default;

  /// Computes the outputs from the inputs and parameters. Called once.
  virtual void run(Context& ctx) = 0;

  /// Extra text hashed into the stage's fingerprint, for what its parameters
  /// do not show: e.g. the content hash of a file the stage reads, so a
  /// changed file is recomputed. Parameters are already set when called.
  virtual std::string fingerprint_extra() const { return {}; }

  /// Files the stage writes outside the store (e.g. a figure). A cached
  /// result whose file is missing is recomputed. Parameters are already set.
  virtual std::vector<std::string> external_files() const { return {}; }

  const std::vector<detail::ParamSlot>& params() const { return params_; }
  const std::vector<detail::InputSlot>& inputs() const { return inputs_; }
  const std::vector<detail::OutputSlot>& outputs() const { return outputs_; }

 private:
  template <class T>
  friend class Param;
  template <class T>
  friend class Input;
  template <class T>
  friend class Output;
  std::vector<detail::ParamSlot> params_;
  std::vector<detail::InputSlot> inputs_;
  std::vector<detail::OutputSlot> outputs_;
};

/// A typed parameter: T is std::int64_t, double, bool, std::string or a
/// std::vector of double, std::int64_t or std::string.
template <class T>
class Param {
 public:
  Param(Stage* owner, std::string name, T default_value, std::string doc, Constraint c = any())
      : value_(default_value) {
    owner->params_.push_back(
        {{std::move(name), detail::param_kind_of<T>(), std::move(doc), ParamValue(std::move(default_value)),
          std::move(c)},
         [this](const ParamValue& v) { value_ = std::get<T>(v); }});
  }
  Param(Stage* owner, std::string name, Required, std::string doc, Constraint c = any()) {
    owner->params_.push_back(
        {{std::move(name), detail::param_kind_of<T>(), std::move(doc), std::nullopt, std::move(c)},
         [this](const ParamValue& v) { value_ = std::get<T>(v); }});
  }
  Param(const Param&) = delete;
  Param& operator=(const Param&) = delete;

  const T& operator*() const { return value_; }
  const T* operator->() const { return &value_; }
  const T& get() const { return value_; }

 private:
  T value_{};
};

/// An input port holding an array of T (float, double, std::int64_t) or a
/// std::string. Rank is checked against connected outputs at validation.
template <class T>
class Input {
 public:
  Input(Stage* owner, std::string name, int rank, std::string doc, InputFlags flags = {}) {
    owner->inputs_.push_back(
        {{std::move(name), dtype_of<T>(), rank, std::move(doc), flags.optional, flags.any_numeric}, &value_});
  }
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  /// False for an optional input the pipeline left unconnected.
  bool connected() const { return value_ != nullptr; }
  const auto& get() const {
    if constexpr (std::is_same_v<T, std::string>)
      return value_->str();
    else
      return value_->template array<T>();
  }
  const auto& operator*() const { return get(); }
  const auto* operator->() const { return &get(); }

 private:
  ValuePtr value_;
};

/// An output port. Assign an array (or string) to it in run().
template <class T>
class Output {
 public:
  Output(Stage* owner, std::string name, int rank, std::string doc) {
    owner->outputs_.push_back({{std::move(name), dtype_of<T>(), rank, std::move(doc)}, &value_});
  }
  Output(const Output&) = delete;

  template <class E>
  Output& operator=(E&& e) {
    if constexpr (std::is_same_v<T, std::string>)
      value_ = std::make_shared<const Value>(std::string(std::forward<E>(e)));
    else
      value_ = std::make_shared<const Value>(xt::xarray<T>(std::forward<E>(e)));
    return *this;
  }
  bool assigned() const { return value_ != nullptr; }

 private:
  ValuePtr value_;
};

}  // namespace fepflow
