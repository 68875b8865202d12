#include "models/resilience/retry_policy.hpp"

#include "sim/assert.hpp"

namespace models {

bool RetryOn::retries(Outcome outcome) const {
  switch (outcome) {
    case Outcome::Ok:
      return false;
    case Outcome::Timeout:
      return timeout;
    case Outcome::Rejected:
      return rejected;
    case Outcome::Error:
      return error;
    case Outcome::CircuitOpen:
      return circuit_open;
    case Outcome::Dropped:
      return dropped;
    case Outcome::RateLimited:
      return rate_limited;
    case Outcome::kCount:
      break;
  }
  return false;
}

RetryPolicy::RetryPolicy(const RetryConfig& config) : config_(config) {
  DSIM_ASSERT(config.max_attempts >= 1, "at least one attempt");
  DSIM_ASSERT(config.deadline >= sim::Duration::zero(), "a deadline cannot be negative");
  if (config.budget.enabled) budget_ = std::make_unique<RetryBudget>(config.budget);
}

void RetryPolicy::on_request(sim::Time now) {
  if (budget_) budget_->deposit(now);
}

RetryDecision RetryPolicy::decide(Outcome outcome, std::uint32_t tries, sim::Time now,
                                  sim::Time deadline, Backoff& backoff, sim::Rng& rng) {
  DSIM_ASSERT(tries >= 1, "a decision follows a try");
  if (!config_.retry_on.retries(outcome)) return {.reason = GiveUpReason::NotRetryable};
  if (tries >= static_cast<std::uint32_t>(config_.max_attempts))
    return {.reason = GiveUpReason::AttemptsExhausted};
  const sim::Duration wait = backoff.next(tries, rng);  // retry number `tries`
  if (deadline != sim::Time::max() && (deadline <= now || wait >= deadline - now))
    return {.reason = GiveUpReason::Deadline};
  if (budget_ && !budget_->try_withdraw(now)) return {.reason = GiveUpReason::Budget};
  return {.retry = true, .wait = wait};
}

void RetryPolicy::reset() {
  if (budget_) budget_->reset();
}

}  // namespace models
