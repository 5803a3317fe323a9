// Running pipelines: HDF5 layout, caching, failures, concurrency,
// reproducibility across thread counts, cancellation and checkpoints.
#include <catch2/catch.hpp>

#include "support.hpp"

#include <fepflow/io.hpp>
#include <fepflow/pipeline.hpp>
#include <fepflow/random.hpp>
#include <fepflow/testing.hpp>
#include <fepflow/version.hpp>

#include "store.hpp"

#include <xtensor/xbuilder.hpp>
#include <xtensor/xio.hpp>
#include <xtensor/xmath.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

using fepflow::StageState;
using fepflow::test::ScratchDir;

namespace {

fepflow::Pipeline pipeline(const std::string& yaml, const std::string& output,
                           const std::vector<std::string>& overrides = {}) {
  fepflow::test::load_engine_test_stages();
  auto overrides_with_output = overrides;
  overrides_with_output.push_back("output=" + output);
  return fepflow::parse_pipeline(yaml, "p.yaml", overrides_with_output);
}

std::map<std::string, StageState> states(const fepflow::RunReport& r) {
  std::map<std::string, StageState> out;
  for (const auto& s : r.stages) out[s.name] = s.state;
  return out;
}

const std::string chain = R"(name: chain
seed: 5
stages:
  src: {type: random_source, params: {count: 6}}
  twice: {type: scale, inputs: {x: src.values}}
  sum: {type: add, inputs: {a: src.values, b: twice.y}}
  other: {type: random_source, params: {count: 3}}
)";

}  // namespace

TEST_CASE("every output port is a dataset /stage/port with provenance attributes", "[runner]") {
  ScratchDir dir;
  const auto out = dir.path("run.h5");
  const auto report = fepflow::run_pipeline(pipeline(chain, out), {});
  REQUIRE(report.ok());
  const auto src = fepflow::read_hdf5_dataset(out, "/src/values").array<double>();
  const auto twice = fepflow::read_hdf5_dataset(out, "/twice/y").array<double>();
  const auto sum = fepflow::read_hdf5_dataset(out, "/sum/sum").array<double>();
  REQUIRE(src.shape() == std::vector<std::size_t>{6});
  CHECK(twice == 2.0 * src);
  CHECK(sum == 3.0 * src);
  CHECK(fepflow::read_hdf5_dataset(out, "/src/total").rank() == 0);

  const auto run = fepflow::detail::read_run(out);
  CHECK(run.attributes.at("status") == "complete");
  CHECK(run.attributes.at("seed") == "5");
  CHECK(run.attributes.at("pipeline_yaml").find("twice: {type: scale") != std::string::npos);
  CHECK(run.attributes.count("host") == 1);
  CHECK(run.attributes.at("libraries").find("hdf5 1.") == 0);
  const auto* twice_group = run.find("twice");
  REQUIRE(twice_group);
  CHECK(twice_group->attribute("type") == "scale");
  CHECK(twice_group->attribute("parameters") == "factor: 2.0\n");
  CHECK(twice_group->attribute("inputs").rfind("x: src.values @", 0) == 0);
  CHECK(twice_group->attribute("fingerprint").size() == 64);
  CHECK(twice_group->attribute("fepflow_version") == FEPFLOW_VERSION_STRING);
  CHECK(twice_group->numbers.count("seconds") == 1);
  CHECK(run.find("src")->metrics.at("sum") == Approx(xt::sum(src)()));
}

