// The registry refuses stage declarations that could not be stored or written in YAML.
#include <catch2/catch.hpp>

#include <fepflow/registry.hpp>

namespace {

class SlashedPort : public fepflow::Stage {
  fepflow::Output<float> out{this, "a/b", 1, "a name HDF5 would read as a path"};
  void run(fepflow::Context&) override {}
};

class TwiceNamed : public fepflow::Stage {
  fepflow::Param<double> x{this, "x", 1.0, "first"};
  fepflow::Param<double> y{this, "x", 2.0, "second, same name"};
  void run(fepflow::Context&) override {}
};

}  // namespace

TEST_CASE("stage declarations with unusable names are refused at registration", "[registry]") {
  fepflow::Registry registry;
  CHECK_THROWS_WITH(registry.add<SlashedPort>("slashed", 1, "bad"),
                    "stage type 'slashed' (built-in) declares output 'a/b': names are letters, digits and '_', "
                    "not starting with a digit");
  CHECK_THROWS_WITH(registry.add<TwiceNamed>("twice", 1, "bad"),
                    "stage type 'twice' (built-in) declares parameter 'x' twice");
  CHECK_THROWS_WITH(registry.add<TwiceNamed>("has space", 1, "bad"),
                    "stage type 'has space' (built-in): type names are letters, digits and '_'");
  CHECK(registry.all().empty());
  CHECK(fepflow::Registry::global().find("olivetti") != nullptr);  // built-ins all passed the same checks
}
