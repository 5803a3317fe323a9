// Times the probe stages of the faces pipeline on a random network and
// compares the rate of their matrix products with OpenBLAS sgemm measured in
// the same run.
//
//   bench_probes [nodes = 4096] [patterns = 400]
//
// W is Gaussian with variance 1/n and a zero diagonal; patterns are Gaussian
// rows, z-scored. Useful work counts 2 n^2 flops per chain and step computed.
#include <fepflow/random.hpp>
#include <fepflow/testing.hpp>

#include <cblas.h>
#include <sys/resource.h>
#include <tbb/info.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// CPU seconds of this process (all threads): next to the wall time it shows
// how much of the cores the run got on a shared machine.
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

xt::xarray<float> random_weights(std::size_t n, const fepflow::RandomStream& rng) {
  auto W = xt::xarray<float>::from_shape({n, n});
  const double scale = 1.0 / std::sqrt(static_cast<double>(n));
  rng.fill_normal(W.data(), n * n);
  for (std::size_t k = 0; k < n * n; ++k) W.data()[k] = static_cast<float>(scale * W.data()[k]);
  for (std::size_t i = 0; i < n; ++i) W(i, i) = 0.0f;
  return W;
}

xt::xarray<float> zscored_patterns(std::size_t count, std::size_t n, const fepflow::RandomStream& rng) {
  auto P = xt::xarray<float>::from_shape({count, n});
  rng.fill_normal(P.data(), count * n);
  for (std::size_t k = 0; k < count; ++k) {
    float* row = P.data() + k * n;
    double sum = 0.0, squares = 0.0;
    for (std::size_t i = 0; i < n; ++i) sum += row[i];
    const double mean = sum / static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) squares += (row[i] - mean) * (row[i] - mean);
    const double spread = std::sqrt(squares / static_cast<double>(n)) + 1e-8;
    for (std::size_t i = 0; i < n; ++i) row[i] = static_cast<float>((row[i] - mean) / spread);
  }
  return P;
}

// Best of a few runs of one OpenBLAS sgemm (rows x n) (n x n) on every core.
double sgemm_gflops(std::size_t rows, std::size_t n, int threads) {
  std::vector<float> a(rows * n, 0.5f), b(n * n, 0.25f), c(rows * n);
  openblas_set_num_threads(threads);
  double best = 0.0;
  for (int repeat = 0; repeat < 4; ++repeat) {
    const auto start = Clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), static_cast<int>(n),
                static_cast<int>(n), 1.0f, a.data(), static_cast<int>(n), b.data(), static_cast<int>(n), 0.0f,
                c.data(), static_cast<int>(n));
    best = std::max(best, 2.0 * static_cast<double>(rows) * static_cast<double>(n * n) / seconds_since(start) / 1e9);
  }
  openblas_set_num_threads(1);
  return best;
}

std::int64_t total(const xt::xarray<std::int64_t>& steps) {
  std::int64_t sum = 0;
  for (auto s : steps) sum += s;
  return sum;
}