TEST_CASE("a re-run reuses stored stages and recomputes only what changed downstream", "[runner][cache]") {
  ScratchDir dir;
  const auto out = dir.path("run.h5");
  CHECK(states(fepflow::run_pipeline(pipeline(chain, out), {})) ==
        std::map<std::string, StageState>{{"src", StageState::computed},
                                          {"twice", StageState::computed},
                                          {"sum", StageState::computed},
                                          {"other", StageState::computed}});
  const auto before = fepflow::read_hdf5_dataset(out, "/sum/sum").array<double>();

  auto again = fepflow::run_pipeline(pipeline(chain, out), {});
  for (const auto& s : again.stages) {
    CHECK(s.state == StageState::cached);
    CHECK(s.reason == "cached");
  }

  const auto changed = fepflow::run_pipeline(pipeline(chain, out, {"twice.factor=4"}), {});
  CHECK(states(changed) == std::map<std::string, StageState>{{"src", StageState::cached},
                                                             {"twice", StageState::computed},
                                                             {"sum", StageState::computed},
                                                             {"other", StageState::cached}});
  CHECK(changed.stages[1].reason == "factor 2.0 -> 4.0");
  CHECK(changed.stages[2].reason == "input 'b' changed (twice re-runs)");
  const auto after = fepflow::read_hdf5_dataset(out, "/sum/sum").array<double>();
  CHECK(xt::allclose(after, 5.0 / 3.0 * before));

  const auto seeded = fepflow::run_pipeline(pipeline(chain, out, {"twice.factor=4", "seed=6"}), {});
  for (const auto& s : seeded.stages) CHECK(s.state == StageState::computed);
  CHECK(seeded.stages[0].reason == "seed changed (5 -> 6)");

  fepflow::RunOptions force;
  force.force = true;
  for (const auto& s : fepflow::run_pipeline(pipeline(chain, out, {"twice.factor=4", "seed=6"}), force).stages) {
    CHECK(s.state == StageState::computed);
    CHECK(s.reason == "--force");
  }
}

TEST_CASE("a cached stage whose file outside the store is missing re-runs", "[runner][cache]") {
  ScratchDir dir;
  const auto out = dir.path("run.h5");
  const auto figure = dir.path("size.txt");
  const std::string yaml = "stages:\n  src: {type: random_source}\n  save: {type: write_file, inputs: {x: src.values}, "
                           "params: {file: '" + figure + "'}}\n";
  REQUIRE(fepflow::run_pipeline(pipeline(yaml, out), {}).ok());
  CHECK(fepflow::test::read_file(figure) == "8\n");
  CHECK(states(fepflow::run_pipeline(pipeline(yaml, out), {})).at("save") == StageState::cached);
  std::filesystem::remove(figure);
  const auto again = fepflow::run_pipeline(pipeline(yaml, out), {});
  CHECK(states(again) == std::map<std::string, StageState>{{"src", StageState::cached}, {"save", StageState::computed}});
  CHECK(again.stages[1].reason == "its file " + figure + " is missing");
  CHECK(fepflow::test::read_file(figure) == "8\n");
}

TEST_CASE("a failing stage stops the graph; finished stages keep their stored results", "[runner]") {
  ScratchDir dir;
  const auto out = dir.path("run.h5");
  const std::string yaml = R"(stages:
  src: {type: random_source}
  boom: {type: fail, inputs: {x: src.values}, params: {message: "the sky fell"}}
  after: {type: scale, inputs: {x: boom.y}}
)";
  const auto report = fepflow::run_pipeline(pipeline(yaml, out), {});
  CHECK_FALSE(report.ok());
  REQUIRE(report.first_failure());
  CHECK(report.first_failure()->name == "boom");
  CHECK(report.first_failure()->error == "the sky fell");
  CHECK(states(report) == std::map<std::string, StageState>{{"src", StageState::computed},
                                                            {"boom", StageState::failed},
                                                            {"after", StageState::skipped}});
  const auto run = fepflow::detail::read_run(out);
  CHECK(run.attributes.at("status") == "failed");
  CHECK(run.find("src") != nullptr);
  CHECK(run.find("boom") == nullptr);
  CHECK(fepflow::read_hdf5_dataset(out, "/src/values").array<double>().size() == 8);
}

TEST_CASE("independent branches run concurrently", "[runner][concurrency]") {
  // Each rendezvous stage waits until the other is running too: with one
  // branch at a time both would time out and fail.
  ScratchDir dir;
  const std::string yaml = R"(stages:
  left: {type: rendezvous, params: {group: branches, parties: 2, timeout: 60}}
  right: {type: rendezvous, params: {group: branches, parties: 2, timeout: 60}}
)";
  fepflow::RunOptions options;
  options.threads = 2;
  const auto report = fepflow::run_pipeline(pipeline(yaml, dir.path("run.h5")), options);
  for (const auto& s : report.stages) INFO(s.name << ": " << s.error);
  CHECK(report.ok());
}

