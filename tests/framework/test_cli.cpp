// The `fepflow` command: subcommands, exit codes, and that a killed or
// interrupted run never leaves a corrupt output file.
#include <catch2/catch.hpp>

#include "support.hpp"

#include <fepflow/io.hpp>
#include <fepflow/version.hpp>

#include "store.hpp"

#include <csignal>
#include <filesystem>

using fepflow::test::run_cli;
using fepflow::test::ScratchDir;

namespace {

const std::string plugin = std::string(" --plugin ") + FEPFLOW_TEST_PLUGIN;

const std::string demo = R"(name: demo
seed: 1
stages:
  src: {type: random_source, params: {count: 5}}
  twice: {type: scale, inputs: {x: src.values}}
)";

/// src finishes at once; slow then counts for about `seconds`.
std::string slow_pipeline(double seconds) {
  return "name: slow\nstages:\n  src: {type: random_source}\n"
         "  slow: {type: slow_counter, inputs: {}, params: {steps: 1000, step_seconds: " +
         std::to_string(seconds / 1000) + "}}\n";
}

}  // namespace

TEST_CASE("cli: help, version and usage errors", "[cli]") {
  const auto help = run_cli("--help");
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.output, Catch::Contains("Exit codes: 0 success, 1 a stage failed, 2 usage or validation error"));
  for (const char* command : {"run", "validate", "stages", "describe", "inspect"}) {
    const auto r = run_cli(std::string(command) + " --help");
    INFO(command << ": " << r.output);
    CHECK(r.exit_code == 0);
  }
  CHECK(run_cli("--version").output.find(FEPFLOW_VERSION_STRING) != std::string::npos);
  CHECK(run_cli("").exit_code == 2);
  CHECK(run_cli("frobnicate").exit_code == 2);
  CHECK(run_cli("run /no/such/pipeline.yaml").exit_code == 2);
}

TEST_CASE("cli: stages and describe come from the stages' declarations", "[cli]") {
  const auto stages = run_cli("stages" + plugin);
  CHECK(stages.exit_code == 0);
  CHECK_THAT(stages.output, Catch::Contains("slow_counter") && Catch::Contains("Counts slowly, with progress"));
  const auto describe = run_cli("describe describe_values" + plugin);
  CHECK(describe.exit_code == 0);
  CHECK_THAT(describe.output, Catch::Contains("levels  list of reals, default [0.5], allowed [0, 1]") &&
                                  Catch::Contains("mode  string, default count, allowed one of: count, text") &&
                                  Catch::Contains("x  float64, rank any") && Catch::Contains("text  string, rank 0"));
  const auto unknown = run_cli("describe scal" + plugin);
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.output, Catch::Contains("unknown stage type 'scal' (did you mean 'scale')"));
}

TEST_CASE("cli: validate lists every problem with its position and exits 2", "[cli]") {
  ScratchDir dir;
  const auto file = dir.path("bad.yaml");
  fepflow::test::write_file(file, "stages:\n  a: {type: random_source, params: {count: -1}}\n  b: {type: scal}\n");
  const auto r = run_cli("validate " + file + plugin);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains(file + ":2:44: stage 'a': parameter 'count' must be >= 1, got -1") &&
                           Catch::Contains(file + ":3:13: stage 'b': unknown stage type 'scal'") &&
                           Catch::Contains("2 problems"));
  fepflow::test::write_file(file, demo);
  const auto ok = run_cli("validate " + file + plugin);
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.output, Catch::Contains("OK, pipeline 'demo' with 2 stages"));
  // A validation error stops `run` before anything is written.
  const auto bad_run = run_cli("run " + file + plugin + " --set twice.factor=x -o " + dir.path("o.h5"));
  CHECK(bad_run.exit_code == 2);
  CHECK_FALSE(std::filesystem::exists(dir.path("o.h5")));
}

