#include "sim/distribution.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <stdexcept>

namespace sim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
// C++20 deduces this for an aggregate; clang before 17 (the fuzz build's clang 14) needs it said.
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

void require(bool ok, const char* reason) {
  if (!ok) throw std::invalid_argument(reason);
}

// A standard normal draw: Box-Muller, cosine branch, two uniforms (the first safe to log).
double standard_normal(Rng& rng) {
  const double u1 = rng.uniform01_open_low();
  const double u2 = rng.uniform01();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

// x such that the piecewise-linear CDF through `points` first reaches p (p in [0, 1]).
double cdf_inverse(const std::vector<std::pair<double, double>>& points, double p) {
  if (p <= points.front().second) return points.front().first;
  const auto hi = std::lower_bound(points.begin(), points.end(), p,
                                   [](const auto& point, double q) { return point.second < q; });
  if (hi == points.end()) return points.back().first;  // unreachable: last probability is 1
  const auto lo = hi - 1;  // lo->second < p <= hi->second, so the segment has positive mass
  const double fraction = (p - lo->second) / (hi->second - lo->second);
  return lo->first + fraction * (hi->first - lo->first);
}

std::string number(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", x);
  return buffer;
}

}  // namespace

Distribution Distribution::constant(double value) {
  require(std::isfinite(value), "constant: value must be finite");
  return Distribution(Constant{value});
}

Distribution Distribution::uniform(double low, double high) {
  require(std::isfinite(low) && std::isfinite(high), "uniform: low and high must be finite");
  require(low <= high, "uniform: low must be <= high");
  return Distribution(Uniform{low, high});
}

Distribution Distribution::exponential(double mean) {
  require(mean > 0, "exponential: mean must be > 0");
  require(std::isfinite(mean), "exponential: mean must be finite");
  return Distribution(Exponential{mean});
}

Distribution Distribution::normal(double mean, double stddev) {
  require(std::isfinite(mean), "normal: mean must be finite");
  require(stddev >= 0, "normal: stddev must be >= 0");
  require(std::isfinite(stddev), "normal: stddev must be finite");
  return Distribution(Normal{mean, stddev});
}

Distribution Distribution::lognormal(double mu, double sigma) {
  require(std::isfinite(mu), "lognormal: mu must be finite");
  require(sigma >= 0, "lognormal: sigma must be >= 0");
  require(std::isfinite(sigma), "lognormal: sigma must be finite");
  return Distribution(LogNormal{mu, sigma});
}

Distribution Distribution::lognormal_from_median_p99(double median, double p99) {
  require(median > 0, "lognormal: median must be > 0");
  require(std::isfinite(p99), "lognormal: p99 must be finite");
  require(p99 > median, "lognormal: p99 must be > median");
  const double mu = std::log(median);
  return lognormal(mu, (std::log(p99) - mu) / standard_normal_quantile(0.99));
}

Distribution Distribution::pareto(double scale, double shape) {
  require(scale > 0, "pareto: scale must be > 0");
  require(shape > 0, "pareto: shape must be > 0");
  require(std::isfinite(scale) && std::isfinite(shape), "pareto: scale and shape must be finite");
  return Distribution(Pareto{scale, shape});
}

Distribution Distribution::weibull(double scale, double shape) {
  require(scale > 0, "weibull: scale must be > 0");
  require(shape > 0, "weibull: shape must be > 0");
  require(std::isfinite(scale) && std::isfinite(shape), "weibull: scale and shape must be finite");
  return Distribution(Weibull{scale, shape});
}

Distribution Distribution::mixture(std::vector<std::pair<double, Distribution>> weighted_parts) {
  require(!weighted_parts.empty(), "mixture: needs at least one part");
  double total = 0;
  for (const auto& [weight, part] : weighted_parts) {
    require(weight >= 0, "mixture: weights must be >= 0");
    require(std::isfinite(weight), "mixture: weights must be finite");
    total += weight;
  }
  require(total > 0, "mixture: weights must sum to > 0");
  require(std::isfinite(total), "mixture: weights must have a finite sum");
  Mixture m;
  double running = 0;
  for (auto& [weight, part] : weighted_parts) {
    running += weight;
    m.cumulative_weights.push_back(running / total);
    m.parts.push_back(std::move(part));
  }
  m.cumulative_weights.back() = 1.0;  // exactly, whatever the rounding of the sum
  return Distribution(std::move(m));
}

Distribution Distribution::empirical_values(std::vector<double> values) {
  require(!values.empty(), "empirical_values: needs at least one value");
  for (const double v : values)
    require(std::isfinite(v), "empirical_values: values must be finite");
  return Distribution(EmpiricalValues{std::move(values)});
}

Distribution Distribution::empirical_cdf(std::vector<std::pair<double, double>> points) {
  require(!points.empty(), "empirical_cdf: needs at least one point");
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto [value, p] = points[i];
    require(std::isfinite(value), "empirical_cdf: values must be finite");
    require(p >= 0 && p <= 1, "empirical_cdf: probabilities must be in [0, 1]");
    if (i > 0) {
      require(value > points[i - 1].first, "empirical_cdf: values must be strictly increasing");
      require(p >= points[i - 1].second, "empirical_cdf: probabilities must be non-decreasing");
    }
  }
  require(points.back().second == 1.0, "empirical_cdf: the last probability must be exactly 1");
  return Distribution(EmpiricalCdf{std::move(points)});
}

