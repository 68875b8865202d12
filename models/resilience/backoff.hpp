// How long to wait before a retry: none, constant or exponential backoff, with the jitter
// variants of the AWS Architecture Blog's "Exponential Backoff and Jitter" (Marc Brooker, 2015):
//   exponential: sleep = min(cap, base * multiplier^(n-1))            (n = 1 for the first retry)
//   full:        sleep = uniform(0, exponential)
//   equal:       sleep = exponential/2 + uniform(0, exponential/2)
//   decorrelated: sleep = min(cap, uniform(base, previous_sleep * 3)), previous starts at base
// Constant backoff is `base` every time (jitter applies to it the same way).
// Difference: every wait is at most sim::kMaxDuration (100 years), growth saturating there, so a
// huge multiplier or cap cannot overflow time.
#pragma once

#include <array>
#include <cstdint>

#include "models/shared/params.hpp"
#include "sim/rng.hpp"
#include "sim/time.hpp"

namespace models {

enum class BackoffKind : std::uint8_t { None, Constant, Exponential };
enum class Jitter : std::uint8_t { None, Full, Equal, Decorrelated };

inline constexpr std::array<Choice<BackoffKind>, 3> kBackoffChoices{{
    {"none", BackoffKind::None, "retry at once"},
    {"constant", BackoffKind::Constant, "wait `base` before every retry"},
    {"exponential", BackoffKind::Exponential,
     "wait base x multiplier^(n-1) before retry n, at most `cap`"},
}};

inline constexpr std::array<Choice<Jitter>, 4> kJitterChoices{{
    {"none", Jitter::None, "wait exactly the backoff"},
    {"full", Jitter::Full, "uniform between 0 and the backoff"},
    {"equal", Jitter::Equal, "half the backoff plus uniform between 0 and the other half"},
    {"decorrelated", Jitter::Decorrelated,
     "uniform between base and 3x the previous wait, at most cap"},
}};

struct BackoffConfig {
  BackoffKind kind = BackoffKind::Exponential;
  sim::Duration base = sim::Duration::nanoseconds(10'000'000);  // 10ms
  double multiplier = 2;
  sim::Duration cap = sim::Duration::nanoseconds(1'000'000'000);  // 1s
  Jitter jitter = Jitter::Full;

  template <class V>
  void describe(V& v) {
    v.field("backoff", kind, "how the wait before a retry grows", kBackoffChoices);
    v.field("base", base, "the first retry's backoff", Limits{0});
    v.field("multiplier", multiplier, "growth factor of exponential backoff per retry",
            Limits{1, 1000});
    v.field("cap", cap, "the longest backoff", Limits{0});
    v.field("jitter", jitter, "randomization of each wait (AWS 'Exponential Backoff and Jitter')",
            kJitterChoices);
  }
};

/// The backoff of one logical request (decorrelated jitter remembers its previous wait).
class Backoff {
 public:
  explicit Backoff(const BackoffConfig& config) : config_(&config), previous_(config.base) {}

  /// The wait before retry number `retry` (1 for the first retry), drawn from `rng`.
  sim::Duration next(std::uint32_t retry, sim::Rng& rng);

  /// The un-jittered exponential/constant backoff before retry `retry`.
  sim::Duration ceiling(std::uint32_t retry) const;

 private:
  const BackoffConfig* config_;
  sim::Duration previous_;
};

}  // namespace models