TEST_CASE("a stage's parallel loops get every thread, also the one that just ran another stage",
          "[runner][concurrency]") {
  // Two stages start together, one on each thread. Once `first` has ended,
  // `second` runs a loop that needs both threads at once. Which thread runs
  // which stage follows the order of the stages, so both orders are run.
  fepflow::RunOptions options;
  options.threads = 2;
  for (int run = 0; run < 4; ++run) {
    ScratchDir dir;
    const std::string group = "loop" + std::to_string(run);
    const std::string first = "  first: {type: rendezvous, params: {group: " + group + "}}\n";
    const std::string second = "  second: {type: rendezvous, params: {group: " + group + ", loop: 2}}\n";
    const std::string yaml = "stages:\n" + (run % 2 ? first + second : second + first);
    const auto report = fepflow::run_pipeline(pipeline(yaml, dir.path("run.h5")), options);
    for (const auto& s : report.stages) INFO(s.name << ": " << s.error);
    REQUIRE(report.ok());
    CHECK(fepflow::read_hdf5_dataset(dir.path("run.h5"), "/second/together").array<std::int64_t>()() == 2);
    CHECK(fepflow::read_hdf5_dataset(dir.path("run.h5"), "/first/arena_threads").array<std::int64_t>()() == 2);
  }
}

TEST_CASE("testing::run_stage gives the stage's parallel loops the threads asked for", "[runner][concurrency]") {
  // The kernels split their work by the arena's concurrency.
  fepflow::test::load_engine_test_stages();
  for (const std::int64_t threads : {1, 2}) {
    fepflow::testing::StageRunOptions options;
    options.threads = static_cast<int>(threads);
    const auto result = fepflow::testing::run_stage("rendezvous",
                                                    {{"group", "alone" + std::to_string(threads)},
                                                     {"parties", std::int64_t{1}},
                                                     {"loop", threads}},
                                                    {}, options);
    CHECK(result.array<std::int64_t>("together")() == threads);
    CHECK(result.array<std::int64_t>("arena_threads")() == threads);
  }
}

TEST_CASE("same pipeline and seed give bit-identical datasets with 1 or 2 threads", "[runner][reproducible]") {
  ScratchDir dir;
  fepflow::RunOptions one, two;
  one.threads = 1;
  two.threads = 2;
  REQUIRE(fepflow::run_pipeline(pipeline(chain, dir.path("one.h5")), one).ok());
  REQUIRE(fepflow::run_pipeline(pipeline(chain, dir.path("two.h5")), two).ok());
  for (const char* path : {"/src/values", "/twice/y", "/sum/sum", "/other/values"}) {
    const auto a = fepflow::read_hdf5_dataset(dir.path("one.h5"), path).array<double>();
    const auto b = fepflow::read_hdf5_dataset(dir.path("two.h5"), path).array<double>();
    CHECK(a == b);
  }
  // Stage streams differ by name, and by seed.
  const auto src = fepflow::read_hdf5_dataset(dir.path("one.h5"), "/src/values").array<double>();
  const auto other = fepflow::read_hdf5_dataset(dir.path("one.h5"), "/other/values").array<double>();
  CHECK(src(0) != other(0));
  REQUIRE(fepflow::run_pipeline(pipeline(chain, dir.path("seed6.h5"), {"seed=6"}), one).ok());
  CHECK(fepflow::read_hdf5_dataset(dir.path("seed6.h5"), "/src/values").array<double>()(0) != src(0));
}

