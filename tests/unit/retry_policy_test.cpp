// Retry policy mechanics: the backoff sequence of each jitter (pinned for a fixed seed, and
// within its bounds for many draws), and the decision after a failed try: retry_on, attempts,
// deadline, budget, in that order.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstdint>

#include "models/resilience/backoff.hpp"
#include "models/resilience/retry_policy.hpp"
#include "sim/rng.hpp"
#include "tests/test_time.hpp"

using namespace sim;
using models::Backoff;
using models::BackoffConfig;
using models::BackoffKind;
using models::GiveUpReason;
using models::Jitter;
using models::Outcome;
using models::RetryConfig;
using models::RetryPolicy;

namespace {

BackoffConfig exponential(Jitter jitter) {
  BackoffConfig c;
  c.kind = BackoffKind::Exponential;
  c.base = 10_ms;
  c.multiplier = 2;
  c.cap = 200_ms;
  c.jitter = jitter;
  return c;
}

std::array<std::int64_t, 7> sequence(const BackoffConfig& config, std::uint64_t seed) {
  Backoff backoff(config);
  Rng rng = Rng::stream(seed, "backoff");
  std::array<std::int64_t, 7> out{};
  for (std::uint32_t n = 1; n <= out.size(); ++n) out[n - 1] = backoff.next(n, rng).ns();
  return out;
}

}  // namespace

TEST_CASE("retry policy: backoff sequences of each jitter are pinned for seed 42") {
  // The exponential ceiling is 10, 20, 40, 80, 160, 200 (cap), 200 ms.
  CHECK(sequence(exponential(Jitter::None), 42) ==
        std::array<std::int64_t, 7>{10'000'000, 20'000'000, 40'000'000, 80'000'000, 160'000'000,
                                    200'000'000, 200'000'000});
  CHECK(sequence(exponential(Jitter::Full), 42) ==
        std::array<std::int64_t, 7>{3'655'632, 10'687'105, 14'130'862, 53'839'702, 147'319'480,
                                    77'021'674, 96'967'430});
  CHECK(sequence(exponential(Jitter::Equal), 42) ==
        std::array<std::int64_t, 7>{6'827'816, 15'343'553, 27'065'431, 66'919'851, 153'659'740,
                                    138'510'837, 148'483'715});
  CHECK(sequence(exponential(Jitter::Decorrelated), 42) ==
        std::array<std::int64_t, 7>{17'311'264, 32'407'543, 40'813'274, 85'671'582, 200'000'000,
                                    200'000'000, 200'000'000});
}

TEST_CASE("retry policy: every jitter stays within its bounds") {
  for (const Jitter jitter : {Jitter::None, Jitter::Full, Jitter::Equal, Jitter::Decorrelated}) {
    const BackoffConfig config = exponential(jitter);
    Rng rng = Rng::stream(7, "bounds");
    double full_sum = 0;
    constexpr int kRuns = 2000;
    for (int run = 0; run < kRuns; ++run) {
      Backoff backoff(config);
      Duration previous = config.base;
      for (std::uint32_t n = 1; n <= 10; ++n) {
        const Duration ceiling = backoff.ceiling(n);
        const Duration wait = backoff.next(n, rng);
        INFO("jitter " << static_cast<int>(jitter) << " retry " << n);
        switch (jitter) {
          case Jitter::None:
            CHECK(wait == ceiling);
            break;
          case Jitter::Full:
            CHECK(wait >= Duration::zero());
            CHECK(wait <= ceiling);
            if (n == 3) full_sum += wait.seconds();
            break;
          case Jitter::Equal:
            CHECK(wait >= ceiling / 2);
            CHECK(wait <= ceiling);
            break;
          case Jitter::Decorrelated:
            CHECK(wait >= config.base);
            CHECK(wait <= std::min(config.cap, previous * 3));
            previous = wait;
            break;
        }
      }
    }
    if (jitter == Jitter::Full) {
      // Uniform on [0, 40ms]: mean 20ms, standard error 40/sqrt(12 x 2000) ms = 0.26ms.
      CHECK(std::abs(full_sum / kRuns - 0.020) < 5 * 0.00026);
    }
  }
}

TEST_CASE("retry policy: decorrelated jitter near 100 years saturates instead of overflowing") {
  // 3 x 99 years overflowed int64 ns (292 years): the wait fell back to `base` every time.
  // Saturated at 100 years, the waits spread over [base, cap].
  BackoffConfig c = exponential(Jitter::Decorrelated);
  c.base = kMaxDuration - Duration::nanoseconds(kMaxDuration.ns() / 100);  // 99 years
  c.cap = kMaxDuration;
  Backoff backoff(c);
  Rng rng = Rng::stream(42, "backoff");
  int above_base = 0;
  for (std::uint32_t n = 1; n <= 100; ++n) {
    const Duration wait = backoff.next(n, rng);
    REQUIRE(wait >= c.base);
    REQUIRE(wait <= c.cap);
    above_base += wait > c.base;
  }
  CHECK(above_base == 100);  // a uniform draw equals its low end with probability ~0
}

TEST_CASE("retry policy: constant and no backoff") {
  BackoffConfig c;
  c.kind = BackoffKind::Constant;
  c.base = 25_ms;
  c.jitter = Jitter::None;
  Backoff constant(c);
  Rng rng(1);
  for (std::uint32_t n = 1; n < 5; ++n) CHECK(constant.next(n, rng) == 25_ms);
  c.kind = BackoffKind::None;
  Backoff none(c);
  CHECK(none.next(3, rng) == Duration::zero());
}

