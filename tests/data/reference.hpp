// Shared by the data and preprocess tests: the independent reference values
// (tests/fixtures/reference_values.h5), the vendored Olivetti faces and
// the error a call throws.
#pragma once

#include "data/olivetti.hpp"

#include <fepflow/io.hpp>
#include <fepflow/stage.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>
#include <xtensor/xview.hpp>

namespace fepflow::test {

inline const std::string olivetti_path = std::string(FEPFLOW_SOURCE_DIR) + "/data/olivettifaces.mat";

/// A dataset of reference_values.h5, e.g. "/sobel/size32_image0_gx".
template <class T>
xt::xarray<T> reference(const std::string& dataset) {
  return read_hdf5_dataset(std::string(FEPFLOW_FIXTURES) + "/reference_values.h5", dataset).array<T>();
}

/// All 400 faces as the olivetti stage loads them (read once per test run).
inline const xt::xtensor<float, 3>& olivetti_images() {
  static const xt::xtensor<float, 3> images = data::load_olivetti_mat(olivetti_path);
  return images;
}

/// Faces 0-4, the ones the fixtures' preprocessing references start from.
inline xt::xtensor<float, 3> first_five_faces() {
  return xt::view(olivetti_images(), xt::range(0, 5), xt::all(), xt::all());
}

template <class A>
std::vector<std::size_t> shape_of(const A& a) {
  return std::vector<std::size_t>(a.shape().begin(), a.shape().end());
}

/// Largest |a - b| elementwise; infinite if the shapes differ.
template <class A, class B>
double max_abs_difference(const A& a, const B& b) {
  if (shape_of(a) != shape_of(b)) return HUGE_VAL;
  double worst = 0.0;
  auto j = b.begin();
  for (auto i = a.begin(); i != a.end(); ++i, ++j)
    worst = std::max(worst, std::abs(static_cast<double>(*i) - static_cast<double>(*j)));
  return worst;
}

/// What a call throws: the parameter a ParamError names ("" for another
/// fepflow::Error) and the message; param "<none>" if it threw nothing.
struct Failure {
  std::string param;
  std::string message;
};

/// A ParamError about `param` whose message names it as well (the runner
/// reports the message as it is).
inline bool names_param(const Failure& f, const std::string& param) {
  return f.param == param && f.message.find("parameter '" + param + "'") != std::string::npos;
}

template <class F>
Failure failure_of(F&& call) {
  try {
    call();
  } catch (const ParamError& e) {
    return {e.param(), e.what()};
  } catch (const Error& e) {
    return {"", e.what()};
  }
  return {"<none>", "no error thrown"};
}

}  // namespace fepflow::test
