// Reads datasets and attributes of tests/fixtures/reference_values.h5 for the
// network tests.
#pragma once

#include <fepflow/io.hpp>

#include <H5Cpp.h>

#include <mutex>
#include <string>
#include <vector>

namespace fepflow::test_fixtures {

inline std::string reference_file() { return std::string(FEPFLOW_FIXTURES) + "/reference_values.h5"; }

/// The dataset's values (float32 or float64) converted to T, flattened in
/// row-major order; its shape in `shape` if given.
template <class T>
std::vector<T> read_dataset(const std::string& path, std::vector<std::size_t>* shape = nullptr) {
  const Value stored = read_hdf5_dataset(reference_file(), path);
  std::vector<T> values;
  if (stored.dtype() == DType::float32)
    values.assign(stored.array<float>().begin(), stored.array<float>().end());
  else
    values.assign(stored.array<double>().begin(), stored.array<double>().end());
  if (shape) *shape = stored.shape();
  return values;
}

inline double read_double_attribute(const std::string& group, const std::string& name) {
  const std::lock_guard<std::mutex> lock(hdf5_mutex());
  const H5::H5File file(reference_file(), H5F_ACC_RDONLY);
  const H5::Attribute attribute = file.openGroup(group).openAttribute(name);
  double value = 0;
  attribute.read(H5::PredType::NATIVE_DOUBLE, &value);
  return value;
}

}  // namespace fepflow::test_fixtures
