// Training-step time of each kernel against the machine's bounds for touching
// W, measured in the same run (the machine is shared and noisy: only the
// ratios are comparable across runs).
//
//   bench_train [OUT.json] [--sizes 1024,2048,4096] [--threads 1,2] [--seconds 10]
//
// Bounds: the time to stream-read W once (a sum), and to read and write it
// once (scale in place), with the rows split statically over the threads as
// in training; each the fastest of 1, 4 and 8 streams per thread. Kernels:
// ms per step of the faces configuration (beta 0.7, lr 1e-4, 10 steps an
// epoch; the first step of an epoch has no product), and the deferred kernel
// with 100 steps an epoch (nearly every step a product).
// naive/bnd sets the naive step against its own memory bound (read W plus
// read and write W): where it is near 1, no kernel can be much more than
// (read W + r+w W) / read W times faster than naive.
// Also checks the deferred kernel against the naive one over a short training.
#include "network/train_kernels.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace net = fepflow::network;

namespace {

using Clock = std::chrono::steady_clock;
using Batch = xsimd::batch<float>;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Milliseconds of a second call of f (the first warms the caches, as training
// keeps re-reading W).
template <class F>
double warm_ms(const F& f) {
  f();
  const auto start = Clock::now();
  f();
  return 1e3 * seconds_since(start);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Rows [0, n) cut into one fixed block per thread, as the kernels do.
void for_thread_blocks(std::size_t n, const std::function<void(std::size_t, std::size_t)>& body) {
  const auto threads = static_cast<std::size_t>(tbb::this_task_arena::max_concurrency());
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, threads, 1),
      [&](const tbb::blocked_range<std::size_t>& blocks) {
        for (std::size_t b = blocks.begin(); b != blocks.end(); ++b) body(n * b / threads, n * (b + 1) / threads);
      },
      tbb::static_partitioner());
}

// W[begin, end) cut into `Streams` equal parts walked side by side: more
// sequential streams keep more hardware prefetches in flight, which pays off
// once W leaves the caches (the kernels walk 4 rows at once). f(stream,
// offset) sees every full batch; the remainder goes to tail(offset).
template <std::size_t Streams, class F, class Tail>
void walk_streams(std::size_t begin, std::size_t end, const F& f, const Tail& tail) {
  const std::size_t part = (end - begin) / Streams / Batch::size * Batch::size;
  for (std::size_t j = 0; j < part; j += Batch::size)
    for (std::size_t s = 0; s < Streams; ++s) f(s, begin + s * part + j);
  for (std::size_t j = begin + Streams * part; j < end; ++j) tail(j);
}

template <std::size_t Streams>
float stream_read(const float* W, std::size_t begin, std::size_t end) {
  Batch acc[Streams];
  for (auto& a : acc) a = Batch(0.0f);
  float tail_sum = 0;
  walk_streams<Streams>(
      begin, end, [&](std::size_t s, std::size_t j) { acc[s] += Batch::load_unaligned(W + j); },
      [&](std::size_t j) { tail_sum += W[j]; });
  Batch total(0.0f);
  for (const auto& a : acc) total += a;
  return xsimd::hadd(total) + tail_sum;
}

template <std::size_t Streams>
void scale_in_place(float* W, std::size_t begin, std::size_t end, float factor) {
  walk_streams<Streams>(
      begin, end, [&](std::size_t, std::size_t j) { (Batch::load_unaligned(W + j) * factor).store_unaligned(W + j); },
      [&](std::size_t j) { W[j] *= factor; });
}

struct Row {
  std::size_t n;
  int threads;
  double read_ms, read_write_ms, naive_ms, fused_ms, deferred_ms;
  double deferred_long_epochs_ms;  // 100 steps an epoch
  double deferred_vs_naive;        // max |W_deferred - W_naive| / max |W_naive| after a short training
};

net::TrainParams faces_params(std::int64_t epochs, std::int64_t steps = 10) {
  net::TrainParams p;
  p.evidence_level = 1.0;
  p.beta = 0.7;
  p.lr = 1e-4;
  p.epochs = epochs;
  p.steps = steps;
  return p;
}

std::vector<float> random_patterns(std::size_t count, std::size_t n) {
  std::vector<float> values(count * n);
  fepflow::RandomStream(5).fill_normal(values.data(), values.size());
  return values;
}

// One kernel's training, advanced a block of epochs at a time.
class KernelTiming {
 public:
  KernelTiming(std::size_t n, const std::vector<float>& patterns, net::KernelOptions kernel, std::int64_t steps)
      : state_(n), set_{patterns.data(), patterns.size() / n, n}, params_(faces_params(1 << 30, steps)),
        kernel_(kernel), block_(std::max<std::int64_t>(1, 40 / steps)) {}

