// Pipeline validation: every problem reported in one pass, each with the
// exact file:line:column, the stage, and a message saying what was expected.
#include <catch2/catch.hpp>

#include "support.hpp"

#include <fepflow/pipeline.hpp>

#include <algorithm>

using fepflow::Diagnostic;
using fepflow::parse_pipeline;
using fepflow::ValidationError;

namespace {

std::vector<Diagnostic> problems(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  fepflow::test::load_engine_test_stages();
  try {
    parse_pipeline(yaml, "p.yaml", overrides);
  } catch (const ValidationError& e) {
    return e.diagnostics();
  }
  return {};
}

/// The one diagnostic whose text contains `fragment` (fails if none or several).
Diagnostic find(const std::vector<Diagnostic>& all, const std::string& fragment) {
  std::vector<Diagnostic> hits;
  for (const auto& d : all)
    if (d.str().find(fragment) != std::string::npos) hits.push_back(d);
  INFO("looking for: " << fragment);
  for (const auto& d : all) INFO("have: " << d.str());
  REQUIRE(hits.size() == 1);
  return hits.front();
}

}  // namespace

TEST_CASE("a valid pipeline loads with defaults filled and producers first", "[validation]") {
  fepflow::test::load_engine_test_stages();
  const auto p = parse_pipeline(R"(name: demo
seed: 3
stages:
  twice: {type: scale, inputs: {x: src.values}}
  src: {type: random_source, params: {count: 4}}
)",
                                "p.yaml");
  CHECK(p.name == "demo");
  CHECK(p.seed == 3);
  CHECK(p.output == "results/demo.h5");
  REQUIRE(p.stages.size() == 2);
  CHECK(p.stages[0].name == "src");
  CHECK(p.stages[1].name == "twice");
  CHECK(std::get<double>(p.stages[1].params.at("factor")) == 2.0);
  CHECK(p.stages[1].param_origin.at("factor") == "default");
  CHECK(std::get<std::int64_t>(p.stages[0].params.at("count")) == 4);
  CHECK(p.stages[1].inputs.at("x").stage == "src");
  CHECK(p.stages[1].inputs.at("x").port == "values");
}

TEST_CASE("YAML syntax errors give the parser's line and column", "[validation]") {
  const auto all = problems("stages:\n  a: {type: scale\n  b: 1\n");
  REQUIRE(all.size() == 1);
  CHECK(all[0].str() == "p.yaml:3:4: YAML syntax error: end of map flow not found");
}

TEST_CASE("every problem of a pipeline is reported in one pass, in file order", "[validation]") {
  const std::string yaml = R"(name: bad
outptu: x.h5
stages:
  src: {type: random_sorce, params: {count: 5}}
  src2: {type: random_source, params: {cont: 5}}
  twice: {type: scale, inputs: {x: src2.value}, params: {factor: abc}}
  sum: {type: add, inputs: {b: nothere.y}}
  text: {type: describe_values, inputs: {x: sum.sum}, params: {levels: [0.5, 2], mode: cnt}}
  rank: {type: add, inputs: {a: src2.total}}
  dtype: {type: add, inputs: {a: meet.met}}
  meet: {type: rendezvous, params: {parties: 0}}
  src2: {type: random_source}
)";
  const auto all = problems(yaml);
  for (const auto& d : all) INFO(d.str());
  CHECK(all.size() == 13);
  CHECK(find(all, "outptu").str() ==
        "p.yaml:2:1: unknown top-level key 'outptu' (did you mean 'output'?); expected: name, description, seed, "
        "output, plugins, stages, expect");
  CHECK(find(all, "random_sorce").str() ==
        "p.yaml:4:15: stage 'src': unknown stage type 'random_sorce' (did you mean 'random_source'?); `fepflow "
        "stages` lists them all");
  CHECK(find(all, "'cont'").str() ==
        "p.yaml:5:40: stage 'src2': unknown parameter 'cont' for type 'random_source' (did you mean 'count'?); "
        "`fepflow describe random_source` lists its parameters");
  CHECK(find(all, "factor").str() == "p.yaml:6:66: stage 'twice': parameter 'factor' expects a number, got 'abc'");
  CHECK(find(all, "no output 'value'").str() ==
        "p.yaml:6:36: stage 'twice': input 'x': stage 'src2' (random_source) has no output 'value' (did you mean "
        "'values'?); its outputs: values, total");
  CHECK(find(all, "nothere").str() ==
        "p.yaml:7:32: stage 'sum': input 'b' names stage 'nothere', which is not in the pipeline");
  CHECK(find(all, "missing required input 'a'").str() ==
        "p.yaml:7:3: stage 'sum': missing required input 'a' (float64, first term)");
  CHECK(find(all, "levels").str() ==
        "p.yaml:8:72: stage 'text': parameter 'levels' element 1 must be in [0, 1], got 2");
  CHECK(find(all, "'mode'").str() ==
        "p.yaml:8:88: stage 'text': parameter 'mode' must be one of: count, text, got 'cnt'");
  CHECK(find(all, "rank").str() ==
        "p.yaml:9:33: stage 'rank': input 'a' expects rank 1, but src2.total has rank 0");
  CHECK(find(all, "int64").str() ==
        "p.yaml:10:34: stage 'dtype': input 'a' expects float64, but meet.met is int64");
  CHECK(find(all, "parties").str() == "p.yaml:11:46: stage 'meet': parameter 'parties' must be >= 1, got 0");
  CHECK(find(all, "duplicate").str() ==
        "p.yaml:12:3: stage 'src2': duplicate stage name (first defined at line 5)");
  // File order.
  CHECK(std::is_sorted(all.begin(), all.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::make_pair(a.line, a.column) < std::make_pair(b.line, b.column);
  }));
}

