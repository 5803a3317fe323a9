// Times the probe stages of the faces pipeline and compares the rate of their
// matrix products with OpenBLAS sgemm measured in the same run.
//
//   bench_probes [nodes = 4096] [patterns = 400]   a random network
//   bench_probes RUN.h5                            a trained one: /network/W, /patterns/patterns
//
// The random W is Gaussian with variance 1/n and a zero diagonal, the random
// patterns Gaussian rows, z-scored. Useful work counts 2 n^2 flops per chain
// and step computed.
#include <fepflow/io.hpp>
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

struct Rate {
  double per_second;      // GFLOP per wall-clock second
  double per_cpu_second;  // GFLOP per CPU second: what a core delivers, however busy the machine is
};

// Best of a few runs of one OpenBLAS sgemm (rows x n) (n x n) on every core.
Rate sgemm_rate(std::size_t rows, std::size_t n, int threads) {
  std::vector<float> a(rows * n, 0.5f), b(n * n, 0.25f), c(rows * n);
  openblas_set_num_threads(threads);
  const double gflop = 2.0 * static_cast<double>(rows) * static_cast<double>(n * n) / 1e9;
  Rate best{0.0, 0.0};
  for (int repeat = 0; repeat < 4; ++repeat) {
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), static_cast<int>(n),
                static_cast<int>(n), 1.0f, a.data(), static_cast<int>(n), b.data(), static_cast<int>(n), 0.0f,
                c.data(), static_cast<int>(n));
    best.per_second = std::max(best.per_second, gflop / seconds_since(start));
    best.per_cpu_second = std::max(best.per_cpu_second, gflop / (cpu_seconds() - cpu_start));
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
  const std::string first = argc > 1 ? argv[1] : "4096";
  const bool trained = first.size() > 3 && first.compare(first.size() - 3, 3, ".h5") == 0;
  const fepflow::RandomStream rng(20250522);
  const fepflow::Value W = trained ? fepflow::read_hdf5_dataset(first, "/network/W")
                                   : fepflow::Value(random_weights(std::strtoul(first.c_str(), nullptr, 10), rng.substream(0)));
  const std::size_t n = W.shape().at(0);
  const fepflow::Value patterns =
      trained ? fepflow::read_hdf5_dataset(first, "/patterns/patterns")
              : fepflow::Value(zscored_patterns(argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 400, n, rng.substream(1)));
  const std::size_t count = patterns.shape().at(0);
  const int threads = tbb::info::default_concurrency();
  const std::map<std::string, fepflow::Value> inputs{{"W", W}, {"patterns", patterns}};
  using Params = std::map<std::string, fepflow::ParamValue>;

  const Rate sgemm = sgemm_rate(count, n, threads);
  std::printf("%s network: nodes %zu, patterns %zu, threads %d; OpenBLAS sgemm %zu x %zu x %zu: %.1f GFLOP/s, "
              "%.1f GFLOP per CPU second\n\n",
              trained ? "trained" : "random", n, count, threads, count, n, n, sgemm.per_second, sgemm.per_cpu_second);

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

  std::printf("\n| probe | chains | chain-steps | seconds | CPU seconds | GFLOP | GFLOP/s | of sgemm | GFLOP per CPU s | of "
              "sgemm's |\n|---|---|---|---|---|---|---|---|---|---|\n");
  double all_seconds = 0.0, all_cpu = 0.0, all_gflop = 0.0;
  const double flop_per_chain_step = 2.0 * static_cast<double>(n) * static_cast<double>(n);
  for (const auto& row : rows) {
    const double gflop = flop_per_chain_step * static_cast<double>(row.chain_steps) / 1e9;
    all_seconds += row.seconds;
    all_cpu += row.cpu_seconds;
    all_gflop += gflop;
    std::printf("| %s | %lld | %lld | %.2f | %.2f | %.0f | %.1f | %.0f%% | %.1f | %.0f%% |\n", row.probe.c_str(),
                static_cast<long long>(row.chains), static_cast<long long>(row.chain_steps), row.seconds,
                row.cpu_seconds, gflop, gflop / row.seconds, 100.0 * gflop / row.seconds / sgemm.per_second,
                gflop / row.cpu_seconds, 100.0 * gflop / row.cpu_seconds / sgemm.per_cpu_second);
  }
  std::printf("| all probes | | | %.2f | %.2f | %.0f | %.1f | %.0f%% | %.1f | %.0f%% |\n", all_seconds, all_cpu, all_gflop,
              all_gflop / all_seconds, 100.0 * all_gflop / all_seconds / sgemm.per_second, all_gflop / all_cpu,
              100.0 * all_gflop / all_cpu / sgemm.per_cpu_second);
  return 0;
}
