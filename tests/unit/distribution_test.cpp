// Mechanics of sim::Distribution: pinned draws, how many uniforms each sampler consumes,
// parameter checks, descriptions, exact moments and quantiles. The statistical checks (that
// the draws follow the distribution) are in tests/validation/distribution_moments_test.cpp.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

#include "sim/distribution.hpp"

using namespace sim;
using D = Distribution;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::array<double, 3> first_three(const D& d, std::uint64_t seed = 42) {
  Rng rng(seed);
  return {d.sample(rng), d.sample(rng), d.sample(rng)};
}

// Box-Muller as documented, from two raw uniforms.
double box_muller(double u1_open_low, double u2) {
  return std::sqrt(-2.0 * std::log(u1_open_low)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::string error_of(auto&& make) {
  try {
    make();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

// Pinned once from the implementation (glibc libm, x86-64). Exact equality on purpose: the
// point of these is that a seed gives the same draws everywhere, so a change in the math, in
// the order of uniforms consumed, or in libm shows up here. The test cases below recompute the
// main ones from Rng(42)'s raw uniforms, so the pins are not merely copied output.
TEST_CASE("first three draws of each distribution from Rng(42) are pinned") {
  using A = std::array<double, 3>;
  CHECK(first_three(D::constant(3.5)) == A{3.5, 3.5, 3.5});
  CHECK(first_three(D::uniform(2, 5)) ==
        A{2.2515889131796465, 3.1369407519880057, 4.040130233084418});
  CHECK(first_three(D::exponential(4)) ==
        A{9.9142844362343538, 3.8810847373076443, 1.5423945724095627});
  CHECK(first_three(D::normal(10, 2)) ==
        A{6.7735524972301686, 11.563384090114697, 10.031742586751969});
  CHECK(first_three(D::lognormal(1, 0.5)) ==
        A{1.213353634179926, 4.0182481438162956, 2.7399389707088342});
  CHECK(first_three(D::lognormal_from_median_p99(10, 100)) ==
        A{2.0255470741210755, 21.677881253174469, 10.158332117311872});
  CHECK(first_three(D::pareto(2, 3)) ==
        A{4.5691973287024688, 2.7637015117565351, 2.2743176232683844});
  CHECK(first_three(D::weibull(3, 1.5)) ==
        A{5.4944240796201083, 2.9402438064525458, 1.5893208689640046});
  CHECK(first_three(D::mixture({{1, D::uniform(0, 1)}, {3, D::normal(100, 1)}})) ==
        A{0.37898025066266861, 100.39518627748086, 100.47721681843558});
  CHECK(first_three(D::empirical_values({1, 2, 3, 5, 8})) == A{1, 2, 5});
  CHECK(first_three(D::empirical_cdf({{0, 0.1}, {10, 0.5}, {20, 1}})) ==
        A{0, 6.9745062665667152, 13.600868220562788});
}

TEST_CASE("draws follow the documented formulas on the raw uniforms") {
  // Rng(42)'s first uniform01 values (pinned and cross-checked in rng_test.cpp). The
  // open-low variant of the same 64-bit output is exactly 2^-53 larger.
  Rng raw(42);
  std::array<double, 6> u{};
  for (auto& x : u) x = raw.uniform01();
  std::array<double, 6> v{};  // the uniform01_open_low() of the same outputs
  for (std::size_t i = 0; i < u.size(); ++i) v[i] = u[i] + 0x1.0p-53;

  SECTION("uniform: one uniform01 each, low + (high - low) u") {
    CHECK(first_three(D::uniform(2, 5)) == std::array{2 + 3 * u[0], 2 + 3 * u[1], 2 + 3 * u[2]});
  }
  SECTION("exponential: one uniform01_open_low each, -mean log v") {
    CHECK(first_three(D::exponential(4)) ==
          std::array{-4 * std::log(v[0]), -4 * std::log(v[1]), -4 * std::log(v[2])});
    CHECK(first_three(D::exponential(4))[0] == Approx(9.91428443623435).epsilon(1e-14));
  }
  SECTION("normal: two uniforms each, Box-Muller cosine branch") {
    const auto draws = first_three(D::normal(10, 2));
    CHECK(draws[0] == 10 + 2 * box_muller(v[0], u[1]));
    CHECK(draws[1] == 10 + 2 * box_muller(v[2], u[3]));
    CHECK(draws[2] == 10 + 2 * box_muller(v[4], u[5]));
  }
  SECTION("lognormal: exp of the normal draw") {
    CHECK(first_three(D::lognormal(1, 0.5))[1] == std::exp(1 + 0.5 * box_muller(v[2], u[3])));
  }
  SECTION("pareto and weibull: inversion of one uniform01_open_low") {
    CHECK(first_three(D::pareto(2, 3))[0] == 2 * std::pow(v[0], -1.0 / 3));
    CHECK(first_three(D::weibull(3, 1.5))[0] == 3 * std::pow(-std::log(v[0]), 1 / 1.5));
  }
  SECTION("mixture: one uniform01 picks the part, then the part's own draws") {
    // u[0] < 0.25 picks the uniform (which takes u[1]); u[2] >= 0.25 picks the normal.
    const auto draws = first_three(D::mixture({{1, D::uniform(0, 1)}, {3, D::normal(100, 1)}}));
    REQUIRE(u[0] < 0.25);
    CHECK(draws[0] == u[1]);
    REQUIRE(u[2] >= 0.25);
    CHECK(draws[1] == 100 + box_muller(v[3], u[4]));
  }
  SECTION("empirical values: one below(n) each") {
    Rng rng(42);
    const std::vector<double> values{1, 2, 3, 5, 8};
    const std::array expected{values[rng.below(5)], values[rng.below(5)], values[rng.below(5)]};
    CHECK(first_three(D::empirical_values(values)) == expected);
  }
  SECTION("empirical cdf: one uniform01 each, through the piecewise-linear inverse") {
    // u[0] < 0.1 lands on the atom at 0; u[1] in (0.1, 0.5] is on the first segment.
    const auto draws = first_three(D::empirical_cdf({{0, 0.1}, {10, 0.5}, {20, 1}}));
    REQUIRE(u[0] <= 0.1);
    CHECK(draws[0] == 0);
    REQUIRE((u[1] > 0.1 && u[1] <= 0.5));
    CHECK(draws[1] == Approx(10 * (u[1] - 0.1) / 0.4).epsilon(1e-15));
    REQUIRE(u[2] > 0.5);
    CHECK(draws[2] == Approx(10 + 10 * (u[2] - 0.5) / 0.5).epsilon(1e-15));
  }
  SECTION("constant draws nothing") {
    Rng a(42), b(42);
    D::constant(1).sample(a);
    CHECK(a.next_u64() == b.next_u64());
  }
}

TEST_CASE("bad parameters are rejected with the reason") {
  using Catch::Contains;
  CHECK_THAT(error_of([] { D::constant(kInf); }), Contains("value must be finite"));
  CHECK_THAT(error_of([] { D::uniform(3, 2); }), Contains("low must be <= high"));
  CHECK_THAT(error_of([] { D::uniform(0, kInf); }), Contains("must be finite"));
  CHECK_THAT(error_of([] { D::exponential(0); }), Contains("exponential: mean must be > 0"));
  CHECK_THAT(error_of([] { D::exponential(-1); }), Contains("mean must be > 0"));
  CHECK_THAT(error_of([] { D::exponential(std::nan("")); }), Contains("mean must be > 0"));
  CHECK_THAT(error_of([] { D::normal(0, -1); }), Contains("normal: stddev must be >= 0"));
  CHECK_THAT(error_of([] { D::normal(kInf, 1); }), Contains("mean must be finite"));
  CHECK_THAT(error_of([] { D::lognormal(0, -0.1); }), Contains("sigma must be >= 0"));
  CHECK_THAT(error_of([] { D::lognormal_from_median_p99(0, 1); }), Contains("median must be > 0"));
  CHECK_THAT(error_of([] { D::lognormal_from_median_p99(5, 5); }),
             Contains("p99 must be > median"));
  CHECK_THAT(error_of([] { D::pareto(0, 1); }), Contains("pareto: scale must be > 0"));
  CHECK_THAT(error_of([] { D::pareto(1, 0); }), Contains("pareto: shape must be > 0"));
  CHECK_THAT(error_of([] { D::weibull(-1, 1); }), Contains("weibull: scale must be > 0"));
  CHECK_THAT(error_of([] { D::weibull(1, -2); }), Contains("weibull: shape must be > 0"));
  CHECK_THAT(error_of([] { D::mixture({}); }), Contains("at least one part"));
  CHECK_THAT(error_of([] {
               D::mixture({{-1, D::constant(0)}, {2, D::constant(1)}});
             }),
             Contains("weights must be >= 0"));
  CHECK_THAT(error_of([] { D::mixture({{0, D::constant(0)}}); }), Contains("sum to > 0"));
  CHECK_THAT(error_of([] { D::empirical_values({}); }), Contains("at least one value"));
  CHECK_THAT(error_of([] { D::empirical_values({1, kInf}); }), Contains("values must be finite"));
  CHECK_THAT(error_of([] { D::empirical_cdf({}); }), Contains("at least one point"));
  CHECK_THAT(error_of([] {
               D::empirical_cdf({{1, 0.5}, {1, 1}});
             }),
             Contains("values must be strictly increasing"));
  CHECK_THAT(error_of([] {
               D::empirical_cdf({{1, 0.5}, {2, 0.4}, {3, 1}});
             }),
             Contains("probabilities must be non-decreasing"));
  CHECK_THAT(error_of([] {
               D::empirical_cdf({{1, -0.1}, {2, 1}});
             }),
             Contains("probabilities must be in [0, 1]"));
  CHECK_THAT(error_of([] {
               D::empirical_cdf({{1, 0.5}, {2, 0.9}});
             }),
             Contains("last probability must be exactly 1"));
  CHECK_THAT(error_of([] { (void)D::exponential(1).quantile(1.5); }), Contains("p must be in"));
  CHECK_THAT(error_of([] { D::uniform(2, 2); }), Catch::Equals("no error"));
}

TEST_CASE("describe() names the distribution and its parameters") {
  CHECK(D().describe() == "constant(value=0)");
  CHECK(D::constant(3.5).describe() == "constant(value=3.5)");
  CHECK(D::uniform(1, 2).describe() == "uniform(low=1, high=2)");
  CHECK(D::exponential(5e6).describe() == "exponential(mean=5e+06)");
  CHECK(D::normal(10, 0.5).describe() == "normal(mean=10, stddev=0.5)");
  CHECK(D::lognormal(1, 0.25).describe() == "lognormal(mu=1, sigma=0.25)");
  CHECK(D::lognormal_from_median_p99(std::exp(2.0), std::exp(2.0 + standard_normal_quantile(0.99)))
            .describe() == "lognormal(mu=2, sigma=1)");
  CHECK(D::pareto(2, 3).describe() == "pareto(scale=2, shape=3)");
  CHECK(D::weibull(3, 1.5).describe() == "weibull(scale=3, shape=1.5)");
  CHECK(D::mixture({{1, D::constant(0)}, {3, D::exponential(2)}}).describe() ==
        "mixture(0.25*constant(value=0), 0.75*exponential(mean=2))");
  CHECK(D::empirical_values({3, 1, 8}).describe() == "empirical_values(n=3, min=1, max=8)");
  CHECK(D::empirical_cdf({{0, 0.1}, {10, 0.5}, {20, 1}}).describe() ==
        "empirical_cdf(points=3, min=0, max=20)");
}

TEST_CASE("sample_duration rounds to whole nanoseconds and clamps negatives to zero") {
  Rng rng(1);
  CHECK(D::constant(1.4).sample_duration(rng) == 1_ns);
  CHECK(D::constant(1.5).sample_duration(rng) == 2_ns);
  CHECK(D::constant(2.6).sample_duration(rng) == 3_ns);
  CHECK(D::constant(250e6).sample_duration(rng) == 250_ms);
  CHECK(D::constant(-5).sample_duration(rng) == 0_ns);
  CHECK(D::normal(-1000, 0).sample_duration(rng) == 0_ns);
  // Half of these draws are negative: all come out >= 0, and the negative ones exactly 0.
  const D centered = D::normal(0, 1e6);
  int zeros = 0;
  for (int i = 0; i < 1000; ++i) {
    const Duration d = centered.sample_duration(rng);
    REQUIRE(d >= 0_ns);
    zeros += d == 0_ns;
  }
  CHECK(zeros > 400);
  CHECK(zeros < 600);
}

TEST_CASE("sample_duration clamps draws to 100 years, so that no Time overflows") {
  Rng rng(1);
  CHECK(D::constant(1e30).sample_duration(rng) == kMaxDuration);
  // Shape 0.01: scale x u^-100 overflows to infinity once u < about 1e-3.
  const D heavy = D::pareto(1e6, 0.01);
  int clamped = 0;
  for (int i = 0; i < 1000; ++i) {
    const Duration d = heavy.sample_duration(rng);
    REQUIRE(d >= 1_ms);
    REQUIRE(d <= kMaxDuration);
    clamped += d == kMaxDuration;
  }
  // 1ms x u^-100 exceeds 100 years (3.15e18 ns) when u < (1e6 / 3.15e18)^0.01 = 0.750:
  // 750 of 1000 expected, standard deviation sqrt(1000 x 0.75 x 0.25) = 13.7; 4 of them: 55.
  CHECK(clamped > 695);
  CHECK(clamped < 805);
}

TEST_CASE("exact moments, including infinite ones") {
  CHECK(D::uniform(2, 5).mean() == 3.5);
  CHECK(D::uniform(2, 5).variance() == 0.75);
  CHECK(D::exponential(4).variance() == 16);
  CHECK(D::lognormal(1, 0.5).mean() == Approx(std::exp(1.125)));
  CHECK(D::pareto(2, 3).mean() == 3);
  CHECK(D::pareto(2, 3).variance() == 3);  // 4 * 3 / (4 * 1)
  CHECK(D::pareto(1, 1).mean() == kInf);
  CHECK(D::pareto(1, 2).variance() == kInf);
  CHECK(D::weibull(2, 1).mean() == Approx(2));  // shape 1 is exponential
  CHECK(D::weibull(2, 1).variance() == Approx(4));
  const D mix = D::mixture({{1, D::normal(0, 1)}, {1, D::normal(10, 1)}});
  CHECK(mix.mean() == 5);
  CHECK(mix.variance() == 26);  // 1 + 25
  CHECK(D::mixture({{1, D::pareto(1, 0.5)}, {1, D::constant(0)}}).variance() == kInf);
  CHECK(D::mixture({{0, D::pareto(1, 0.5)}, {1, D::constant(7)}}).mean() == 7);
  CHECK(D::empirical_values({1, 2, 3, 6}).mean() == 3);
  CHECK(D::empirical_values({1, 2, 3, 6}).variance() == 3.5);
  // Atom 0.5 at 0, then uniform on [0, 2] with mass 0.5: mean 0.5, E[X^2] = 0.5 * 4/3.
  const D cdf = D::empirical_cdf({{0, 0.5}, {2, 1}});
  CHECK(cdf.mean() == Approx(0.5));
  CHECK(cdf.variance() == Approx(2.0 / 3 - 0.25));
}

TEST_CASE("quantiles from the closed forms and the tables") {
  CHECK(*D::exponential(4).quantile(0.5) == Approx(4 * std::log(2.0)));
  CHECK(*D::uniform(2, 5).quantile(0.25) == 2.75);
  CHECK(*D::normal(10, 2).quantile(0.975) == Approx(10 + 2 * 1.959963984540054));
  CHECK(*D::normal(3, 0).quantile(0.9) == 3);
  CHECK(*D::pareto(2, 3).quantile(0.875) == Approx(4));  // (1/8)^(-1/3) = 2
  CHECK(*D::weibull(3, 2).quantile(1 - std::exp(-1.0)) == Approx(3));
  const D lat = D::lognormal_from_median_p99(5e6, 80e6);
  CHECK(*lat.quantile(0.5) == Approx(5e6).epsilon(1e-12));
  CHECK(*lat.quantile(0.99) == Approx(80e6).epsilon(1e-12));
  CHECK_FALSE(D::mixture({{1, D::constant(0)}}).quantile(0.5).has_value());
  const D values = D::empirical_values({5, 1, 4, 2, 3});
  CHECK(*values.quantile(0) == 1);
  CHECK(*values.quantile(0.2) == 1);
  CHECK(*values.quantile(0.21) == 2);
  CHECK(*values.quantile(0.5) == 3);
  CHECK(*values.quantile(1) == 5);
  const D cdf = D::empirical_cdf({{0, 0.1}, {10, 0.5}, {20, 1}});
  CHECK(*cdf.quantile(0.05) == 0);
  CHECK(*cdf.quantile(0.3) == Approx(5));
  CHECK(*cdf.quantile(0.75) == Approx(15));
  CHECK(*cdf.quantile(1) == 20);
  // A flat stretch of the CDF: the quantile is where it is first reached.
  CHECK(*D::empirical_cdf({{0, 0}, {1, 0.5}, {2, 0.5}, {3, 1}}).quantile(0.5) == 1);
}

TEST_CASE("standard_normal_quantile matches high-precision values") {
  // References computed with mpmath (50 digits) for the same double p.
  CHECK(standard_normal_quantile(0.5) == 0);
  CHECK(standard_normal_quantile(0.975) == Approx(1.9599639845400542355).epsilon(1e-13));
  CHECK(standard_normal_quantile(0.99) == Approx(2.3263478740408407676).epsilon(1e-13));
  CHECK(standard_normal_quantile(0.3) == Approx(-0.52440051270804078404).epsilon(1e-13));
  CHECK(standard_normal_quantile(0.02425) == Approx(-1.9729610513118848503).epsilon(1e-13));
  CHECK(standard_normal_quantile(0.001) == Approx(-3.0902323061678135415).epsilon(1e-13));
  CHECK(standard_normal_quantile(1e-10) == Approx(-6.3613409024040562047).epsilon(1e-13));
  CHECK(standard_normal_quantile(1e-300) == Approx(-37.047096299361199237).epsilon(1e-13));
  CHECK(standard_normal_quantile(0) == -kInf);
  CHECK(standard_normal_quantile(1) == kInf);
  for (double p = 0.001; p < 0.5; p += 0.001) {
    // Exactly antisymmetric, and Phi(x) recovers p to near machine precision.
    CHECK(standard_normal_quantile(1 - p) == -standard_normal_quantile(1 - (1 - p)));
    const double x = standard_normal_quantile(p);
    CHECK(0.5 * std::erfc(-x / std::numbers::sqrt2) == Approx(p).epsilon(1e-13));
  }
}