TEST_CASE("a cycle is reported with the stages in it", "[validation]") {
  const auto all = problems(R"(stages:
  src: {type: random_source}
  a: {type: add, inputs: {a: src.values, b: c.sum}}
  b: {type: add, inputs: {a: a.sum}}
  c: {type: add, inputs: {a: b.sum}}
)");
  REQUIRE(all.size() == 1);
  CHECK(all[0].str() == "p.yaml:3:3: stage 'a': the pipeline has a cycle: a -> b -> c -> a");
}

TEST_CASE("missing pieces: stages, type, required parameters", "[validation]") {
  CHECK(problems("name: x\n")[0].str() ==
        "p.yaml:1:1: missing 'stages': a mapping of stage name -> {type, params, inputs}");
  CHECK(problems("stages:\n  a: {params: {x: 1}}\n")[0].str() == "p.yaml:2:6: stage 'a': missing 'type'");
  CHECK(problems("stages:\n  a: {type: scale, inputz: {}}\n").size() == 2);  // unknown key + missing input
  CHECK(find(problems("stages:\n  a: {type: scale, inputz: {}}\n"), "inputz").str() ==
        "p.yaml:2:20: stage 'a': unknown key 'inputz' (did you mean 'inputs'?); a stage has: type, params, inputs, "
        "doc");
  CHECK(find(problems("stages:\n  9a: {type: random_source}\n"), "letters").line == 2);
}

TEST_CASE("parameter types: integers, reals, bools, strings and lists are checked", "[validation]") {
  CHECK(find(problems("stages:\n  s: {type: random_source, params: {count: 2.5}}\n"), "count").message ==
        "parameter 'count' expects an integer, got '2.5'");
  CHECK(find(problems("stages:\n  s: {type: random_source, params: {count: [1]}}\n"), "count").message ==
        "parameter 'count' expects an integer, got a list");
  CHECK(find(problems("stages:\n  s: {type: random_source, params: {count: }}\n"), "count").message ==
        "parameter 'count' has no value; expected integer");
  const std::string scale = "stages:\n  s: {type: random_source}\n  t: {type: scale, inputs: {x: s.values}, ";
  CHECK(find(problems(scale + "params: {factor: .nan}}\n"), "factor").message ==
        "parameter 'factor' must be a finite number, got nan");
  CHECK(find(problems(scale + "params: {factor: true}}\n"), "factor").message ==
        "parameter 'factor' expects a number, got 'true'");
  CHECK(problems(scale + "params: {factor: 1e-4}}\n").empty());
  CHECK(problems(scale + "params: {factor: 3}}\n").empty());  // an integer is a fine real
  const std::string describe = "stages:\n  s: {type: random_source}\n  d: {type: describe_values, inputs: {x: s.values}, ";
  CHECK(find(problems(describe + "params: {verbose: maybe}}\n"), "verbose").message ==
        "parameter 'verbose' expects true or false, got 'maybe'");
  CHECK(find(problems(describe + "params: {levels: [0.1, x]}}\n"), "levels").message ==
        "parameter 'levels' expects a list of numbers, got a list");
}