double Distribution::sample(Rng& rng) const {
  return std::visit(
      Overloaded{
          [](const Constant& d) { return d.value; },
          [&](const Uniform& d) { return d.low + (d.high - d.low) * rng.uniform01(); },
          [&](const Exponential& d) { return -d.mean * std::log(rng.uniform01_open_low()); },
          [&](const Normal& d) { return d.mean + d.stddev * standard_normal(rng); },
          [&](const LogNormal& d) { return std::exp(d.mu + d.sigma * standard_normal(rng)); },
          [&](const Pareto& d) {
            return d.scale * std::pow(rng.uniform01_open_low(), -1.0 / d.shape);
          },
          [&](const Weibull& d) {
            return d.scale * std::pow(-std::log(rng.uniform01_open_low()), 1.0 / d.shape);
          },
          [&](const Mixture& d) {
            const double u = rng.uniform01();  // in [0, 1), and the last weight is 1
            const auto it =
                std::upper_bound(d.cumulative_weights.begin(), d.cumulative_weights.end(), u);
            return d.parts[static_cast<std::size_t>(it - d.cumulative_weights.begin())].sample(rng);
          },
          [&](const EmpiricalValues& d) { return d.values[rng.below(d.values.size())]; },
          [&](const EmpiricalCdf& d) { return cdf_inverse(d.points, rng.uniform01()); },
      },
      form_);
}

double Distribution::mean() const {
  return std::visit(
      Overloaded{
          [](const Constant& d) { return d.value; },
          [](const Uniform& d) { return 0.5 * (d.low + d.high); },
          [](const Exponential& d) { return d.mean; },
          [](const Normal& d) { return d.mean; },
          [](const LogNormal& d) { return std::exp(d.mu + 0.5 * d.sigma * d.sigma); },
          [](const Pareto& d) { return d.shape <= 1 ? kInf : d.shape * d.scale / (d.shape - 1); },
          [](const Weibull& d) { return d.scale * std::tgamma(1 + 1 / d.shape); },
          [](const Mixture& d) {
            double sum = 0, previous = 0;
            for (std::size_t i = 0; i < d.parts.size(); ++i) {
              const double weight = d.cumulative_weights[i] - previous;
              previous = d.cumulative_weights[i];
              if (weight > 0) sum += weight * d.parts[i].mean();
            }
            return sum;
          },
          [](const EmpiricalValues& d) {
            double sum = 0;
            for (const double v : d.values) sum += v;
            return sum / static_cast<double>(d.values.size());
          },
          [](const EmpiricalCdf& d) {
            // The atom at the first value, then a uniform piece on each segment.
            double sum = d.points.front().second * d.points.front().first;
            for (std::size_t i = 1; i < d.points.size(); ++i) {
              const auto [a, pa] = d.points[i - 1];
              const auto [b, pb] = d.points[i];
              sum += (pb - pa) * 0.5 * (a + b);
            }
            return sum;
          },
      },
      form_);
}

double Distribution::variance() const {
  const double m = mean();
  return std::visit(Overloaded{
                        [](const Constant&) { return 0.0; },
                        [](const Uniform& d) { return (d.high - d.low) * (d.high - d.low) / 12; },
                        [](const Exponential& d) { return d.mean * d.mean; },
                        [](const Normal& d) { return d.stddev * d.stddev; },
                        [](const LogNormal& d) {
                          const double s2 = d.sigma * d.sigma;
                          return std::expm1(s2) * std::exp(2 * d.mu + s2);
                        },
                        [](const Pareto& d) {
                          if (d.shape <= 2) return kInf;
                          const double a = d.shape;
                          return d.scale * d.scale * a / ((a - 1) * (a - 1) * (a - 2));
                        },
                        [](const Weibull& d) {
                          const double g1 = std::tgamma(1 + 1 / d.shape);
                          return d.scale * d.scale * (std::tgamma(1 + 2 / d.shape) - g1 * g1);
                        },
                        [m](const Mixture& d) {
                          // Law of total variance: E[Var | part] + Var(E[X | part]).
                          if (!std::isfinite(m)) return kInf;
                          double sum = 0, previous = 0;
                          for (std::size_t i = 0; i < d.parts.size(); ++i) {
                            const double weight = d.cumulative_weights[i] - previous;
                            previous = d.cumulative_weights[i];
                            if (weight <= 0) continue;
                            const double offset = d.parts[i].mean() - m;
                            sum += weight * (d.parts[i].variance() + offset * offset);
                          }
                          return sum;
                        },
                        [m](const EmpiricalValues& d) {
                          double sum = 0;
                          for (const double v : d.values) sum += (v - m) * (v - m);
                          return sum / static_cast<double>(d.values.size());
                        },
                        [m](const EmpiricalCdf& d) {
                          // Second moment about the mean; a uniform on [a, b] contributes
                          // ((a-m)^2 + (a-m)(b-m) + (b-m)^2) / 3 per unit of probability.
                          const double first = d.points.front().first - m;
                          double sum = d.points.front().second * first * first;
                          for (std::size_t i = 1; i < d.points.size(); ++i) {
                            const double a = d.points[i - 1].first - m, b = d.points[i].first - m;
                            sum += (d.points[i].second - d.points[i - 1].second) *
                                   (a * a + a * b + b * b) / 3;
                          }
                          return sum;
                        },
                    },
                    form_);
}

