// Stages that exercise the engine in tests (loaded as a plugin, which also
// tests plugin loading): sources, arithmetic, failure, concurrency,
// cancellation and checkpoints.
#include <fepflow/fepflow.hpp>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <xtensor/xarray.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

namespace {

using fepflow::any_rank;

/// `count` uniform numbers from the stage's stream (tests seeds and determinism).
class RandomSource : public fepflow::Stage {
  fepflow::Param<std::int64_t> count{this, "count", 8, "how many numbers", fepflow::at_least(1)};
  fepflow::Output<double> values{this, "values", 1, "uniform numbers in [0, 1)"};
  fepflow::Output<double> total{this, "total", 0, "their sum"};

  void run(fepflow::Context& ctx) override {
    xt::xarray<double> v = xt::zeros<double>({static_cast<std::size_t>(*count)});
    for (std::size_t i = 0; i < v.size(); ++i) v(i) = ctx.rng().uniform_double(i);
    const double sum = xt::sum(v)();
    ctx.metric("sum", sum);
    total = xt::xarray<double>(sum);
    values = std::move(v);
  }
};

class Scale : public fepflow::Stage {
  fepflow::Input<double> x{this, "x", any_rank, "values"};
  fepflow::Param<double> factor{this, "factor", 2.0, "multiplier"};
  fepflow::Output<double> y{this, "y", any_rank, "x * factor"};
  void run(fepflow::Context&) override { y = *x * *factor; }
};

class Add : public fepflow::Stage {
  fepflow::Input<double> a{this, "a", 1, "first term"};
  fepflow::Input<double> b{this, "b", 1, "second term", fepflow::optional_input};
  fepflow::Output<double> sum{this, "sum", 1, "a + b (a alone if b is not connected)"};
  void run(fepflow::Context&) override {
    if (!b.connected()) {
      sum = *a;
      return;
    }
    if (a->shape() != b->shape()) throw fepflow::Error("a and b differ in shape");
    sum = *a + *b;
  }
};

class Fail : public fepflow::Stage {
  fepflow::Input<double> x{this, "x", any_rank, "ignored", fepflow::optional_input};
  fepflow::Param<std::string> message{this, "message", "deliberate failure", "the error to raise"};
  fepflow::Output<double> y{this, "y", 1, "never produced"};
  void run(fepflow::Context&) override { throw fepflow::Error(*message); }
};

/// Waits until `parties` rendezvous stages of the same `group` are running at
/// once: proof that independent branches run concurrently, without timing.
/// With `loop` > 0 it then waits until the others have left and runs a
/// parallel loop whose `loop` iterations must all be running at once: proof
/// that a stage's loops get the run's threads, also those that just ran
/// other stages.
class Rendezvous : public fepflow::Stage {
  fepflow::Param<std::string> group{this, "group", "g", "meeting point"};
  fepflow::Param<std::int64_t> parties{this, "parties", 2, "how many must meet", fepflow::at_least(1)};
  fepflow::Param<std::int64_t> loop{this, "loop", 0, "loop iterations that must run at once", fepflow::at_least(0)};
  fepflow::Param<double> timeout{this, "timeout", 30.0, "seconds to wait before failing", fepflow::positive()};
  fepflow::Output<std::int64_t> met{this, "met", 0, "how many had arrived when this one left"};
  fepflow::Output<std::int64_t> together{this, "together", 0, "most loop iterations seen running at once"};
  fepflow::Output<std::int64_t> arena_threads{this, "arena_threads", 0, "the concurrency of the arena it ran in"};

