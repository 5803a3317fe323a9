// What travels on an edge between two stages: an xtensor array (float32,
// float64 or int64, any rank; rank 0 is a scalar) or a string.
#pragma once

#include <xtensor/xarray.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace fepflow {

enum class DType { float32, float64, int64, string };

/// "float32", "float64", "int64" or "string".
const char* dtype_name(DType dtype);

/// The DType of an element type: float, double, std::int64_t or std::string.
template <class T>
constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::float32; }
template <> constexpr DType dtype_of<double>() { return DType::float64; }
template <> constexpr DType dtype_of<std::int64_t>() { return DType::int64; }
template <> constexpr DType dtype_of<std::string>() { return DType::string; }

/// A port rank that accepts any rank.
inline constexpr int any_rank = -1;

class Value {
 public:
  Value() = default;
  Value(xt::xarray<float> a) : data_(std::move(a)) {}
  Value(xt::xarray<double> a) : data_(std::move(a)) {}
  Value(xt::xarray<std::int64_t> a) : data_(std::move(a)) {}
  Value(std::string s) : data_(std::move(s)) {}

  bool empty() const { return data_.index() == 0; }
  DType dtype() const;
  /// Rank of the array; 0 for a string.
  std::size_t rank() const;
  /// Shape of the array; empty for a string or a scalar.
  std::vector<std::size_t> shape() const;
  /// "float32[400, 4096]" or "string".
  std::string describe() const;

  /// The array; throws std::logic_error if the value holds another type.
  template <class T>
  const xt::xarray<T>& array() const {
    if (const auto* a = std::get_if<xt::xarray<T>>(&data_)) return *a;
    throw std::logic_error(std::string("value holds ") + (empty() ? "nothing" : describe()) +
                           ", not an array of " + dtype_name(dtype_of<T>()));
  }
  const std::string& str() const;

  /// The same numbers as another numeric dtype (a copy; the value itself
  /// when the dtype already matches). Throws std::logic_error for strings.
  Value converted(DType dtype) const;

 private:
  std::variant<std::monostate, xt::xarray<float>, xt::xarray<double>, xt::xarray<std::int64_t>,
               std::string>
      data_;
};

using ValuePtr = std::shared_ptr<const Value>;

}  // namespace fepflow
