// Each distribution's draws against theory: N = 200,000 draws from a fixed seed; sample mean,
// sample variance and a few sample quantiles against the exact values, which the test writes
// down itself from the textbook formulas (and also compares with Distribution::mean(),
// variance() and quantile()).
//
// Tolerances are 5 standard errors of the estimator, from its asymptotic normal law:
//   mean:       SE = sigma / sqrt(N)
//   variance:   SE = sqrt((mu4 - sigma^4) / N), mu4 the central fourth moment
//   p-quantile: SE = sqrt(p (1 - p) / N) / f(x_p), f the density at the quantile
// A correct sampler then fails a check with probability about 6e-7 (two-sided normal tail at
// 5 SE; under 3e-5 for all checks here together; with fixed seeds, the outcome is fixed), while
// the tolerances stay a small fraction of the parameters (e.g. 0.7% of the mean for the
// exponential), so a wrong formula or a wrong parameter fails reliably. Moments of order four
// must exist for the variance check: heavy-tailed cases (pareto shape 1.5, the wide lognormal)
// are checked on quantiles only.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "sim/distribution.hpp"

using namespace sim;
using D = Distribution;

namespace {

constexpr std::size_t kN = 200'000;
constexpr double kZ = 5;  // standard errors allowed

// Standard normal quantiles (mpmath, 20 digits) and density, written out independently of
// standard_normal_quantile().
constexpr double kZ10 = -1.2815515655446004;  // p = 0.10
constexpr double kZ90 = 1.2815515655446004;   // p = 0.90
constexpr double kZ975 = 1.9599639845400542;  // p = 0.975
constexpr double kZ99 = 2.3263478740408408;   // p = 0.99
double phi(double z) {
  return std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi);
}
double normal_cdf(double z) {
  return 0.5 * std::erfc(-z / std::numbers::sqrt2);
}

struct Draws {
  std::vector<double> sorted;
  double mean = 0, variance = 0;

  // The empirical p-quantile: the smallest draw whose empirical CDF reaches p.
  double quantile(double p) const {
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(kN)));
    return sorted[std::max<std::size_t>(rank, 1) - 1];
  }
  double fraction_below(double x) const {
    const auto it = std::lower_bound(sorted.begin(), sorted.end(), x);
    return static_cast<double>(it - sorted.begin()) / static_cast<double>(kN);
  }
};

Draws draw(const D& d, std::uint64_t seed) {
  Rng rng = Rng::stream(seed, "distribution-moments");
  Draws s;
  s.sorted.reserve(kN);
  for (std::size_t i = 0; i < kN; ++i) s.sorted.push_back(d.sample(rng));
  for (const double x : s.sorted) s.mean += x;
  s.mean /= kN;
  for (const double x : s.sorted) s.variance += (x - s.mean) * (x - s.mean);
  s.variance /= kN - 1;
  std::sort(s.sorted.begin(), s.sorted.end());
  return s;
}

struct Moments {
  double mean, variance, mu4;  // mu4 = E[(X - mean)^4]
};

// Central moments from the raw moments E[X], E[X^2], E[X^3], E[X^4].
Moments from_raw(double m1, double m2, double m3, double m4) {
  return {m1, m2 - m1 * m1, m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1 * m1 * m1 * m1};
}

void check_moments(const D& d, const Draws& s, const Moments& m) {
  INFO(d.describe());
  CHECK(d.mean() == Approx(m.mean).epsilon(1e-12));
  CHECK(d.variance() == Approx(m.variance).epsilon(1e-12));
  const double mean_se = std::sqrt(m.variance / kN);
  INFO("sample mean " << s.mean << ", exact " << m.mean << ", SE " << mean_se);
  CHECK(std::abs(s.mean - m.mean) <= kZ * mean_se);
  const double variance_se = std::sqrt((m.mu4 - m.variance * m.variance) / kN);
  INFO("sample variance " << s.variance << ", exact " << m.variance << ", SE " << variance_se);
  CHECK(std::abs(s.variance - m.variance) <= kZ * variance_se);
}

void check_quantile(const D& d, const Draws& s, double p, double x_p, double density) {
  INFO(d.describe() << ", p = " << p);
  REQUIRE(d.quantile(p).has_value());
  CHECK(*d.quantile(p) == Approx(x_p).epsilon(1e-12));
  const double se = std::sqrt(p * (1 - p) / kN) / density;
  INFO("sample quantile " << s.quantile(p) << ", exact " << x_p << ", SE " << se);
  CHECK(std::abs(s.quantile(p) - x_p) <= kZ * se);
}

}  // namespace

TEST_CASE("constant: every draw is the value") {
  const D d = D::constant(2.5);
  const Draws s = draw(d, 1);
  CHECK(s.sorted.front() == 2.5);
  CHECK(s.sorted.back() == 2.5);
  CHECK(d.variance() == 0);
}