TEST_CASE("cli: run, cached re-run, inspect; a failed stage exits 1", "[cli]") {
  ScratchDir dir;
  const auto file = dir.path("demo.yaml");
  const auto out = dir.path("demo.h5");
  fepflow::test::write_file(file, demo);
  const auto first = run_cli("run " + file + plugin + " -o " + out);
  INFO(first.output);
  CHECK(first.exit_code == 0);
  CHECK_THAT(first.output, Catch::Contains("computed") && Catch::Contains("sum=") && Catch::Contains("wall time"));
  const auto second = run_cli("run " + file + plugin + " -o " + out + " --threads 1");
  CHECK(second.exit_code == 0);
  CHECK_THAT(second.output, Catch::Contains("cached") && !Catch::Contains("computed"));

  const auto inspect = run_cli("inspect " + out);
  CHECK(inspect.exit_code == 0);
  CHECK_THAT(inspect.output, Catch::Contains("/src  (random_source") && Catch::Contains("values            float64[5]") &&
                                 Catch::Contains("metric sum = ") && Catch::Contains("parameters: factor: 2.0") &&
                                 Catch::Contains("status          complete"));
  CHECK(run_cli("inspect " + out + " --pipeline").output == demo);
  CHECK(run_cli("inspect " + file).exit_code == 2);  // not an HDF5 file

  fepflow::test::write_file(file, demo + "  boom: {type: fail, inputs: {x: twice.y}, params: {message: out of cheese}}\n");
  const auto failed = run_cli("run " + file + plugin + " -o " + out);
  CHECK(failed.exit_code == 1);
  CHECK_THAT(failed.output, Catch::Contains("stage 'boom' (fail) failed: out of cheese"));
}

TEST_CASE("cli: render draws a stored dataset to PNG beside the file or where -o says", "[cli][render]") {
  ScratchDir dir;
  const auto file = dir.path("demo.yaml");
  const auto out = dir.path("demo.h5");
  fepflow::test::write_file(file, demo);
  REQUIRE(run_cli("run " + file + plugin + " -o " + out).exit_code == 0);
  const auto line = run_cli("render " + out + " /twice/y");
  CHECK(line.exit_code == 0);
  CHECK_THAT(line.output, Catch::Contains("wrote " + dir.path("demo-twice-y.png")));
  CHECK(fepflow::test::read_file(dir.path("demo-twice-y.png")).substr(1, 3) == "PNG");
  const auto titled = run_cli("render " + out + " /src/values -o " + dir.path("v.svg") + " --set 'title=Uniform draws'");
  CHECK(titled.exit_code == 0);
  CHECK_THAT(fepflow::test::read_file(dir.path("v.svg")), Catch::Contains("<svg"));
  const auto missing = run_cli("render " + out + " /twice/nothing");
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.output, Catch::Contains("no dataset '/twice/nothing'"));
  const auto bad = run_cli("render " + out + " /twice/y --set moving_average=x");
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.output, Catch::Contains("parameter 'moving_average' expects an integer, got 'x'"));
}

TEST_CASE("cli: expected values are reported; --check makes a miss exit 3", "[cli]") {
  ScratchDir dir;
  const auto file = dir.path("demo.yaml");
  fepflow::test::write_file(file, demo + "expect:\n  src.sum: {between: [0, 5]}\n  src.nothing: {near: 1, tol: 1}\n");
  const auto r = run_cli("run " + file + plugin + " -o " + dir.path("o.h5"));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Matches("(.|\n)*src.sum +[0-9.]+ +\\[0.0, 5.0\\] +pass(.|\n)*") &&
                           Catch::Matches("(.|\n)*src.nothing +missing +1.0 \\+- 1.0 +FAIL(.|\n)*"));
  const auto checked = run_cli("run " + file + plugin + " -o " + dir.path("o.h5") + " --check");
  CHECK(checked.exit_code == 3);
  CHECK_THAT(checked.output, Catch::Contains("some expected values were not reproduced"));
}

