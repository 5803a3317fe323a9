// File access that stages share with the framework.
#pragma once

#include <fepflow/value.hpp>

#include <mutex>
#include <string>

namespace fepflow {

/// HDF5's C++ API is not thread-safe (its reference counts and exceptions are
/// outside the library's lock): every HDF5 call in the process, the
/// framework's store included, holds this mutex.
std::mutex& hdf5_mutex();

/// Reads one dataset of an HDF5 file as a Value (float32, float64, int64 or a
/// string, by the stored type; integers of other widths become int64).
/// Throws fepflow::Error naming the file and dataset if either is missing or
/// the type is unsupported. Takes hdf5_mutex() itself.
Value read_hdf5_dataset(const std::string& file, const std::string& dataset);

}  // namespace fepflow