TEST_CASE("uniform(2, 5): moments and quantiles") {
  const D d = D::uniform(2, 5);
  const Draws s = draw(d, 2);
  // Width w = 3: variance w^2 / 12, mu4 = w^4 / 80; density 1 / w.
  check_moments(d, s, {3.5, 9.0 / 12, 81.0 / 80});
  for (const double p : {0.1, 0.5, 0.9}) check_quantile(d, s, p, 2 + 3 * p, 1.0 / 3);
  CHECK(s.sorted.front() >= 2);
  CHECK(s.sorted.back() < 5);
}

TEST_CASE("exponential(mean 4): moments and quantiles") {
  const D d = D::exponential(4);
  const Draws s = draw(d, 3);
  // Variance m^2, mu4 = 9 m^4; x_p = -m ln(1 - p), f(x_p) = (1 - p) / m.
  check_moments(d, s, {4, 16, 9 * 256});
  for (const double p : {0.1, 0.5, 0.9}) check_quantile(d, s, p, -4 * std::log(1 - p), (1 - p) / 4);
}

TEST_CASE("normal(10, 2): moments and quantiles") {
  const D d = D::normal(10, 2);
  const Draws s = draw(d, 4);
  // mu4 = 3 sigma^4; x_p = mean + sigma z_p, f(x_p) = phi(z_p) / sigma.
  check_moments(d, s, {10, 4, 3 * 16});
  check_quantile(d, s, 0.1, 10 + 2 * kZ10, phi(kZ10) / 2);
  check_quantile(d, s, 0.5, 10, phi(0) / 2);
  check_quantile(d, s, 0.975, 10 + 2 * kZ975, phi(kZ975) / 2);
}

TEST_CASE("lognormal(1, 0.5): moments and quantiles") {
  const double mu = 1, sigma = 0.5;
  const D d = D::lognormal(mu, sigma);
  const Draws s = draw(d, 5);
  // E[X^n] = exp(n mu + n^2 sigma^2 / 2); x_p = exp(mu + sigma z_p), f = phi(z_p) / (x_p sigma).
  auto raw = [&](double n) { return std::exp(n * mu + n * n * sigma * sigma / 2); };
  check_moments(d, s, from_raw(raw(1), raw(2), raw(3), raw(4)));
  const std::pair<double, double> p_and_z[] = {{0.1, kZ10}, {0.5, 0.0}, {0.9, kZ90}};
  for (const auto& [p, z] : p_and_z) {
    const double x = std::exp(mu + sigma * z);
    check_quantile(d, s, p, x, phi(z) / (x * sigma));
  }
}

TEST_CASE("lognormal from median 10 and p99 100 (heavy tail): quantiles") {
  const D d = D::lognormal_from_median_p99(10, 100);
  const Draws s = draw(d, 6);
  const double sigma = std::log(10.0) / kZ99;
  check_quantile(d, s, 0.5, 10, phi(0) / (10 * sigma));
  check_quantile(d, s, 0.9, 10 * std::exp(sigma * kZ90),
                 phi(kZ90) / (10 * std::exp(sigma * kZ90) * sigma));
  check_quantile(d, s, 0.99, 100, phi(kZ99) / (100 * sigma));
}

TEST_CASE("pareto(scale 1, shape 5): moments and quantiles") {
  // Shape 5 > 4, so the fourth moment (needed for the variance's SE) exists.
  const double a = 5;
  const D d = D::pareto(1, a);
  const Draws s = draw(d, 7);
  // E[X^n] = a / (a - n); x_p = (1 - p)^(-1/a); f(x) = a / x^(a + 1).
  auto raw = [&](double n) { return a / (a - n); };
  check_moments(d, s, from_raw(raw(1), raw(2), raw(3), raw(4)));
  for (const double p : {0.1, 0.5, 0.9}) {
    const double x = std::pow(1 - p, -1 / a);
    check_quantile(d, s, p, x, a / std::pow(x, a + 1));
  }
  CHECK(s.sorted.front() >= 1);
}

TEST_CASE("pareto(scale 2, shape 1.5) (infinite variance): quantiles") {
  const double xm = 2, a = 1.5;
  const D d = D::pareto(xm, a);
  const Draws s = draw(d, 8);
  CHECK(d.variance() == std::numeric_limits<double>::infinity());
  CHECK(d.mean() == Approx(6));
  for (const double p : {0.5, 0.9, 0.99}) {
    const double x = xm * std::pow(1 - p, -1 / a);
    check_quantile(d, s, p, x, a * std::pow(xm, a) / std::pow(x, a + 1));
  }
}

TEST_CASE("weibull(scale 3, shape 1.5): moments and quantiles") {
  const double lambda = 3, k = 1.5;
  const D d = D::weibull(lambda, k);
  const Draws s = draw(d, 9);
  // E[X^n] = lambda^n Gamma(1 + n / k); x_p = lambda (-ln(1 - p))^(1/k);
  // f(x) = (k / lambda) (x / lambda)^(k - 1) exp(-(x / lambda)^k).
  auto raw = [&](double n) { return std::pow(lambda, n) * std::tgamma(1 + n / k); };
  check_moments(d, s, from_raw(raw(1), raw(2), raw(3), raw(4)));
  for (const double p : {0.1, 0.5, 0.9}) {
    const double x = lambda * std::pow(-std::log(1 - p), 1 / k);
    const double f =
        (k / lambda) * std::pow(x / lambda, k - 1) * std::exp(-std::pow(x / lambda, k));
    check_quantile(d, s, p, x, f);
  }
}

