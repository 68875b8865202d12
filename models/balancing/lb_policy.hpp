// How a load balancer picks one backend among those in rotation: the five classic policies.
//
// - round_robin: the candidates in turn (a counter over the rotation, so that each of k
//   candidates gets every k-th request while the rotation stays the same).
// - random: uniformly at random (the node's stream).
// - least_outstanding: the candidate with the fewest requests this balancer has in flight to it;
//   ties go to the first tied candidate at or after a cursor that moves past each choice, so
//   that an idle cluster is served in turn rather than always by backend 0.
// - p2c (power of two choices, Mitzenmacher 2001): two distinct candidates drawn at random,
//   the one with fewer outstanding requests (the first drawn on a tie). One candidate: it.
// - sticky: rendezvous (highest random weight) hashing of the request key over the candidates:
//   each (key, backend) pair gets a pseudo-random score and the highest wins. The same key goes
//   to the same backend while it stays in rotation; a backend that leaves remaps only its own
//   keys (to their second-highest scores), and one that returns takes back exactly those.
//
// The picker keeps no per-request state and allocates nothing.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "models/shared/params.hpp"
#include "sim/rng.hpp"

namespace models {

enum class LbPolicy : std::uint8_t { RoundRobin, Random, LeastOutstanding, PowerOfTwo, Sticky };

inline constexpr std::array<Choice<LbPolicy>, 5> kLbPolicyChoices{{
    {"round_robin", LbPolicy::RoundRobin, "backends in turn"},
    {"random", LbPolicy::Random, "a backend uniformly at random"},
    {"least_outstanding", LbPolicy::LeastOutstanding,
     "the backend with the fewest requests in flight from this balancer (ties in turn)"},
    {"p2c", LbPolicy::PowerOfTwo,
     "power of two choices: two distinct random backends, the one with fewer in flight"},
    {"sticky", LbPolicy::Sticky,
     "by request key, rendezvous hashing: a key stays on its backend while that one is in "
     "rotation"},
}};

/// The rendezvous score of `key` on the backend whose identity hashes to `backend_seed`.
std::uint64_t rendezvous_score(std::uint64_t key, std::uint64_t backend_seed);

class BackendPicker {
 public:
  BackendPicker(LbPolicy policy, sim::Rng rng) : policy_(policy), rng_(rng) {}

  /// Picks one of `candidates` (backend indices, ascending, not empty). `outstanding[b]` is the
  /// number of requests in flight to backend b; `seeds[b]` its rendezvous identity.
  std::uint32_t pick(std::span<const std::uint32_t> candidates,
                     std::span<const std::uint32_t> outstanding,
                     std::span<const std::uint64_t> seeds, std::uint64_t key) {
    return pick(candidates, outstanding, seeds, key, turn_);
  }
  /// The same with a turn counter of the caller's (round_robin's counter, least_outstanding's
  /// tie cursor): a balancer that picks among several candidate sets (a tenant's shuffle shard
  /// each) keeps one per set, so that each set is served in turn on its own.
  std::uint32_t pick(std::span<const std::uint32_t> candidates,
                     std::span<const std::uint32_t> outstanding,
                     std::span<const std::uint64_t> seeds, std::uint64_t key, std::uint64_t& turn);

  LbPolicy policy() const { return policy_; }

 private:
  static std::uint32_t least_outstanding(std::span<const std::uint32_t> candidates,
                                         std::span<const std::uint32_t> outstanding,
                                         std::uint64_t& turn);
  std::uint32_t power_of_two(std::span<const std::uint32_t> candidates,
                             std::span<const std::uint32_t> outstanding);
  static std::uint32_t sticky(std::span<const std::uint32_t> candidates,
                              std::span<const std::uint64_t> seeds, std::uint64_t key);

  LbPolicy policy_;
  sim::Rng rng_;
  std::uint64_t turn_ = 0;  // round_robin's counter and least_outstanding's tie cursor
};

}  // namespace models