struct Row {
  std::string probe;
  std::int64_t chains, chain_steps;
  double seconds, cpu_seconds;
};

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 4096;
  const std::size_t count = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 400;
  const int threads = tbb::info::default_concurrency();
  const fepflow::RandomStream rng(20250522);
  const fepflow::Value W = random_weights(n, rng.substream(0));
  const fepflow::Value patterns = zscored_patterns(count, n, rng.substream(1));
  const std::map<std::string, fepflow::Value> inputs{{"W", W}, {"patterns", patterns}};
  using Params = std::map<std::string, fepflow::ParamValue>;

  const double sgemm_rate = sgemm_gflops(count, n, threads);
  std::printf("nodes %zu, patterns %zu, threads %d; OpenBLAS sgemm %zu x %zu x %zu: %.1f GFLOP/s\n\n", n, count,
              threads, count, n, n, sgemm_rate);

  std::vector<Row> rows;
  auto timed = [&](const std::string& probe, const std::string& type, const Params& params,
                   const std::map<std::string, fepflow::Value>& stage_inputs, auto chain_steps_of) {
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    const auto result = fepflow::testing::run_stage(type, params, stage_inputs);
    const double seconds = seconds_since(start), cpu = cpu_seconds() - cpu_start;
    const auto [chains, chain_steps] = chain_steps_of(result);
    rows.push_back({probe, chains, chain_steps, seconds, cpu});
    std::string metrics;
    for (const auto& [name, value] : result.metrics) metrics += " " + name + "=" + std::to_string(value);
    std::printf("%-26s done in %.2f s;%s\n", probe.c_str(), seconds, metrics.c_str());
  };
  auto counted = [](const char* port) {
    return [port](const fepflow::testing::StageResult& r) {
      const auto& steps = r.array<std::int64_t>(port);
      return std::pair<std::int64_t, std::int64_t>(static_cast<std::int64_t>(steps.size()), total(steps));
    };
  };
  auto full_runs = [](std::int64_t chains, std::int64_t steps) {
    return [=](const fepflow::testing::StageResult&) { return std::pair<std::int64_t, std::int64_t>(chains, chains * steps); };
  };

  const auto P = static_cast<std::int64_t>(count);
  timed("retention", "retention", {}, inputs, counted("steps"));
  timed("restarts", "restarts", {}, {{"W", W}}, counted("steps"));
  timed("reconstruction", "reconstruction", {}, inputs, full_runs(P, 100));
  const std::int64_t gallery_patterns = std::min<std::int64_t>(5, P);
  timed("reconstruction gallery 0.5", "precision_grid",
        {{"count", gallery_patterns}, {"layout", std::string("pairs")}, {"betas", std::vector<double>{0.4, 0.7, 1.0}},
         {"signal_strengths", std::vector<double>{2.0, 1.0, 0.5}}, {"noise", 0.5}, {"steps", std::int64_t{500}}},
        inputs, full_runs(gallery_patterns * 3, 500));
  timed("reconstruction gallery 2.0", "precision_grid",
        {{"count", gallery_patterns}, {"layout", std::string("pairs")}, {"betas", std::vector<double>{0.4, 0.7, 1.0}},
         {"signal_strengths", std::vector<double>{0.9, 0.6, 0.3}}, {"noise", 2.0}, {"steps", std::int64_t{500}}},
        inputs, full_runs(gallery_patterns * 3, 500));
  timed("precision grid 4 x 5", "precision_grid", {}, inputs, full_runs(20, 100));

  std::printf("\n| probe | chains | chain-steps | seconds | CPU seconds | GFLOP | GFLOP/s | of sgemm |\n"
              "|---|---|---|---|---|---|---|---|\n");
  double all_seconds = 0.0, all_cpu = 0.0, all_gflop = 0.0;
  const double flop_per_chain_step = 2.0 * static_cast<double>(n) * static_cast<double>(n);
  for (const auto& row : rows) {
    const double gflop = flop_per_chain_step * static_cast<double>(row.chain_steps) / 1e9;
    all_seconds += row.seconds;
    all_cpu += row.cpu_seconds;
    all_gflop += gflop;
    std::printf("| %s | %lld | %lld | %.2f | %.2f | %.0f | %.1f | %.0f%% |\n", row.probe.c_str(),
                static_cast<long long>(row.chains), static_cast<long long>(row.chain_steps), row.seconds,
                row.cpu_seconds, gflop, gflop / row.seconds, 100.0 * gflop / row.seconds / sgemm_rate);
  }
  std::printf("| all probes | | | %.2f | %.2f | %.0f | %.1f | %.0f%% |\n", all_seconds, all_cpu, all_gflop,
              all_gflop / all_seconds, 100.0 * all_gflop / all_seconds / sgemm_rate);
  return 0;
}