TEST_CASE("retry policy: retry_on decides which outcomes are retried") {
  RetryConfig config;
  config.max_attempts = 5;
  RetryPolicy defaults(config);
  Backoff backoff(config.backoff);
  Rng rng(3);
  const auto retried = [&](RetryPolicy& p, Outcome o) {
    return p.decide(o, 1, at_ms(0), Time::max(), backoff, rng).retry;
  };
  CHECK(retried(defaults, Outcome::Timeout));
  CHECK(retried(defaults, Outcome::Rejected));
  CHECK(retried(defaults, Outcome::Error));
  CHECK(retried(defaults, Outcome::Dropped));
  CHECK(retried(defaults, Outcome::RateLimited));
  CHECK_FALSE(retried(defaults, Outcome::CircuitOpen));
  CHECK_FALSE(retried(defaults, Outcome::Ok));

  RetryConfig custom_config = config;  // a policy follows its configuration: a second one
  custom_config.retry_on = {.timeout = false,
                            .rejected = false,
                            .error = true,
                            .circuit_open = true,
                            .dropped = false,
                            .rate_limited = false};
  RetryPolicy custom(custom_config);
  CHECK_FALSE(retried(custom, Outcome::Timeout));
  CHECK_FALSE(retried(custom, Outcome::Rejected));
  CHECK(retried(custom, Outcome::Error));
  CHECK(retried(custom, Outcome::CircuitOpen));
  CHECK_FALSE(retried(custom, Outcome::Dropped));
  CHECK_FALSE(retried(custom, Outcome::RateLimited));
  const auto d = custom.decide(Outcome::Timeout, 1, at_ms(0), Time::max(), backoff, rng);
  CHECK(d.reason == GiveUpReason::NotRetryable);
}

TEST_CASE("retry policy: max_attempts counts the first try") {
  RetryConfig config;
  config.max_attempts = 3;
  config.backoff.jitter = Jitter::None;
  RetryPolicy policy(config);
  Backoff backoff(config.backoff);
  Rng rng(3);
  auto d1 = policy.decide(Outcome::Error, 1, at_ms(0), Time::max(), backoff, rng);
  CHECK(d1.retry);
  CHECK(d1.wait == 10_ms);
  auto d2 = policy.decide(Outcome::Error, 2, at_ms(0), Time::max(), backoff, rng);
  CHECK(d2.retry);
  CHECK(d2.wait == 20_ms);
  auto d3 = policy.decide(Outcome::Error, 3, at_ms(0), Time::max(), backoff, rng);
  CHECK_FALSE(d3.retry);
  CHECK(d3.reason == GiveUpReason::AttemptsExhausted);

  const RetryConfig default_config;  // the default: one attempt, no retry
  RetryPolicy single{default_config};
  CHECK_FALSE(single.decide(Outcome::Error, 1, at_ms(0), Time::max(), backoff, rng).retry);
}

TEST_CASE("retry policy: no retry that would start at or after the deadline") {
  RetryConfig config;
  config.max_attempts = 10;
  config.backoff.jitter = Jitter::None;  // waits 10, 20, 40 ms
  RetryPolicy policy(config);
  Backoff backoff(config.backoff);
  Rng rng(3);
  const Time deadline = at_ms(100);
  CHECK(policy.decide(Outcome::Timeout, 1, at_ms(50), deadline, backoff, rng).retry);    // at 60
  CHECK(policy.decide(Outcome::Timeout, 2, at_ms(79), deadline, backoff, rng).retry);    // at 99
  const auto d = policy.decide(Outcome::Timeout, 3, at_ms(60), deadline, backoff, rng);  // 100
  CHECK_FALSE(d.retry);
  CHECK(d.reason == GiveUpReason::Deadline);
  Backoff fresh(config.backoff);
  CHECK_FALSE(policy.decide(Outcome::Timeout, 1, at_ms(100), deadline, fresh, rng).retry);
}

TEST_CASE("retry policy: the budget is asked last and withdrawn only for a retry") {
  RetryConfig config;
  config.max_attempts = 4;
  config.backoff.kind = BackoffKind::None;
  config.budget = {.enabled = true, .ratio = 0.5, .min_retries_per_s = 0, .ttl = 10'000_ms};
  RetryPolicy policy(config);
  Backoff backoff(config.backoff);
  Rng rng(3);
  policy.on_request(at_ms(0));
  policy.on_request(at_ms(0));  // two requests: one retry
  // Not retryable, or out of attempts: the budget is not touched.
  CHECK_FALSE(policy.decide(Outcome::CircuitOpen, 1, at_ms(1), Time::max(), backoff, rng).retry);
  CHECK_FALSE(policy.decide(Outcome::Error, 4, at_ms(1), Time::max(), backoff, rng).retry);
  CHECK(policy.decide(Outcome::Error, 1, at_ms(1), Time::max(), backoff, rng).retry);
  const auto denied = policy.decide(Outcome::Error, 1, at_ms(1), Time::max(), backoff, rng);
  CHECK_FALSE(denied.retry);
  CHECK(denied.reason == GiveUpReason::Budget);
  policy.reset();
  policy.on_request(at_ms(2));
  CHECK_FALSE(policy.decide(Outcome::Error, 1, at_ms(2), Time::max(), backoff, rng).retry);
}
