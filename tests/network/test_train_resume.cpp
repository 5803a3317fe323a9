// A training run killed (SIGKILL) or interrupted (Ctrl-C) after a checkpoint,
// then started again, ends with exactly the results of an uninterrupted run.
#include <catch2/catch.hpp>

#include "support.hpp"

#include <fepflow/io.hpp>

#include <csignal>
#include <filesystem>
#include <string>

using fepflow::test::ScratchDir;

namespace {

// About two seconds of training on this machine; the first checkpoint comes
// after a thirtieth of it, so a kill lands mid-training.
const std::string pipeline = R"(name: resume
seed: 3
stages:
  patterns: {type: synthetic_patterns, params: {kind: gaussian, n_patterns: 4, n_nodes: 200}}
  network:
    type: train
    inputs: {patterns: patterns.patterns}
    params: {beta: 0.7, lr: 0.001, epochs: 6000, steps: 10, checkpoint_every: 200}
)";

struct Trained {
  xt::xarray<float> W;
  xt::xarray<double> vfe;
  xt::xarray<std::int64_t> order;
};

Trained read_training(const std::string& file) {
  return {fepflow::read_hdf5_dataset(file, "/network/W").array<float>(),
          fepflow::read_hdf5_dataset(file, "/network/vfe").array<double>(),
          fepflow::read_hdf5_dataset(file, "/network/order").array<std::int64_t>()};
}

}  // namespace

TEST_CASE("train: a killed or interrupted run resumes from its checkpoint, bit-identical", "[train][cli]") {
  ScratchDir dir;
  const auto file = dir.path("resume.yaml");
  fepflow::test::write_file(file, pipeline);
  const auto full = fepflow::test::run_cli("run " + file + " -o " + dir.path("full.h5") + " --threads 2");
  INFO(full.output);
  REQUIRE(full.exit_code == 0);
  const Trained reference = read_training(dir.path("full.h5"));

  for (const int signal : {SIGKILL, SIGINT}) {
    const std::string name = signal == SIGKILL ? "killed" : "interrupted";
    INFO(name);
    const auto out = dir.path(name + ".h5");
    const auto checkpoint = out + ".checkpoints/network.h5";
    // Interrupted with one thread, resumed with two: neither may show in W.
    const int pid = fepflow::test::spawn_cli({"run", file, "-o", out, "--threads", "1"}, dir.path(name + ".log"));
    REQUIRE(fepflow::test::wait_until([&] { return std::filesystem::exists(checkpoint); }, 60));
    ::kill(pid, signal);
    CHECK(fepflow::test::wait_for_exit(pid) == (signal == SIGKILL ? 128 + SIGKILL : 130));
    REQUIRE(std::filesystem::exists(checkpoint));

    const auto resumed = fepflow::test::run_cli("run " + file + " -o " + out + " --threads 2");
    INFO(resumed.output);
    REQUIRE(resumed.exit_code == 0);
    CHECK_THAT(resumed.output, Catch::Contains("resuming from the checkpoint at epoch"));
    CHECK_FALSE(std::filesystem::exists(checkpoint));  // removed once the result is stored
    const Trained result = read_training(out);
    CHECK(result.W == reference.W);
    CHECK(result.vfe == reference.vfe);
    CHECK(result.order == reference.order);
  }
}
