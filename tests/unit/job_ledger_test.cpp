// The run's job ledger: jobs and their parts, finishing (a second finish is a duplicate), the
// job's outcome (the first failure), its attempts (every delivery of its messages), the record
// made exactly once when the last message is done, and discarded parts (failed publishes).
#include <catch2/catch.hpp>

#include "models/queues/job_ledger.hpp"
#include "tests/test_time.hpp"

using models::JobLedger;
using models::Outcome;
using models::RequestRecorder;

namespace {

RequestRecorder recorder() {
  return RequestRecorder(sim::Time::zero(), at_ms(100'000),
                         sim::Duration::nanoseconds(1'000'000'000));
}

std::size_t index(Outcome o) {
  return static_cast<std::size_t>(o);
}

}  // namespace

TEST_CASE("job ledger: ids are dense from 1, parts belong to their job", "[job_ledger]") {
  JobLedger ledger;
  const auto a = ledger.open_job(at_ms(1), 0);
  const auto b = ledger.open_job(at_ms(2), 0);
  const auto a1 = ledger.open_part(a);
  const auto a11 = ledger.open_part(a1);  // a part of a part: still job a
  CHECK(a == 1);
  CHECK(b == 2);
  CHECK(a1 == 3);
  CHECK(a11 == 4);
  CHECK(ledger.job_of(a1) == a);
  CHECK(ledger.job_of(a11) == a);
  CHECK(ledger.job_of(b) == b);
  CHECK(ledger.born(a11) == at_ms(1));
  CHECK(ledger.job_of(99) == 0);
  CHECK(ledger.open_part(99) == 0);  // an untracked parent
  CHECK(ledger.untracked() == 1);
  CHECK(ledger.jobs_opened() == 2);
}

TEST_CASE("job ledger: a job is recorded once, when its last message is finished", "[job_ledger]") {
  JobLedger ledger;
  RequestRecorder r = recorder();
  const auto job = ledger.open_job(at_ms(10), 0);
  const auto part = ledger.open_part(job);
  CHECK(ledger.finish(job, at_ms(20), Outcome::Ok, r));
  CHECK(r.totals().requests == 0);  // the part is still unfinished
  CHECK(ledger.finish(part, at_ms(35), Outcome::Ok, r));
  CHECK(r.totals().requests == 1);
  CHECK(r.latency().max_ns() == 25'000'000);  // from the job's birth to its last message
  // Finishing again is a duplicate, and records nothing more.
  CHECK_FALSE(ledger.finish(part, at_ms(40), Outcome::Ok, r));
  CHECK_FALSE(ledger.finish(job, at_ms(40), Outcome::Error, r));
  CHECK(ledger.finished(part));
  CHECK(r.totals().requests == 1);
  CHECK(r.totals().succeeded() == 1);  // a duplicate's outcome does not change the job's
  CHECK(ledger.jobs_ended() == 1);
}

TEST_CASE("job ledger: the job's outcome is its first failure", "[job_ledger]") {
  JobLedger ledger;
  RequestRecorder r = recorder();
  const auto job = ledger.open_job(at_ms(0), 0);
  const auto p1 = ledger.open_part(job);
  const auto p2 = ledger.open_part(job);
  ledger.finish(job, at_ms(1), Outcome::Ok, r);
  ledger.finish(p1, at_ms(2), Outcome::Rejected, r);
  ledger.finish(p2, at_ms(3), Outcome::Error, r);
  REQUIRE(r.totals().requests == 1);
  CHECK(r.totals().by_outcome[index(Outcome::Rejected)] == 1);
  CHECK(r.totals().by_outcome[index(Outcome::Error)] == 0);
}

TEST_CASE("job ledger: the job's attempts are the deliveries of all its messages", "[job_ledger]") {
  JobLedger ledger;
  RequestRecorder r = recorder();
  const auto job = ledger.open_job(at_ms(0), 0);
  const auto part = ledger.open_part(job);
  ledger.delivered(job);
  ledger.delivered(job);  // delivered again after its visibility timeout
  ledger.delivered(part);
  ledger.finish(job, at_ms(1), Outcome::Ok, r);
  ledger.finish(part, at_ms(2), Outcome::Ok, r);
  CHECK(r.totals().attempts == 3);
}

TEST_CASE("job ledger: a discarded part leaves its job without changing its outcome",
          "[job_ledger]") {
  JobLedger ledger;
  RequestRecorder r = recorder();
  SECTION("the job goes on with its other messages") {
    const auto job = ledger.open_job(at_ms(0), 0);
    const auto lost = ledger.open_part(job);  // its publish failed
    const auto kept = ledger.open_part(job);
    ledger.discard(lost, at_ms(1), r);
    ledger.finish(job, at_ms(2), Outcome::Ok, r);
    CHECK(r.totals().requests == 0);
    ledger.finish(kept, at_ms(5), Outcome::Ok, r);
    REQUIRE(r.totals().requests == 1);
    CHECK(r.totals().succeeded() == 1);  // the discarded part is no failure
    CHECK(r.latency().max_ns() == 5'000'000);
  }
  SECTION("the last message discarded ends the job, recorded with its outcome") {
    const auto job = ledger.open_job(at_ms(0), 0);
    const auto done = ledger.open_part(job);
    const auto lost = ledger.open_part(job);
    ledger.finish(job, at_ms(1), Outcome::Ok, r);
    ledger.finish(done, at_ms(2), Outcome::Error, r);
    CHECK(r.totals().requests == 0);
    ledger.discard(lost, at_ms(7), r);
    REQUIRE(r.totals().requests == 1);
    CHECK(r.totals().by_outcome[index(Outcome::Error)] == 1);
    CHECK(ledger.jobs_ended() == 1);
  }
  SECTION("a copy of a discarded part finished later is a duplicate and records nothing") {
    const auto job = ledger.open_job(at_ms(0), 0);
    const auto lost = ledger.open_part(job);
    ledger.discard(lost, at_ms(1), r);
    ledger.discard(lost, at_ms(1), r);  // twice: no effect
    CHECK_FALSE(ledger.finish(lost, at_ms(2), Outcome::Error, r));
    CHECK(r.totals().requests == 0);
    ledger.finish(job, at_ms(3), Outcome::Ok, r);
    REQUIRE(r.totals().requests == 1);
    CHECK(r.totals().succeeded() == 1);
  }
}
