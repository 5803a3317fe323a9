// Training gives the same bits whatever vector width it was built for: the
// training core built for AVX2 and for AVX-512, each in a program of its own,
// against each other and against this build.
#include "isa/train_bits.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#if defined(FEPFLOW_TRAIN_BITS_AVX2) && defined(FEPFLOW_TRAIN_BITS_AVX512)

TEST_CASE("Training gives the same bits built for AVX2 and for AVX-512", "[train][isa]") {
  std::vector<std::pair<std::string, std::string>> descriptions;  // build, what it trained
#ifdef __OPTIMIZE__
  descriptions.emplace_back("this build", fepflow::test::describe_trainings());
#else
  // Unoptimised code rounds differently (GCC fuses multiply-adds only when
  // optimising); the two programs are always built with -O3.
  WARN("this build is not optimised: only the AVX2 and AVX-512 programs are compared");
#endif
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512cd");
  struct Build {
    const char* name;
    const char* program;
    bool runs_here;
  };
  for (const Build& build : {Build{"x86-64-v3 (AVX2)", FEPFLOW_TRAIN_BITS_AVX2, avx2},
                             Build{"x86-64-v4 (AVX-512)", FEPFLOW_TRAIN_BITS_AVX512, avx512}}) {
    if (!build.runs_here) {
      WARN(build.name << " program not run: this CPU cannot run it");
      continue;
    }
    const auto result = fepflow::test::run_shell(build.program);
    INFO(build.name);
    REQUIRE(result.exit_code == 0);
    descriptions.emplace_back(build.name, result.output);
  }
  if (descriptions.size() < 2) {
    WARN("nothing to compare: this CPU runs one build of the training core only");
    return;
  }
  for (std::size_t i = 1; i < descriptions.size(); ++i) {
    INFO(descriptions[0].first << " against " << descriptions[i].first);
    CHECK(descriptions[i].second == descriptions[0].second);
  }
}

#endif