TEST_CASE("an interrupted run keeps finished stages and resumes a stage from its checkpoint", "[runner][cancel]") {
  ScratchDir dir;
  const auto out = dir.path("run.h5");
  const std::string yaml = R"(stages:
  src: {type: random_source}
  count: {type: slow_counter, params: {steps: 400, step_seconds: 0.005, checkpoint_every: 10}}
)";
  std::atomic<bool> interrupt{false};
  fepflow::RunOptions options;
  options.interrupt = &interrupt;
  std::thread stopper([&] {
    // Interrupt once a checkpoint exists (the counter has done at least 10 steps).
    const auto checkpoint = fepflow::detail::checkpoint_path(out, "count");
    for (int i = 0; i < 6000 && !std::filesystem::exists(checkpoint); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    interrupt = true;
  });
  const auto first = fepflow::run_pipeline(pipeline(yaml, out), options);
  stopper.join();
  CHECK(first.interrupted);
  CHECK(states(first).at("count") == StageState::cancelled);
  CHECK(states(first).at("src") == StageState::computed);
  REQUIRE(std::filesystem::exists(fepflow::detail::checkpoint_path(out, "count")));
  CHECK(fepflow::detail::read_run(out).attributes.at("status") == "interrupted");

  const auto second = fepflow::run_pipeline(pipeline(yaml, out), {});
  REQUIRE(second.ok());
  CHECK(states(second).at("src") == StageState::cached);
  CHECK(states(second).at("count") == StageState::computed);
  CHECK(second.stages[1].metrics.at("resumed_at") >= 10);
  const auto visited = fepflow::read_hdf5_dataset(out, "/count/visited").array<std::int64_t>();
  CHECK(visited == xt::arange<std::int64_t>(400));
  CHECK_FALSE(std::filesystem::exists(fepflow::detail::checkpoint_path(out, "count")));
}

// A stage that finishes removes the checkpoint folder once it is empty; a
// stage saving its first checkpoint at that moment must still save it (CI
// once saw the train stage fail here when the stage before it was stored).
TEST_CASE("a checkpoint is saved while another stage's checkpoint is removed", "[runner][cancel]") {
  ScratchDir dir;
  const auto out = dir.path("run.h5");
  const auto saved = fepflow::detail::checkpoint_path(out, "saver");
  const fepflow::Checkpoint state{{"count", fepflow::Value(xt::xarray<std::int64_t>(7))}};
  std::atomic<bool> saving{true};
  std::thread remover([&] {
    while (saving) fepflow::detail::remove_checkpoint_file(out, "finished");
  });
  int failures = 0;
  std::string error;
  for (int i = 0; i < 300; ++i) {
    try {
      fepflow::detail::save_checkpoint_file(saved, "fp", state);
      if (!fepflow::detail::load_checkpoint_file(saved, "fp")) ++failures;
    } catch (const std::exception& e) {
      ++failures;
      error = e.what();
    }
    fepflow::detail::remove_checkpoint_file(out, "saver");  // the next save makes the folder again
  }
  saving = false;
  remover.join();
  INFO(error);
  CHECK(failures == 0);
}

TEST_CASE("an output that is not an HDF5 file is refused and left untouched", "[runner]") {
  ScratchDir dir;
  const auto out = dir.path("notes.h5");
  fepflow::test::write_file(out, "my precious notes");
  CHECK_THROWS_WITH(fepflow::run_pipeline(pipeline(chain, out), {}),
                    Catch::Contains("is not a readable HDF5 file"));
  CHECK(fepflow::test::read_file(out) == "my precious notes");
}

TEST_CASE("outputs are deflated only where that shrinks them well", "[runner][store]") {
  const std::size_t count = 1 << 18;
  // Trained couplings look like Gaussian float32 noise to deflate: stored raw.
  std::vector<float> noise(count);
  fepflow::RandomStream(9).fill_normal(noise.data(), count);
  CHECK_FALSE(fepflow::detail::deflate_pays(noise.data(), count, sizeof(float)));
  // 8-bit images scaled to [0, 1], and small counts, shrink several times.
  std::vector<float> pixels(count);
  for (std::size_t i = 0; i < count; ++i) pixels[i] = static_cast<float>((i / 64 + i % 64) % 256) / 255.0f;
  CHECK(fepflow::detail::deflate_pays(pixels.data(), count, sizeof(float)));
  std::vector<std::int64_t> steps(count);
  for (std::size_t i = 0; i < count; ++i) steps[i] = static_cast<std::int64_t>(100 + i % 50);
  CHECK(fepflow::detail::deflate_pays(steps.data(), count, sizeof(std::int64_t)));
}