TEST_CASE("overrides (--set) are validated like the file and name the override", "[validation]") {
  const std::string yaml = "stages:\n  s: {type: random_source}\n  t: {type: scale, inputs: {x: s.values}}\n";
  const auto all = problems(yaml, {"t.factor=abc", "nope.count=1", "s.cnt=3", "s.count", "seed=-1"});
  REQUIRE(all.size() == 5);
  CHECK(find(all, "t.factor").str() == "--set t.factor=abc: stage 't': parameter 'factor' expects a number, got 'abc'");
  CHECK(find(all, "nope").str() == "--set nope.count=1: no stage 'nope' in the pipeline");
  CHECK(find(all, "cnt").str() ==
        "--set s.cnt=3: stage 's': unknown parameter 'cnt' for type 'random_source' (did you mean 'count'?); "
        "`fepflow describe random_source` lists its parameters");
  CHECK(find(all, "s.count:").message == "expected stage.param=value (or seed=N, output=PATH)");
  CHECK(find(all, "non-negative").message == "'seed' must be a non-negative integer, got '-1'");

  fepflow::test::load_engine_test_stages();
  const auto p = parse_pipeline(yaml, "p.yaml", {"t.factor=5", "seed=11", "output=elsewhere.h5"});
  CHECK(std::get<double>(p.find("t")->params.at("factor")) == 5.0);
  CHECK(p.find("t")->param_origin.at("factor") == "--set");
  CHECK(p.seed == 11);
  CHECK(p.output == "elsewhere.h5");
}

TEST_CASE("plugins named in a pipeline that cannot load are errors at their line", "[validation]") {
  const auto all = problems("plugins: [no/such/plugin.so]\nstages:\n  s: {type: random_source}\n");
  REQUIRE(all.size() == 1);
  CHECK(all[0].str() == "p.yaml:1:11: plugin 'no/such/plugin.so' does not exist");
}

TEST_CASE("expected values are read and checked for form", "[validation]") {
  fepflow::test::load_engine_test_stages();
  const std::string stages = "stages:\n  src: {type: random_source}\n";
  const auto p = parse_pipeline(stages + "expect:\n  src.sum: {near: 4, tol: 0.5}\n  src.total: {between: [1, 2]}\n",
                                "p.yaml");
  REQUIRE(p.expectations.size() == 2);
  CHECK(p.expectations[0].stage == "src");
  CHECK(p.expectations[0].metric == "sum");
  CHECK(p.expectations[0].low == 3.5);
  CHECK(p.expectations[0].high == 4.5);
  CHECK(p.expectations[1].text == "[1.0, 2.0]");

  const auto all = problems(stages + "expect:\n  srcs.sum: {near: 1, tol: 1}\n  src.sum: {near: 1}\n  sum: {near: 1, tol: 1}\n");
  REQUIRE(all.size() == 3);
  CHECK(all[0].str() == "p.yaml:4:3: expectation 'srcs.sum' names stage 'srcs', which is not in the pipeline (did you "
                        "mean 'src'?)");
  CHECK(all[1].str() == "p.yaml:5:12: expectation 'src.sum' must be {near: x, tol: t} with t >= 0, or {between: [lo, "
                        "hi]} with lo <= hi");
  CHECK(all[2].str() == "p.yaml:6:3: an expectation is named stage.metric, got 'sum'");
}

TEST_CASE("an any_numeric input accepts other number types; strings stay errors", "[validation]") {
  const std::string head = "stages:\n  src: {type: random_source}\n  meet: {type: rendezvous, params: {parties: 1}}\n";
  CHECK(problems(head + "  fig: {type: render, inputs: {images: meet.met}, params: {file: x.png}}\n").empty());
  CHECK(problems(head + "  fig: {type: render, inputs: {images: src.values}, params: {file: x.png}}\n").empty());
  CHECK(problems(head + "  t: {type: describe_values, inputs: {x: src.values}}\n"
                        "  fig: {type: render, inputs: {images: t.text}, params: {file: x.png}}\n")[0].message ==
        "input 'images' expects float32 (or another number type), but t.text is string");
}
