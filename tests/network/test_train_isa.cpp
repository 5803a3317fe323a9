// Training gives the same bits whatever vector width it was built for: the
// training core built for AVX2 and for AVX-512, each in a program of its own,
// against this build's.
#include "isa/train_bits.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#if defined(FEPFLOW_TRAIN_BITS_AVX2) && defined(FEPFLOW_TRAIN_BITS_AVX512)

TEST_CASE("Training gives the same bits built for AVX2 and for AVX-512", "[train][isa]") {
  const std::string native = fepflow::test::describe_trainings();
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
  int compared = 0;
  for (const Build& build : {Build{"x86-64-v3 (AVX2)", FEPFLOW_TRAIN_BITS_AVX2, avx2},
                             Build{"x86-64-v4 (AVX-512)", FEPFLOW_TRAIN_BITS_AVX512, avx512}}) {
    if (!build.runs_here) {
      WARN(build.name << " build not run: this CPU cannot run it");
      continue;
    }
    INFO(build.name);
    const auto result = fepflow::test::run_shell(build.program);
    REQUIRE(result.exit_code == 0);
    CHECK(result.output == native);
    ++compared;
  }
  CHECK(compared > 0);
}

#endif
