#include <fepflow/stage.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

namespace fepflow {
namespace {

std::string format_real(double x) {
  // Shortest text that reads back to the same double.
  char buffer[40];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, x);
    if (std::strtod(buffer, nullptr) == x) break;
  }
  std::string s = buffer;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // keep it a real in YAML
  return s;
}

template <class T>
std::string format_list(const std::vector<T>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += format_param_value(ParamValue(v[i]));
  }
  return out + "]";
}

std::string format_bound(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

std::string check_number(const Constraint& c, double x) {
  if (!std::isfinite(x)) return "must be a finite number, got " + format_real(x);
  const bool low = c.min && (c.min_exclusive ? x <= *c.min : x < *c.min);
  const bool high = c.max && (c.max_exclusive ? x >= *c.max : x > *c.max);
  if (low || high) {
    const std::string range = c.describe();
    const bool interval = range[0] == '[' || range[0] == '(';
    return std::string("must be ") + (interval ? "in " : "") + range + ", got " + format_bound(x);
  }
  return "";
}

std::string check_string(const Constraint& c, const std::string& s) {
  if (c.non_empty && s.empty()) return "must not be empty";
  if (c.choices.empty()) return "";
  for (const auto& choice : c.choices)
    if (choice == s) return "";
  return "must be " + c.describe() + ", got '" + s + "'";
}

}  // namespace

std::string format_param_value(const ParamValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>)
          return x ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::int64_t>)
          return std::to_string(x);
        else if constexpr (std::is_same_v<T, double>)
          return format_real(x);
        else if constexpr (std::is_same_v<T, std::string>)
          return x;
        else
          return format_list(x);
      },
      v);
}

const char* param_kind_name(ParamKind kind) {
  switch (kind) {
    case ParamKind::integer: return "integer";
    case ParamKind::real: return "real";
    case ParamKind::boolean: return "bool";
    case ParamKind::string: return "string";
    case ParamKind::real_list: return "list of reals";
    case ParamKind::integer_list: return "list of integers";
    case ParamKind::string_list: return "list of strings";
  }
  return "?";
}

std::string Constraint::describe() const {
  std::string out;
  if (!choices.empty()) {
    out = "one of: ";
    for (std::size_t i = 0; i < choices.size(); ++i) out += (i ? ", " : "") + choices[i];
  } else if (min && max) {
    out = std::string(min_exclusive ? "(" : "[") + format_bound(*min) + ", " + format_bound(*max) +
          (max_exclusive ? ")" : "]");
  } else if (min) {
    out = std::string(min_exclusive ? "> " : ">= ") + format_bound(*min);
  } else if (max) {
    out = std::string(max_exclusive ? "< " : "<= ") + format_bound(*max);
  }
  if (non_empty) out += out.empty() ? "non-empty" : ", non-empty";
  return out;
}

std::string Constraint::check(const ParamValue& v) const {
  return std::visit(
      [this](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          return "";
        } else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, double>) {
          return check_number(*this, static_cast<double>(x));
        } else if constexpr (std::is_same_v<T, std::string>) {
          return check_string(*this, x);
        } else {
          if (non_empty && x.empty()) return "must not be an empty list";
          for (std::size_t i = 0; i < x.size(); ++i) {
            std::string why;
            if constexpr (std::is_same_v<T, std::vector<std::string>>)
              why = check_string(*this, x[i]);
            else
              why = check_number(*this, static_cast<double>(x[i]));
            if (!why.empty()) return "element " + std::to_string(i) + " " + why;
          }
          return "";
        }
      },
      v);
}

Constraint operator&(Constraint a, const Constraint& b) {
  if (b.min) a.min = b.min, a.min_exclusive = b.min_exclusive;
  if (b.max) a.max = b.max, a.max_exclusive = b.max_exclusive;
  if (!b.choices.empty()) a.choices = b.choices;
  a.non_empty = a.non_empty || b.non_empty;
  return a;
}

Constraint positive() {
  Constraint c;
  c.min = 0.0;
  c.min_exclusive = true;
  return c;
}
Constraint non_negative() { return at_least(0.0); }
Constraint at_least(double lo) {
  Constraint c;
  c.min = lo;
  return c;
}
Constraint between(double lo, double hi) {
  Constraint c;
  c.min = lo;
  c.max = hi;
  return c;
}
Constraint one_of(std::vector<std::string> choices) {
  Constraint c;
  c.choices = std::move(choices);
  return c;
}
Constraint non_empty() {
  Constraint c;
  c.non_empty = true;
  return c;
}
Constraint any() { return {}; }

}  // namespace fepflow
