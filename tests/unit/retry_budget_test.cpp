// Retry budget mechanics (Finagle's RetryBudget): ratio x requests, the min_retries_per_s
// reserve, expiry after ttl, and the long-run rate under a sustained failure.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

#include "models/resilience/retry_budget.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;
using models::RetryBudget;
using models::RetryBudgetConfig;

namespace {

RetryBudgetConfig budget(double ratio, double min_per_s, Duration ttl = 10'000_ms) {
  return {.enabled = true, .ratio = ratio, .min_retries_per_s = min_per_s, .ttl = ttl};
}

int withdraw_all(RetryBudget& b, Time at) {
  int n = 0;
  while (b.try_withdraw(at)) ++n;
  return n;
}

}  // namespace

TEST_CASE("retry budget: each request deposits `ratio` retries, exactly") {
  RetryBudget b(budget(0.1, 0));
  CHECK(b.deposit_units() == RetryBudget::kScale);
  CHECK(b.withdrawal_units() == 10 * RetryBudget::kScale);
  for (int i = 0; i < 9; ++i) b.deposit(at_ms(i));
  CHECK(b.balance(at_ms(9)) == 0);
  CHECK_FALSE(b.try_withdraw(at_ms(9)));  // nine deposits of 0.1 are not a retry
  b.deposit(at_ms(9));
  CHECK(b.balance(at_ms(9)) == 1);
  CHECK(b.try_withdraw(at_ms(9)));
  CHECK_FALSE(b.try_withdraw(at_ms(9)));
  for (int i = 0; i < 1000; ++i) b.deposit(at_ms(10));
  CHECK(withdraw_all(b, at_ms(10)) == 100);
}

TEST_CASE("retry budget: the reserve allows min_retries_per_s x ttl without any request") {
  RetryBudget b(budget(0.2, 10, 10'000_ms));  // Finagle's defaults
  CHECK(b.reserve_units() == 100 * b.withdrawal_units());
  CHECK(withdraw_all(b, at_ms(0)) == 100);
  // The withdrawals expire with their slice, after ttl: the reserve is back.
  CHECK(withdraw_all(b, at_ms(9'999)) == 0);
  CHECK(withdraw_all(b, at_ms(10'000)) == 100);

  RetryBudget reserve_only(budget(0, 5, 2'000_ms));  // no credit from requests
  reserve_only.deposit(at_ms(0));
  CHECK(withdraw_all(reserve_only, at_ms(0)) == 10);

  RetryBudget none(budget(0, 0));  // Finagle's RetryBudget.Empty
  for (int i = 0; i < 100; ++i) none.deposit(at_ms(0));
  CHECK(withdraw_all(none, at_ms(0)) == 0);
}

TEST_CASE("retry budget: deposits expire after ttl, in slices of ttl/10") {
  RetryBudget b(budget(1.0, 0, 1'000_ms));            // slices of 100ms
  for (int i = 0; i < 5; ++i) b.deposit(at_ms(50));   // slice 0
  for (int i = 0; i < 3; ++i) b.deposit(at_ms(450));  // slice 4
  CHECK(b.balance(at_ms(999)) == 8);
  CHECK(b.balance(at_ms(1'000)) == 3);  // slice 0 left the window (slice 10 began)
  CHECK(b.balance(at_ms(1'399)) == 3);
  CHECK(b.balance(at_ms(1'400)) == 0);
  b.deposit(at_ms(5'000));
  CHECK(b.balance(at_ms(5'000)) == 1);
  CHECK(b.balance(at_ms(60'000)) == 0);  // many windows later: everything expired
  b.deposit(at_ms(60'000));
  b.reset();
  CHECK(b.balance(at_ms(60'000)) == 0);
}

TEST_CASE("retry budget: under sustained failure, retries tend to ratio x requests + reserve") {
  // 1000 requests/s for 100s, each failing and asking for a retry at once: the budget allows
  // ratio x 1000 + min_retries_per_s - 1/ttl retries per second (see retry_budget.hpp).
  for (const double min_per_s : {0.0, 10.0}) {
    RetryBudget b(budget(0.1, min_per_s));
    std::int64_t requests = 0, retries = 0;
    for (std::int64_t us = 0; us < 100'000'000; us += 1000) {
      const Time now = Time::zero() + Duration::nanoseconds(us * 1000);
      b.deposit(now);
      ++requests;
      if (b.try_withdraw(now)) ++retries;
    }
    INFO("min_retries_per_s " << min_per_s);
    const double expected = 0.1 * static_cast<double>(requests) + min_per_s * 100;
    // At most one window's reserve and one retry per slice of slack either way.
    CHECK(std::abs(static_cast<double>(retries) - expected) <= min_per_s * 10 + 10);
  }
}

TEST_CASE("retry budget: deposits and withdrawals allocate nothing") {
  RetryBudget b(budget(0.1, 10));
  const std::uint64_t before = allocation_count();
  for (int i = 0; i < 100'000; ++i) {
    b.deposit(at_ms(i));
    b.try_withdraw(at_ms(i));
  }
  CHECK(allocation_count() - before == 0);
}
