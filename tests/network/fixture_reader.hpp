// Reads datasets and attributes of tests/fixtures/reference_values.h5 for the
// network tests (single-threaded tests: no other HDF5 user runs meanwhile).
#pragma once

#include <H5Cpp.h>

#include <string>
#include <type_traits>
#include <vector>

namespace fepflow::test_fixtures {

inline std::string reference_file() { return std::string(FEPFLOW_FIXTURES) + "/reference_values.h5"; }

/// The dataset's values converted to T, flattened in row-major order.
template <class T>
std::vector<T> read_dataset(const std::string& path, std::vector<hsize_t>* shape = nullptr) {
  const H5::H5File file(reference_file(), H5F_ACC_RDONLY);
  const H5::DataSet dataset = file.openDataSet(path);
  const H5::DataSpace space = dataset.getSpace();
  std::vector<hsize_t> dims(static_cast<std::size_t>(space.getSimpleExtentNdims()));
  space.getSimpleExtentDims(dims.data());
  hsize_t count = 1;
  for (hsize_t d : dims) count *= d;
  std::vector<T> values(count);
  if constexpr (std::is_same_v<T, float>)
    dataset.read(values.data(), H5::PredType::NATIVE_FLOAT);
  else
    dataset.read(values.data(), H5::PredType::NATIVE_DOUBLE);
  if (shape) *shape = dims;
  return values;
}

inline double read_double_attribute(const std::string& group, const std::string& name) {
  const H5::H5File file(reference_file(), H5F_ACC_RDONLY);
  const H5::Attribute attribute = file.openGroup(group).openAttribute(name);
  double value = 0;
  attribute.read(H5::PredType::NATIVE_DOUBLE, &value);
  return value;
}

}  // namespace fepflow::test_fixtures
