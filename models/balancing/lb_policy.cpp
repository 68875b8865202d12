#include "models/balancing/lb_policy.hpp"

#include "sim/assert.hpp"

namespace models {

std::uint64_t rendezvous_score(std::uint64_t key, std::uint64_t backend_seed) {
  // Two rounds of a bijective mixer: the score of one key on different backends, and of
  // different keys on one backend, behave as independent uniform draws.
  return sim::splitmix64_mix(sim::splitmix64_mix(key) ^ backend_seed);
}

std::uint32_t BackendPicker::pick(std::span<const std::uint32_t> candidates,
                                  std::span<const std::uint32_t> outstanding,
                                  std::span<const std::uint64_t> seeds, std::uint64_t key,
                                  std::uint64_t& turn) {
  DSIM_ASSERT(!candidates.empty(), "a backend is picked among at least one candidate");
  switch (policy_) {
    case LbPolicy::RoundRobin:
      return candidates[turn++ % candidates.size()];
    case LbPolicy::Random:
      return candidates[rng_.below(candidates.size())];
    case LbPolicy::LeastOutstanding:
      return least_outstanding(candidates, outstanding, turn);
    case LbPolicy::PowerOfTwo:
      return power_of_two(candidates, outstanding);
    case LbPolicy::Sticky:
      return sticky(candidates, seeds, key);
  }
  DSIM_ASSERT(false, "unknown load-balancing policy");
  return candidates[0];
}

std::uint32_t BackendPicker::least_outstanding(std::span<const std::uint32_t> candidates,
                                               std::span<const std::uint32_t> outstanding,
                                               std::uint64_t& turn) {
  const std::size_t n = candidates.size();
  const std::size_t start = turn % n;
  std::size_t best = start;
  for (std::size_t step = 1; step < n; ++step) {
    const std::size_t i = (start + step) % n;
    if (outstanding[candidates[i]] < outstanding[candidates[best]]) best = i;
  }
  turn = best + 1;
  return candidates[best];
}

std::uint32_t BackendPicker::power_of_two(std::span<const std::uint32_t> candidates,
                                          std::span<const std::uint32_t> outstanding) {
  const std::size_t n = candidates.size();
  if (n == 1) return candidates[0];
  const std::size_t first = rng_.below(n);
  std::size_t second = rng_.below(n - 1);
  if (second >= first) ++second;  // distinct, and uniform over the others
  const std::uint32_t a = candidates[first], b = candidates[second];
  return outstanding[b] < outstanding[a] ? b : a;
}

std::uint32_t BackendPicker::sticky(std::span<const std::uint32_t> candidates,
                                    std::span<const std::uint64_t> seeds, std::uint64_t key) {
  std::uint32_t best = candidates[0];
  std::uint64_t best_score = rendezvous_score(key, seeds[best]);
  for (std::size_t i = 1; i < candidates.size(); ++i) {
    const std::uint64_t score = rendezvous_score(key, seeds[candidates[i]]);
    if (score > best_score) {  // a tie (probability 2^-64) keeps the lower index
      best = candidates[i];
      best_score = score;
    }
  }
  return best;
}

}  // namespace models