TEST_CASE("mixture 0.3 normal(0, 1) + 0.7 normal(10, 2) (bimodal): moments and the split") {
  // Weights given unnormalized (3 : 7) on purpose.
  const D d = D::mixture({{3, D::normal(0, 1)}, {7, D::normal(10, 2)}});
  const Draws s = draw(d, 10);
  // Raw moments of a normal: mu, mu^2 + s^2, mu^3 + 3 mu s^2, mu^4 + 6 mu^2 s^2 + 3 s^4;
  // a mixture's raw moments are the weighted sums.
  auto raw = [](int n, double m, double sd) {
    const double v = sd * sd;
    const double moments[] = {m, m * m + v, m * m * m + 3 * m * v,
                              m * m * m * m + 6 * m * m * v + 3 * v * v};
    return moments[n - 1];
  };
  auto mixed = [&](int n) { return 0.3 * raw(n, 0, 1) + 0.7 * raw(n, 10, 2); };
  const Moments m = from_raw(mixed(1), mixed(2), mixed(3), mixed(4));
  CHECK(m.mean == Approx(7));
  CHECK(m.variance == Approx(24.1));  // 0.3 * 1 + 0.7 * 104 - 49
  check_moments(d, s, m);
  // The trough between the modes: P(X < 5) = 0.3 Phi(5) + 0.7 Phi(-2.5). A fraction's SE is
  // sqrt(q (1 - q) / N).
  const double q = 0.3 * normal_cdf(5) + 0.7 * normal_cdf(-2.5);
  INFO("fraction below 5: " << s.fraction_below(5) << ", exact " << q);
  CHECK(std::abs(s.fraction_below(5) - q) <= kZ * std::sqrt(q * (1 - q) / kN));
  CHECK_FALSE(d.quantile(0.5).has_value());
}

TEST_CASE("empirical values {1, 2, 2, 3, 10}: moments and quantiles") {
  const std::vector<double> values{1, 2, 2, 3, 10};
  const D d = D::empirical_values(values);
  const Draws s = draw(d, 11);
  auto raw = [&](int n) {
    double sum = 0;
    for (const double v : values) sum += std::pow(v, n);
    return sum / static_cast<double>(values.size());
  };
  check_moments(d, s, from_raw(raw(1), raw(2), raw(3), raw(4)));
  // The CDF jumps at 0.2, 0.6, 0.8, 1. The empirical CDF at each jump is off by at most a few
  // times sqrt(0.25 / N) = 0.0011, so p = 0.1, 0.5, 0.7, 0.9 (0.1 from any jump, ~90 SE) give
  // the exact value with certainty.
  CHECK(s.quantile(0.1) == 1);
  CHECK(s.quantile(0.5) == 2);
  CHECK(s.quantile(0.7) == 3);
  CHECK(s.quantile(0.9) == 10);
  CHECK(*d.quantile(0.5) == 2);
  CHECK(*d.quantile(0.9) == 10);
}

TEST_CASE("empirical cdf (atom at 0, then three linear pieces): moments and quantiles") {
  const std::vector<std::pair<double, double>> points{{0, 0.1}, {10, 0.5}, {20, 0.9}, {100, 1}};
  const D d = D::empirical_cdf(points);
  const Draws s = draw(d, 12);
  // Mass 0.1 at 0, then uniform pieces: 0.4 on [0, 10], 0.4 on [10, 20], 0.1 on [20, 100].
  // Mean 0.4 * 5 + 0.4 * 15 + 0.1 * 60 = 14; E[X^2] = 0.4 * 100/3 + 0.4 * 700/3 + 0.1 * 12400/3
  // = 520, variance 324. For mu4, a uniform piece on [a, b] gives
  // E[(X - m)^4] = ((b - m)^5 - (a - m)^5) / (5 (b - a)).
  const double mean = 14;
  double mu4 = 0.1 * std::pow(0 - mean, 4);
  for (std::size_t i = 1; i < points.size(); ++i) {
    const double a = points[i - 1].first - mean, b = points[i].first - mean;
    mu4 += (points[i].second - points[i - 1].second) * (std::pow(b, 5) - std::pow(a, 5)) /
           (5 * (b - a));
  }
  check_moments(d, s, {mean, 324, mu4});
  // Slopes of the CDF (densities): 0.04 on the first two pieces, 0.1 / 80 on the last.
  check_quantile(d, s, 0.3, 5, 0.04);
  check_quantile(d, s, 0.7, 15, 0.04);
  check_quantile(d, s, 0.95, 60, 0.1 / 80);
  // The atom: about 10% of draws are exactly 0 (SE sqrt(0.09 / N)), none below.
  CHECK(s.sorted.front() == 0);
  const double at_zero =
      static_cast<double>(std::count(s.sorted.begin(), s.sorted.end(), 0.0)) / kN;
  CHECK(std::abs(at_zero - 0.1) <= kZ * std::sqrt(0.1 * 0.9 / kN));
  CHECK(s.quantile(0.05) == 0);
}
