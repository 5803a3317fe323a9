// Parameter values: canonical text (hashed for caching) and constraints.
#include <catch2/catch.hpp>

#include <fepflow/stage.hpp>

using fepflow::format_param_value;
using fepflow::ParamValue;

TEST_CASE("parameter text is canonical and reads back to the same value", "[params]") {
  CHECK(format_param_value(ParamValue(1e-4)) == "0.0001");
  CHECK(format_param_value(ParamValue(0.7)) == "0.7");
  CHECK(format_param_value(ParamValue(2.0)) == "2.0");
  CHECK(format_param_value(ParamValue(1.0 / 3.0)) == "0.3333333333333333");
  CHECK(std::stod(format_param_value(ParamValue(1.0 / 3.0))) == 1.0 / 3.0);
  CHECK(format_param_value(ParamValue(std::int64_t{10000})) == "10000");
  CHECK(format_param_value(ParamValue(true)) == "true");
  CHECK(format_param_value(ParamValue(std::vector<double>{0.4, 2.0})) == "[0.4, 2.0]");
  CHECK(format_param_value(ParamValue(std::vector<std::string>{"a", "b"})) == "[a, b]");
}

TEST_CASE("constraints describe themselves and explain rejections", "[params]") {
  CHECK(fepflow::positive().describe() == "> 0");
  CHECK(fepflow::between(0, 100).describe() == "[0, 100]");
  CHECK(fepflow::one_of({"stride", "mean"}).describe() == "one of: stride, mean");
  CHECK(fepflow::positive().check(ParamValue(-1.0)) == "must be > 0, got -1");
  CHECK(fepflow::positive().check(ParamValue(0.0)) == "must be > 0, got 0");
  CHECK(fepflow::positive().check(ParamValue(1e-9)).empty());
  CHECK(fepflow::between(0, 100).check(ParamValue(100.5)) == "must be in [0, 100], got 100.5");
  CHECK(fepflow::any().check(ParamValue(std::nan(""))) == "must be a finite number, got nan");
  CHECK(fepflow::one_of({"a"}).check(ParamValue(std::string("b"))) == "must be one of: a, got 'b'");
  CHECK((fepflow::positive() & fepflow::non_empty()).check(ParamValue(std::vector<double>{})) ==
        "must not be an empty list");
  CHECK(fepflow::positive().check(ParamValue(std::vector<double>{1, 0})) == "element 1 must be > 0, got 0");
}
