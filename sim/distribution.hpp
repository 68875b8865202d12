// Probability distributions, implemented here (not with <random>, whose algorithms differ
// between standard libraries) so that a seed gives the same draws everywhere.
//
// A Distribution is a value type over plain doubles; it has no unit. Durations are
// distributions over nanoseconds: sample_duration() rounds to whole ns and clamps to
// [0, kMaxDuration] (100 years, sim/time.hpp): a heavy tail cannot overflow a Time.
// Each sampler consumes a documented number of uniforms per draw, so pinned first draws in
// the tests stay meaningful:
//   constant 0; uniform 1; exponential 1 (inversion); normal 2 (Box-Muller, cosine branch);
//   lognormal 2 (exp of normal); pareto 1 and weibull 1 (inversion); mixture 1 + the part's;
//   empirical 1 (values: pick one uniformly; cdf: inverse of the piecewise-linear CDF).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "sim/rng.hpp"
#include "sim/time.hpp"

namespace sim {

class Distribution {
 public:
  struct Constant {
    double value;
  };
  struct Uniform {
    double low, high;
  };
  struct Exponential {
    double mean;
  };
  struct Normal {
    double mean, stddev;
  };
  struct LogNormal {
    double mu, sigma;
  };  // of the underlying normal
  struct Pareto {
    double scale, shape;
  };  // x_m and alpha: P(X > x) = (x_m / x)^alpha
  struct Weibull {
    double scale, shape;
  };  // lambda and k
  struct Mixture {
    std::vector<double> cumulative_weights;  // normalized, last == 1
    std::vector<Distribution> parts;
  };
  struct EmpiricalValues {
    std::vector<double> values;
  };
  struct EmpiricalCdf {
    std::vector<std::pair<double, double>> points;
  };  // (value, P(X <= value))

  Distribution() : Distribution(constant(0)) {}

  // Factories check their parameters and throw std::invalid_argument with a plain-words
  // reason ("stddev must be >= 0") when they make no sense.
  static Distribution constant(double value);
  static Distribution uniform(double low, double high);
  static Distribution exponential(double mean);
  static Distribution normal(double mean, double stddev);
  static Distribution lognormal(double mu, double sigma);
  /// The lognormal whose median and 99th percentile are the given values (p99 > median > 0).
  static Distribution lognormal_from_median_p99(double median, double p99);
  static Distribution pareto(double scale, double shape);
  static Distribution weibull(double scale, double shape);
  /// Weights need not sum to one (they are normalized); each must be >= 0, their sum > 0.
  static Distribution mixture(std::vector<std::pair<double, Distribution>> weighted_parts);
  /// Each value equally likely.
  static Distribution empirical_values(std::vector<double> values);
  /// A CDF table: values increasing, probabilities non-decreasing from >= 0 to exactly 1;
  /// linear interpolation between points; the first point's probability mass sits at its value.
  static Distribution empirical_cdf(std::vector<std::pair<double, double>> points);

  double sample(Rng& rng) const;
  /// A draw read as nanoseconds, rounded to a whole ns, never negative, at most kMaxDuration.
  Duration sample_duration(Rng& rng) const { return duration_from_ns(sample(rng)); }

  /// Exact moments (infinity where they do not exist, e.g. pareto with shape <= 1).
  double mean() const;
  double variance() const;
  /// The p-quantile where a closed form or a table exists (all but mixture).
  std::optional<double> quantile(double p) const;

  /// One-line description, e.g. "exponential(mean=5e+06)".
  std::string describe() const;

  using Variant = std::variant<Constant, Uniform, Exponential, Normal, LogNormal, Pareto, Weibull,
                               Mixture, EmpiricalValues, EmpiricalCdf>;
  const Variant& form() const { return form_; }

 private:
  explicit Distribution(Variant form) : form_(std::move(form)) {}
  Variant form_;
};

/// The standard normal quantile function (Acklam's rational approximation refined by one
/// Halley step; relative error below 1e-12). Used by the lognormal median/p99 form and tests.
double standard_normal_quantile(double p);

}  // namespace sim
