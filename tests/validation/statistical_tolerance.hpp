// Tolerances of the queueing validations, derived from the sampling error of the estimate
// (see the header comment of queueing_test.cpp for the derivation and the constants).
#pragma once

#include <algorithm>
#include <cmath>

namespace queueing {

/// Every comparison allows 4.5 standard errors: a correct model fails one with probability 7e-6.
inline constexpr double kStandardErrors = 4.5;
/// The relative quantile error of the 10-bit LatencyHistogram.
inline constexpr double kHistogramError = 0.0005;

/// Of a mean of n correlated samples whose asymptotic variance constant is `variance_constant`.
inline double mean_tolerance(double variance_constant, double n) {
  return kStandardErrors * std::sqrt(variance_constant / n);
}

/// Of an estimated quantile q (Bahadur): SE of the fraction below q, over the density at q.
inline double quantile_tolerance(double indicator_variance_constant, double density, double n,
                                 double q) {
  return kStandardErrors * std::sqrt(indicator_variance_constant / n) / density +
         kHistogramError * q;
}

/// Of a proportion p estimated from n independent trials.
inline double proportion_tolerance(double p, double n) {
  return kStandardErrors * std::sqrt(std::max(p * (1 - p), 1e-12) / n);
}

}  // namespace queueing