TEST_CASE("cli: plugins from FEPFLOW_PLUGIN_PATH; a plugin of another ABI is refused", "[cli][plugin]") {
  const auto listed = fepflow::test::run_shell("FEPFLOW_PLUGIN_PATH=" + std::string(FEPFLOW_TEST_PLUGIN) + " " +
                                               FEPFLOW_CLI + " stages");
  CHECK(listed.exit_code == 0);
  CHECK_THAT(listed.output, Catch::Contains("rendezvous"));
  const auto wrong = run_cli(std::string("stages --plugin ") + FEPFLOW_WRONG_ABI_PLUGIN);
  CHECK(wrong.exit_code == 2);
  CHECK_THAT(wrong.output, Catch::Contains("was built for fepflow ABI") &&
                               Catch::Contains("rebuild the plugin against this fepflow"));
  const auto not_plugin = run_cli("stages --plugin " + std::string(FEPFLOW_CLI));
  CHECK(not_plugin.exit_code == 2);
  CHECK_THAT(not_plugin.output, Catch::Contains("cannot load plugin"));
}

TEST_CASE("cli: kill -9 mid-run leaves a valid file with every finished stage", "[cli][atomic]") {
  ScratchDir dir;
  const auto file = dir.path("slow.yaml");
  const auto out = dir.path("slow.h5");
  fepflow::test::write_file(file, slow_pipeline(30));

  // No earlier file: after the kill the output holds the finished stage.
  int pid = fepflow::test::spawn_cli({"run", file, "--plugin", FEPFLOW_TEST_PLUGIN, "-o", out}, dir.path("log"));
  REQUIRE(fepflow::test::wait_until([&] { return std::filesystem::exists(out); }, 60));
  ::kill(pid, SIGKILL);
  CHECK(fepflow::test::wait_for_exit(pid) == 128 + SIGKILL);
  const auto run = fepflow::detail::read_run(out);
  CHECK(run.attributes.at("status") == "running");
  REQUIRE(run.find("src"));
  CHECK(run.find("slow") == nullptr);
  CHECK(fepflow::read_hdf5_dataset(out, "/src/values").array<double>().size() == 8);

  // With an earlier file: a killed re-run leaves it readable and complete.
  fepflow::test::write_file(file, slow_pipeline(0.2));
  REQUIRE(run_cli("run " + file + plugin + " -o " + out).exit_code == 0);
  const auto before = fepflow::read_hdf5_dataset(out, "/src/values").array<double>();
  fepflow::test::write_file(file, slow_pipeline(30));
  pid = fepflow::test::spawn_cli({"run", file, "--plugin", FEPFLOW_TEST_PLUGIN, "-o", out, "--force"}, dir.path("log"));
  // Kill once the re-run has published its recomputed first stage.
  REQUIRE(fepflow::test::wait_until(
      [&] {
        try {
          return fepflow::detail::read_run(out).attributes.at("status") == "running";
        } catch (const std::exception&) {
          return false;
        }
      },
      60));
  ::kill(pid, SIGKILL);
  fepflow::test::wait_for_exit(pid);
  const auto after = fepflow::detail::read_run(out);
  REQUIRE(after.find("src"));
  REQUIRE(after.find("slow"));  // the earlier result, kept (marked stale) until replaced
  CHECK(after.find("slow")->attribute("state") == "stale");
  CHECK(fepflow::read_hdf5_dataset(out, "/src/values").array<double>() == before);
}

TEST_CASE("cli: Ctrl-C cancels cleanly, says so, exits 130; the next run continues", "[cli][cancel]") {
  ScratchDir dir;
  const auto file = dir.path("slow.yaml");
  const auto out = dir.path("slow.h5");
  fepflow::test::write_file(file, slow_pipeline(30));
  const auto log = dir.path("log");
  const int pid = fepflow::test::spawn_cli({"run", file, "--plugin", FEPFLOW_TEST_PLUGIN, "-o", out}, log);
  REQUIRE(fepflow::test::wait_until([&] { return std::filesystem::exists(out); }, 60));
  ::kill(pid, SIGINT);
  CHECK(fepflow::test::wait_for_exit(pid) == 130);
  const std::string text = fepflow::test::read_file(log);
  CHECK_THAT(text, Catch::Contains("interrupted; the stages that finished are stored in " + out) &&
                       Catch::Contains("cancelled"));
  CHECK(fepflow::detail::read_run(out).attributes.at("status") == "interrupted");

  fepflow::test::write_file(file, slow_pipeline(0.2));
  const auto next = run_cli("run " + file + plugin + " -o " + out);
  CHECK(next.exit_code == 0);
  CHECK_THAT(next.output, Catch::Contains("src    random_source  cached"));
}