std::optional<double> Distribution::quantile(double p) const {
  if (!(p >= 0 && p <= 1)) throw std::invalid_argument("quantile: p must be in [0, 1]");
  return std::visit(
      Overloaded{
          [](const Constant& d) -> std::optional<double> { return d.value; },
          [p](const Uniform& d) -> std::optional<double> { return d.low + p * (d.high - d.low); },
          [p](const Exponential& d) -> std::optional<double> { return -d.mean * std::log1p(-p); },
          [p](const Normal& d) -> std::optional<double> {
            if (d.stddev == 0) return d.mean;
            return d.mean + d.stddev * standard_normal_quantile(p);
          },
          [p](const LogNormal& d) -> std::optional<double> {
            if (d.sigma == 0) return std::exp(d.mu);
            return std::exp(d.mu + d.sigma * standard_normal_quantile(p));
          },
          [p](const Pareto& d) -> std::optional<double> {
            return d.scale * std::pow(1 - p, -1 / d.shape);
          },
          [p](const Weibull& d) -> std::optional<double> {
            return d.scale * std::pow(-std::log1p(-p), 1 / d.shape);
          },
          [](const Mixture&) -> std::optional<double> { return std::nullopt; },
          [p](const EmpiricalValues& d) -> std::optional<double> {
            // The smallest value whose empirical CDF reaches p.
            std::vector<double> sorted = d.values;
            std::sort(sorted.begin(), sorted.end());
            const double n = static_cast<double>(sorted.size());
            const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(p * n)));
            return sorted[std::min(rank, sorted.size()) - 1];
          },
          [p](const EmpiricalCdf& d) -> std::optional<double> { return cdf_inverse(d.points, p); },
      },
      form_);
}

std::string Distribution::describe() const {
  return std::visit(
      Overloaded{
          [](const Constant& d) { return "constant(value=" + number(d.value) + ")"; },
          [](const Uniform& d) {
            return "uniform(low=" + number(d.low) + ", high=" + number(d.high) + ")";
          },
          [](const Exponential& d) { return "exponential(mean=" + number(d.mean) + ")"; },
          [](const Normal& d) {
            return "normal(mean=" + number(d.mean) + ", stddev=" + number(d.stddev) + ")";
          },
          [](const LogNormal& d) {
            return "lognormal(mu=" + number(d.mu) + ", sigma=" + number(d.sigma) + ")";
          },
          [](const Pareto& d) {
            return "pareto(scale=" + number(d.scale) + ", shape=" + number(d.shape) + ")";
          },
          [](const Weibull& d) {
            return "weibull(scale=" + number(d.scale) + ", shape=" + number(d.shape) + ")";
          },
          [](const Mixture& d) {
            std::string text = "mixture(";
            double previous = 0;
            for (std::size_t i = 0; i < d.parts.size(); ++i) {
              if (i > 0) text += ", ";
              text += number(d.cumulative_weights[i] - previous) + "*" + d.parts[i].describe();
              previous = d.cumulative_weights[i];
            }
            return text + ")";
          },
          [](const EmpiricalValues& d) {
            const auto [lo, hi] = std::minmax_element(d.values.begin(), d.values.end());
            return "empirical_values(n=" + std::to_string(d.values.size()) +
                   ", min=" + number(*lo) + ", max=" + number(*hi) + ")";
          },
          [](const EmpiricalCdf& d) {
            return "empirical_cdf(points=" + std::to_string(d.points.size()) +
                   ", min=" + number(d.points.front().first) +
                   ", max=" + number(d.points.back().first) + ")";
          },
      },
      form_);
}

double standard_normal_quantile(double p) {
  if (!(p >= 0 && p <= 1))
    throw std::invalid_argument("standard_normal_quantile: p must be in [0, 1]");
  if (p == 0) return -kInf;
  if (p == 1) return kInf;
  // Work in the lower half, where 1 - p is exact (Sterbenz) and erfc keeps full precision.
  if (p > 0.5) return -standard_normal_quantile(1 - p);

  // Acklam's rational approximations (relative error below 1.15e-9).
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double kLowTail = 0.02425;

  double x;
  if (p < kLowTail) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }

  // One Halley step on Phi(x) - p = 0, with Phi(x) = erfc(-x / sqrt 2) / 2.
  const double e = 0.5 * std::erfc(-x / std::numbers::sqrt2) - p;
  const double u = e * std::sqrt(2 * std::numbers::pi) * std::exp(0.5 * x * x);
  return x - u / (1 + 0.5 * x * u);
}

}  // namespace sim
