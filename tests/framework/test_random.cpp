// The counter-based random streams every stage draws from.
#include <catch2/catch.hpp>

#include <fepflow/random.hpp>

#include <cmath>
#include <set>
#include <vector>

using fepflow::RandomStream;

TEST_CASE("a stream is a pure function of seed, stage name, substream and index", "[random]") {
  const auto a = RandomStream::for_stage(42, "train");
  const auto b = RandomStream::for_stage(42, "train");
  CHECK(a.key() == b.key());
  CHECK(a.uniform_double(123) == b.uniform_double(123));
  CHECK(RandomStream::for_stage(43, "train").key() != a.key());
  CHECK(RandomStream::for_stage(42, "trains").key() != a.key());
  CHECK(a.substream(1).uniform_double(0) != a.substream(2).uniform_double(0));
  CHECK(a.substream(1).substream(2).stream() != a.substream(2).substream(1).stream());

  // Drawing a range from an offset gives the same numbers as drawing everything:
  // the split of work between threads cannot change them.
  std::vector<float> all(103), tail(50);
  a.fill_uniform(all.data(), all.size());
  a.fill_uniform(tail.data(), tail.size(), 53);
  for (std::size_t i = 0; i < tail.size(); ++i) CHECK(tail[i] == all[53 + i]);
}

TEST_CASE("uniform, integer and normal draws have the right range and moments", "[random]") {
  const auto s = RandomStream(7).substream(3);
  const std::size_t n = 200000;
  std::vector<float> u(n);
  s.fill_uniform(u.data(), n);
  double sum = 0, sum2 = 0;
  for (float x : u) {
    REQUIRE(x >= 0.0f);
    REQUIRE(x < 1.0f);
    sum += x;
  }
  CHECK(sum / n == Approx(0.5).margin(0.005));

  std::vector<int> counts(10, 0);
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto k = s.below(10, i);
    REQUIRE(k < 10);
    ++counts[k];
  }
  for (int c : counts) CHECK(c == Approx(n / 10.0).epsilon(0.03));

  std::vector<float> z(n);
  s.fill_normal(z.data(), n);
  sum = 0;
  for (float x : z) {
    REQUIRE(std::isfinite(x));
    sum += x;
    sum2 += double(x) * x;
  }
  CHECK(sum / n == Approx(0.0).margin(0.01));
  CHECK(sum2 / n == Approx(1.0).margin(0.01));
}