  // One untimed epoch (W back in this kernel's caches), then a timed block.
  void measure_once() {
    net::train_epochs(state_, set_, params_, rng_, state_.next_epoch + 1, kernel_);
    const auto start = Clock::now();
    net::train_epochs(state_, set_, params_, rng_, state_.next_epoch + block_, kernel_);
    ms_per_step_.push_back(1e3 * seconds_since(start) / static_cast<double>(block_ * params_.steps));
  }
  double median_ms_per_step() const { return median(ms_per_step_); }

 private:
  net::TrainState state_;
  const net::PatternSet set_;
  const net::TrainParams params_;
  const net::KernelOptions kernel_;
  const std::int64_t block_;
  const fepflow::RandomStream rng_{42};
  std::vector<double> ms_per_step_;
};

double deferred_vs_naive(std::size_t n, const std::vector<float>& patterns) {
  const auto p = faces_params(20);
  const net::PatternSet set{patterns.data(), patterns.size() / n, n};
  const fepflow::RandomStream rng(7);
  net::TrainState naive(n), deferred(n);
  net::train_epochs(naive, set, p, rng, p.epochs, {net::UpdateKernel::naive_blas});
  net::train_epochs(deferred, set, p, rng, p.epochs, {net::UpdateKernel::deferred});
  net::apply_pending(deferred, p);
  float difference = 0, scale = 0;
  for (std::size_t i = 0; i < n * n; ++i) {
    difference = std::max(difference, std::fabs(deferred.weights[i] - naive.weights[i]));
    scale = std::max(scale, std::fabs(naive.weights[i]));
  }
  return difference / scale;
}

// The bounds and the kernels are measured in interleaved rounds for about
// `seconds`, and each reported as its median: load from other processes then
// shifts all of them alike, and the ratios stay meaningful.
Row measure(std::size_t n, int threads, double seconds) {
  Row row{n, threads, 0, 0, 0, 0, 0, 0, 0};
  tbb::task_arena arena(threads);
  arena.execute([&] {
    std::vector<float> W(n * n, 1.0f);
    volatile float sink = 0;
    // The bounds: the fastest of 1, 4 and 8 streams per thread.
    const auto read_once = [&](auto streams) {
      return [&, streams] {
        for_thread_blocks(n, [&](std::size_t r0, std::size_t r1) {
          sink = sink + stream_read<decltype(streams)::value>(W.data(), r0 * n, r1 * n);
        });
      };
    };
    const auto read_write_once = [&](auto streams) {
      return [&, streams] {
        for_thread_blocks(n, [&](std::size_t r0, std::size_t r1) {
          scale_in_place<decltype(streams)::value>(W.data(), r0 * n, r1 * n, 0.999f);
        });
      };
    };
    using One = std::integral_constant<std::size_t, 1>;
    using Four = std::integral_constant<std::size_t, 4>;
    using Eight = std::integral_constant<std::size_t, 8>;
    const std::function<void()> reads[] = {read_once(One()), read_once(Four()), read_once(Eight())};
    const std::function<void()> read_writes[] = {read_write_once(One()), read_write_once(Four()),
                                                 read_write_once(Eight())};
    const auto patterns = random_patterns(16, n);
    KernelTiming naive(n, patterns, {net::UpdateKernel::naive_blas}, 10);
    KernelTiming fused(n, patterns, {net::UpdateKernel::fused}, 10);
    KernelTiming deferred(n, patterns, {net::UpdateKernel::deferred}, 10);
    KernelTiming deferred_long_epochs(n, patterns, {net::UpdateKernel::deferred}, 100);
    std::vector<double> read_ms[3], read_write_ms[3];
    const auto start = Clock::now();
    while (read_ms[0].size() < 5 || seconds_since(start) < seconds) {
      for (std::size_t k = 0; k < 3; ++k) {
        read_ms[k].push_back(warm_ms(reads[k]));
        read_write_ms[k].push_back(warm_ms(read_writes[k]));
      }
      for (auto* kernel : {&naive, &fused, &deferred, &deferred_long_epochs}) kernel->measure_once();
    }
    row.read_ms = std::min({median(read_ms[0]), median(read_ms[1]), median(read_ms[2])});
    row.read_write_ms = std::min({median(read_write_ms[0]), median(read_write_ms[1]), median(read_write_ms[2])});
    row.naive_ms = naive.median_ms_per_step();
    row.fused_ms = fused.median_ms_per_step();
    row.deferred_ms = deferred.median_ms_per_step();
    row.deferred_long_epochs_ms = deferred_long_epochs.median_ms_per_step();
    row.deferred_vs_naive = deferred_vs_naive(n, patterns);
  });
  return row;
}

std::vector<long> parse_list(const std::string& text) {
  std::vector<long> values;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) values.push_back(std::stol(item));
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  std::string json_path = "bench_train.json";
  std::vector<long> sizes = {1024, 2048, 4096}, thread_counts = {1, 2};
  double seconds = 10;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    if (arg == "--sizes" && a + 1 < argc)
      sizes = parse_list(argv[++a]);
    else if (arg == "--threads" && a + 1 < argc)
      thread_counts = parse_list(argv[++a]);
    else if (arg == "--seconds" && a + 1 < argc)
      seconds = std::stod(argv[++a]);
    else if (arg.rfind("--", 0) != 0)
      json_path = arg;
    else {
      std::cerr << "usage: bench_train [OUT.json] [--sizes 1024,2048,4096] [--threads 1,2] [--seconds 10]\n";
      return 2;
    }
  }
  const net::KernelOptions deferred_default;
  std::printf("ms per training step (faces configuration: 10 steps an epoch; def(100): 100 steps an epoch); "
              "deferral %zu steps\n", deferred_default.deferral);
  std::printf("naive/bnd: the naive step against its own memory bound, read W + r+w W (sgemv reads W, "
              "sger reads and writes it)\n");
  std::printf("%6s %3s | %7s %7s | %7s %7s %7s %8s | %8s %8s %9s %9s %9s | %8s\n", "n", "thr", "read W", "r+w W",
              "naive", "fused", "deferred", "def(100)", "def/read", "d100/rd", "naive/def", "fused/def", "naive/bnd",
              "W dev");
  std::vector<Row> rows;
  for (long n : sizes)
    for (long threads : thread_counts) {
      const Row r = measure(static_cast<std::size_t>(n), static_cast<int>(threads), seconds);
      rows.push_back(r);
      std::printf("%6zu %3d | %7.3f %7.3f | %7.3f %7.3f %7.3f %8.3f | %8.2f %8.2f %9.2f %9.2f %9.2f | %8.1e\n", r.n,
                  r.threads, r.read_ms, r.read_write_ms, r.naive_ms, r.fused_ms, r.deferred_ms,
                  r.deferred_long_epochs_ms, r.deferred_ms / r.read_ms, r.deferred_long_epochs_ms / r.read_ms,
                  r.naive_ms / r.deferred_ms, r.fused_ms / r.deferred_ms,
                  r.naive_ms / (r.read_ms + r.read_write_ms), r.deferred_vs_naive);
      std::fflush(stdout);
    }
  std::ofstream json(json_path);
  json << "{\n  \"unit\": \"ms per step\",\n  \"deferral\": " << deferred_default.deferral << ",\n  \"results\": [\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    json << "    {\"n\": " << r.n << ", \"threads\": " << r.threads << ", \"read_W\": " << r.read_ms
         << ", \"read_write_W\": " << r.read_write_ms << ", \"naive_blas\": " << r.naive_ms
         << ", \"fused\": " << r.fused_ms << ", \"deferred\": " << r.deferred_ms
         << ", \"deferred_100_steps_per_epoch\": " << r.deferred_long_epochs_ms
         << ", \"deferred_over_read\": " << r.deferred_ms / r.read_ms
         << ", \"deferred_100_over_read\": " << r.deferred_long_epochs_ms / r.read_ms
         << ", \"naive_over_deferred\": " << r.naive_ms / r.deferred_ms
         << ", \"naive_over_its_bound\": " << r.naive_ms / (r.read_ms + r.read_write_ms)
         << ", \"deferred_vs_naive_W_deviation\": " << r.deferred_vs_naive << "}"
         << (i + 1 < rows.size() ? ",\n" : "\n");
  }
  json << "  ]\n}\n";
  std::printf("wrote %s\n", json_path.c_str());
  return json ? 0 : 1;
}