  void run(fepflow::Context&) override {
    arena_threads = xt::xarray<std::int64_t>(tbb::this_task_arena::max_concurrency());
    static std::mutex mutex;
    static std::condition_variable changed;
    static std::map<std::string, std::int64_t> arrived, left, running, most_running;
    const auto wait = [&](std::unique_lock<std::mutex>& lock, auto condition) {
      return changed.wait_for(lock, std::chrono::duration<double>(*timeout), condition);
    };
    std::unique_lock lock(mutex);
    const std::int64_t count = ++arrived[*group];
    changed.notify_all();
    if (!wait(lock, [&] { return arrived[*group] >= *parties; }))
      throw fepflow::Error("only " + std::to_string(arrived[*group]) + " of " + std::to_string(*parties) +
                           " stages of group '" + *group + "' were running at the same time");
    met = xt::xarray<std::int64_t>(std::max(count, arrived[*group]));
    if (*loop == 0) {
      ++left[*group];
      changed.notify_all();
      together = xt::xarray<std::int64_t>(0);
      return;
    }
    if (!wait(lock, [&] { return left[*group] >= *parties - 1; }))
      throw fepflow::Error("the other stages of group '" + *group + "' did not finish");
    lock.unlock();

    tbb::parallel_for(
        tbb::blocked_range<std::int64_t>(0, *loop, 1),
        [&](const tbb::blocked_range<std::int64_t>&) {
          std::unique_lock inner(mutex);
          most_running[*group] = std::max(most_running[*group], ++running[*group]);
          changed.notify_all();
          wait(inner, [&] { return most_running[*group] >= *loop; });
          --running[*group];
        },
        tbb::simple_partitioner());
    lock.lock();
    const std::int64_t most = most_running[*group];
    if (most < *loop)
      throw fepflow::Error("only " + std::to_string(most) + " of the " + std::to_string(*loop) +
                           " iterations of the stage's parallel loop ran at once");
    together = xt::xarray<std::int64_t>(most);
  }
};

/// Counts to `steps`, one step per `step_seconds`, reporting progress and
/// checkpointing every `checkpoint_every` steps; resumes from a checkpoint.
class SlowCounter : public fepflow::Stage {
  fepflow::Param<std::int64_t> steps{this, "steps", 10, "steps to count", fepflow::at_least(1)};
  fepflow::Param<double> step_seconds{this, "step_seconds", 0.01, "sleep per step", fepflow::non_negative()};
  fepflow::Param<std::int64_t> checkpoint_every{this, "checkpoint_every", 0, "steps between checkpoints (0: none)",
                                                fepflow::non_negative()};
  fepflow::Output<std::int64_t> visited{this, "visited", 1, "the step indices, in order"};

  void run(fepflow::Context& ctx) override {
    xt::xarray<std::int64_t> seen = xt::zeros<std::int64_t>({static_cast<std::size_t>(*steps)});
    std::int64_t start = 0;
    if (auto saved = ctx.load_checkpoint()) {
      start = saved->at("next").array<std::int64_t>()();
      seen = saved->at("seen").array<std::int64_t>();
      ctx.metric("resumed_at", static_cast<double>(start));
    }
    for (std::int64_t i = start; i < *steps; ++i) {
      std::this_thread::sleep_for(std::chrono::duration<double>(*step_seconds));
      seen(static_cast<std::size_t>(i)) = i;
      if (*checkpoint_every > 0 && (i + 1) % *checkpoint_every == 0)
        ctx.save_checkpoint({{"next", fepflow::Value(xt::xarray<std::int64_t>(i + 1))}, {"seen", fepflow::Value(seen)}});
      ctx.progress(static_cast<double>(i + 1) / static_cast<double>(*steps), "step " + std::to_string(i + 1));
    }
    visited = std::move(seen);
  }
};

class Describe : public fepflow::Stage {
  fepflow::Input<double> x{this, "x", any_rank, "values"};
  fepflow::Param<std::vector<double>> levels{this, "levels", {0.5}, "thresholds", fepflow::between(0, 1)};
  fepflow::Param<std::string> mode{this, "mode", "count", "what to report", fepflow::one_of({"count", "text"})};
  fepflow::Param<bool> verbose{this, "verbose", false, "log the result"};
  fepflow::Output<std::string> text{this, "text", 0, "a sentence about x"};
  void run(fepflow::Context& ctx) override {
    std::size_t above = 0;
    for (double v : *x) above += v > levels->front() ? 1 : 0;
    const std::string s = std::to_string(above) + " of " + std::to_string(x->size()) + " above";
    if (*verbose) ctx.log(s);
    text = s;
  }
};

/// Writes its input's size to `file`: a result outside the store.
class WriteFile : public fepflow::Stage {
  fepflow::Input<double> x{this, "x", any_rank, "values"};
  fepflow::Param<std::string> file{this, "file", fepflow::required, "where to write"};
  fepflow::Output<std::string> written{this, "file", 0, "the path written"};
  std::vector<std::string> external_files() const override { return {*file}; }
  void run(fepflow::Context&) override {
    std::ofstream(*file) << x->size() << "\n";
    written = *file;
  }
};

}  // namespace

FEPFLOW_PLUGIN("engine_test_stages", "1.0") {
  registry.add<RandomSource>("random_source", 1, "Uniform random numbers from the stage's stream");
  registry.add<Scale>("scale", 1, "Multiplies an array by a factor");
  registry.add<Add>("add", 1, "Adds two vectors");
  registry.add<Fail>("fail", 1, "Always fails with the given message");
  registry.add<Rendezvous>("rendezvous", 1, "Waits until N stages of a group run at once, then for N threads in a loop");
  registry.add<SlowCounter>("slow_counter", 1, "Counts slowly, with progress and checkpoints");
  registry.add<WriteFile>("write_file", 1, "Writes the input's size to a file");
  registry.add<Describe>("describe_values", 1, "Counts values above a level, as text");
}
