#include <fepflow/value.hpp>

#include <xtensor/xmath.hpp>

#include <sstream>

namespace fepflow {

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::float32: return "float32";
    case DType::float64: return "float64";
    case DType::int64: return "int64";
    case DType::string: return "string";
  }
  return "?";
}

DType Value::dtype() const {
  switch (data_.index()) {
    case 1: return DType::float32;
    case 2: return DType::float64;
    case 3: return DType::int64;
    case 4: return DType::string;
  }
  throw std::logic_error("empty value has no dtype");
}

std::vector<std::size_t> Value::shape() const {
  return std::visit(
      [](const auto& v) -> std::vector<std::size_t> {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::monostate> || std::is_same_v<V, std::string>)
          return {};
        else
          return {v.shape().begin(), v.shape().end()};
      },
      data_);
}

std::size_t Value::rank() const { return shape().size(); }

std::string Value::describe() const {
  if (empty()) return "nothing";
  if (dtype() == DType::string) return "string";
  std::ostringstream out;
  out << dtype_name(dtype()) << '[';
  const auto s = shape();
  for (std::size_t i = 0; i < s.size(); ++i) out << (i ? ", " : "") << s[i];
  out << ']';
  return out.str();
}

const std::string& Value::str() const {
  if (const auto* s = std::get_if<std::string>(&data_)) return *s;
  throw std::logic_error("value holds " + describe() + ", not a string");
}

Value Value::converted(DType target) const {
  if (dtype() == target) return *this;
  if (dtype() == DType::string || target == DType::string)
    throw std::logic_error("cannot convert " + describe() + " to " + dtype_name(target));
  return std::visit(
      [target](const auto& a) -> Value {
        using A = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<A, std::monostate> || std::is_same_v<A, std::string>) {
          throw std::logic_error("not numeric");
        } else {
          switch (target) {
            case DType::float32: return Value(xt::xarray<float>(xt::cast<float>(a)));
            case DType::float64: return Value(xt::xarray<double>(xt::cast<double>(a)));
            default: return Value(xt::xarray<std::int64_t>(xt::cast<std::int64_t>(a)));
          }
        }
      },
      data_);
}

}  // namespace fepflow
