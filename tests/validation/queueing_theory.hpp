// Textbook queueing formulas, as small functions, to validate the models against.
// Rates (lambda: arrivals, mu: service completions per worker) and times in any one unit.
// References: Kleinrock, Queueing Systems vol. 1 (1975), sections 3.2 (M/M/1), 3.5 (M/M/c),
// 3.10 (finite source), 5.6 (Pollaczek-Khinchine); Gross & Harris, Fundamentals of Queueing
// Theory, 2.3 (the FCFS M/M/c waiting-time distribution).
#pragma once

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace queueing {

// ---- M/M/1 (FCFS): the sojourn time is exponential with rate mu - lambda ----

inline double mm1_mean_sojourn(double lambda, double mu) {
  return 1.0 / (mu - lambda);
}

/// The p-quantile of the sojourn time: -ln(1 - p) / (mu - lambda).
inline double mm1_sojourn_quantile(double lambda, double mu, double p) {
  return -std::log1p(-p) / (mu - lambda);
}

// ---- M/M/c (FCFS) ----

/// Erlang C: the probability that an arrival finds all c workers busy (and waits), computed
/// from the Erlang B recursion B(k) = a B(k-1) / (k + a B(k-1)), which is numerically stable.
inline double erlang_c(int c, double lambda, double mu) {
  const double a = lambda / mu;  // offered load in Erlangs
  if (a >= c) throw std::invalid_argument("erlang_c: unstable (lambda >= c mu)");
  double b = 1.0;
  for (int k = 1; k <= c; ++k) b = a * b / (k + a * b);
  return c * b / (c - a * (1 - b));
}

/// Mean sojourn: the mean wait C / (c mu - lambda) plus the mean service 1 / mu.
inline double mmc_mean_sojourn(int c, double lambda, double mu) {
  return erlang_c(c, lambda, mu) / (c * mu - lambda) + 1.0 / mu;
}

/// P(sojourn > t). The sojourn is service S ~ Exp(mu) plus, with probability C, an independent
/// wait W ~ Exp(theta), theta = c mu - lambda; S + W is hypoexponential.
inline double mmc_sojourn_survival(int c, double lambda, double mu, double t) {
  const double C = erlang_c(c, lambda, mu);
  const double theta = c * mu - lambda;
  const double service_only = std::exp(-mu * t);
  const double with_wait =
      std::abs(theta - mu) < 1e-12 * mu
          ? std::exp(-mu * t) * (1 + mu * t)
          : (theta * std::exp(-mu * t) - mu * std::exp(-theta * t)) / (theta - mu);
  return (1 - C) * service_only + C * with_wait;
}

/// The density of the sojourn time at t (for the standard error of an estimated quantile).
inline double mmc_sojourn_density(int c, double lambda, double mu, double t) {
  const double C = erlang_c(c, lambda, mu);
  const double theta = c * mu - lambda;
  const double with_wait =
      std::abs(theta - mu) < 1e-12 * mu
          ? mu * mu * t * std::exp(-mu * t)
          : mu * theta / (theta - mu) * (std::exp(-mu * t) - std::exp(-theta * t));
  return (1 - C) * mu * std::exp(-mu * t) + C * with_wait;
}

/// The p-quantile of the sojourn time, by bisection on the survival function (decreasing in t).
inline double mmc_sojourn_quantile(int c, double lambda, double mu, double p) {
  double low = 0, high = 1.0 / mu;
  while (mmc_sojourn_survival(c, lambda, mu, high) > 1 - p) high *= 2;
  for (int i = 0; i < 200 && high - low > 1e-12 * high; ++i) {
    const double mid = 0.5 * (low + high);
    (mmc_sojourn_survival(c, lambda, mu, mid) > 1 - p ? low : high) = mid;
  }
  return 0.5 * (low + high);
}

/// Mean number waiting (not in service), Lq = C a / (c - a), a = lambda / mu; the mean wait is
/// Lq / lambda (Little).
inline double mmc_mean_queue(int c, double lambda, double mu) {
  const double a = lambda / mu;
  return erlang_c(c, lambda, mu) * a / (c - a);
}

/// The asymptotic variance constant sigma^2 of the time-average queue length Lq(T) = (1/T)
/// integral of max(0, N(t) - c) dt of an M/M/c queue: T Var(Lq(T)) -> sigma^2. N is a birth-death
/// process (births lambda, deaths min(n, c) mu, stationary pi); for the time average of f(N),
/// sigma^2 = 2 sum_k S_k^2 / (lambda pi_k), S_k = sum_{j <= k} pi_j (f_j - E f) (Whitt, "Asymptotic
/// formulas for Markov processes with applications to simulation", Oper. Res. 40, 1992: the
/// Poisson equation of a birth-death process, solved by its flow balance). S_k is computed as
/// minus the tail sum, which stays accurate where pi_k is tiny. With c = 1 and f(n) = n it gives
/// M/M/1's 2 rho (1 + rho) / (mu (1 - rho)^4).
inline double mmc_time_average_variance(int c, double lambda, double mu, bool queue_only = true) {
  if (lambda >= c * mu) throw std::invalid_argument("unstable (lambda >= c mu)");
  std::vector<double> pi{1.0};
  double largest = 1.0;
  for (;;) {  // unnormalized, until the tail is negligible
    const double n = static_cast<double>(pi.size());
    pi.push_back(pi.back() * lambda / (std::min(n, static_cast<double>(c)) * mu));
    largest = std::max(largest, pi.back());
    if (n > c && pi.back() < 1e-20 * largest) break;
  }
  double total = 0;
  for (const double p : pi) total += p;
  for (double& p : pi) p /= total;
  const auto f = [&](std::size_t n) {
    return queue_only ? std::max(0.0, static_cast<double>(n) - c) : static_cast<double>(n);
  };
  double mean = 0;
  for (std::size_t n = 0; n < pi.size(); ++n) mean += pi[n] * f(n);
  std::vector<double> tail(pi.size() + 1, 0.0);  // tail[k] = sum_{j >= k} pi_j (f_j - mean)
  for (std::size_t j = pi.size(); j-- > 0;) tail[j] = tail[j + 1] + pi[j] * (f(j) - mean);
  double sum = 0;
  for (std::size_t k = 0; k + 1 < pi.size(); ++k)
    sum += tail[k + 1] * tail[k + 1] / (lambda * pi[k]);
  return 2 * sum;
}

// ---- M/D/1: Pollaczek-Khinchine with a constant service time 1 / mu ----

/// Mean wait in queue: rho / (2 mu (1 - rho)).
inline double md1_mean_wait(double lambda, double mu) {
  const double rho = lambda / mu;
  return rho / (2 * mu * (1 - rho));
}
inline double md1_mean_sojourn(double lambda, double mu) {
  return md1_mean_wait(lambda, mu) + 1.0 / mu;
}

// ---- Finite source (machine repairman), M/M/1//N: N users, exponential think time Z ----

/// Utilization of the single server: 1 - p0, with p_k proportional to N!/(N-k)! (S/Z)^k.
inline double finite_source_utilization(int users, double think_mean, double service_mean) {
  double term = 1.0, sum = 1.0;
  for (int k = 1; k <= users; ++k) {
    term *= (users - k + 1) * service_mean / think_mean;
    sum += term;
  }
  return 1.0 - 1.0 / sum;
}

/// Mean response time, from the interactive response time law R = N / X - Z, X = U / S.
inline double finite_source_mean_response(int users, double think_mean, double service_mean) {
  const double throughput =
      finite_source_utilization(users, think_mean, service_mean) / service_mean;
  return users / throughput - think_mean;
}

}  // namespace queueing
