// The latency histogram's quantiles: exact below 2^bits ns, within 2^-bits relative error
// above, and placed inside a bucket by rank so that different samples give different answers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/latency_histogram.hpp"
#include "sim/rng.hpp"

using sim::LatencyHistogram;

namespace {

// The nearest-rank quantile of the samples themselves.
std::int64_t exact_quantile(std::vector<std::int64_t> v, double p) {
  std::sort(v.begin(), v.end());
  const auto rank = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(p * v.size())));
  return v[rank - 1];
}

}  // namespace

TEST_CASE("values below 2^bits ns are exact") {
  LatencyHistogram h(10);
  for (std::int64_t v = 1; v <= 1000; ++v) h.record_ns(v);
  CHECK(h.quantile_ns(0.5) == 500);
  CHECK(h.quantile_ns(0.99) == 990);
  CHECK(h.quantile_ns(1.0) == 1000);
  CHECK(h.min_ns() == 1);
  CHECK(h.max_ns() == 1000);
}

TEST_CASE("quantiles of large values are within 2^-bits of the exact order statistic") {
  sim::Rng rng(7);
  LatencyHistogram h(10);
  std::vector<std::int64_t> samples;
  for (int i = 0; i < 20'000; ++i) {
    // Log-uniform over 1 us .. 10 s: every bucket width from 1 ns to 8 us is exercised.
    const auto v =
        static_cast<std::int64_t>(std::exp(std::log(1e3) + rng.uniform01() * std::log(1e7)));
    samples.push_back(v);
    h.record_ns(v);
  }
  for (const double p : {0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999}) {
    const double exact = static_cast<double>(exact_quantile(samples, p));
    const double got = static_cast<double>(h.quantile_ns(p));
    CHECK(std::abs(got - exact) / exact < std::ldexp(1.0, -10));  // below one bucket's width
  }
}

TEST_CASE("two sample sets whose p99s share a bucket give different p99s") {
  // At 10 bits the bucket holding 1'000'000 ns is [999'936, 1'000'448). In both sets the p99
  // (rank 100 of 101) is in it: a's is the 2nd of 2 samples there (exactly 1'000'100), b's the
  // 3rd of 3 (exactly 1'000'200). A bucket's midpoint would give both 1'000'191; placing the
  // rank inside the bucket gives 999'936 + 512 x (2k - 1) / 2c: 1'000'320 and 1'000'362.
  LatencyHistogram a(10), b(10);
  for (int i = 0; i < 98; ++i) a.record_ns(1'000);
  for (int i = 0; i < 97; ++i) b.record_ns(1'000);
  for (const std::int64_t v : {1'000'000, 1'000'100}) a.record_ns(v);
  for (const std::int64_t v : {1'000'000, 1'000'100, 1'000'200}) b.record_ns(v);
  a.record_ns(5'000'000);
  b.record_ns(5'000'000);
  CHECK(a.quantile_ns(0.99) == 1'000'320);
  CHECK(b.quantile_ns(0.99) == 1'000'362);
}

TEST_CASE("merging two histograms gives the histogram of all the samples") {
  LatencyHistogram a(10), b(10), all(10);
  for (std::int64_t v = 0; v < 5000; v += 7) a.record_ns(v * 331), all.record_ns(v * 331);
  for (std::int64_t v = 0; v < 5000; v += 3) b.record_ns(v * 997), all.record_ns(v * 997);
  a.merge(b);
  for (const double p : {0.1, 0.5, 0.99}) CHECK(a.quantile_ns(p) == all.quantile_ns(p));
  CHECK(a.count() == all.count());
  CHECK(a.mean_ns() == all.mean_ns());
}

TEST_CASE("a cleared histogram is empty and then answers as a new one would") {
  sim::Rng rng(11);
  LatencyHistogram reused(7);
  for (int i = 0; i < 1'000; ++i)
    reused.record_ns(static_cast<std::int64_t>(rng.uniform01() * 1e9));  // up to 1 s
  reused.clear();
  CHECK(reused.empty());
  CHECK(reused.quantile_ns(0.5) == 0);
  LatencyHistogram fresh(7);
  for (int i = 0; i < 1'000; ++i) {
    // Microseconds: any count left from before (up to a second) would move the quantiles.
    const auto v = static_cast<std::int64_t>(1e3 + rng.uniform01() * 1e6);
    reused.record_ns(v);
    fresh.record_ns(v);
  }
  for (const double p : {0.0, 0.5, 0.99, 1.0}) CHECK(reused.quantile_ns(p) == fresh.quantile_ns(p));
  CHECK(reused.mean_ns() == fresh.mean_ns());
  CHECK(reused.buckets(7).size() == fresh.buckets(7).size());
}
