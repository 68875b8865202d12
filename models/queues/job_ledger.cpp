#include "models/queues/job_ledger.hpp"

#include "sim/assert.hpp"

namespace models {

JobLedger& JobLedger::of(BuildContext& ctx) {
  DSIM_ASSERT(ctx.invariants != nullptr, "the job ledger lives with the run's invariants");
  return ctx.invariants->ghost<JobLedger>(kGhostKey);
}

JobLedger::Entry* JobLedger::entry(std::uint64_t id) {
  return id == 0 || id > entries_.size() ? nullptr : &entries_[id - 1];
}

const JobLedger::Entry* JobLedger::entry(std::uint64_t id) const {
  return id == 0 || id > entries_.size() ? nullptr : &entries_[id - 1];
}

std::uint64_t JobLedger::add(Entry e) {
  if (entries_.size() >= kMaxMessages) {
    ++untracked_;
    return 0;
  }
  entries_.push_back(e);
  return entries_.size();
}

std::uint64_t JobLedger::open_job(sim::Time born, std::uint32_t group, sim::NodeId origin,
                                  bool measured) {
  const bool counted = measured && origin != sim::kNoNode;
  const std::uint64_t id = add({.job = entries_.size() + 1,
                                .born = born,
                                .pending = 1,
                                .group = group,
                                .origin = counted ? origin : sim::kNoNode});
  if (id == 0) return 0;
  ++jobs_opened_;
  if (counted) {
    if (origin >= unfinished_.size()) unfinished_.resize(origin + 1);  // once per producer
    ++unfinished_[origin];
  }
  return id;
}

std::uint64_t JobLedger::open_part(std::uint64_t parent) {
  const Entry* p = entry(parent);
  if (p == nullptr) {
    ++untracked_;
    return 0;
  }
  const std::uint64_t job = p->job;
  const std::uint64_t id = add({.job = job});
  if (id != 0) ++entries_[job - 1].pending;
  return id;
}

void JobLedger::delivered(std::uint64_t message) {
  if (Entry* e = entry(message)) ++entries_[e->job - 1].deliveries;
}

bool JobLedger::finish(std::uint64_t message, sim::Time now, Outcome outcome,
                       RequestRecorder& recorder) {
  Entry* e = entry(message);
  if (e == nullptr) return true;  // untracked: nothing to tell
  if (e->finished) return false;
  Entry& job = entries_[e->job - 1];
  if (job.outcome == Outcome::Ok) job.outcome = outcome;
  settle(*e, now, recorder);
  return true;
}

void JobLedger::discard(std::uint64_t message, sim::Time now, RequestRecorder& recorder) {
  Entry* e = entry(message);
  if (e == nullptr || e->finished) return;
  settle(*e, now, recorder);
}

void JobLedger::settle(Entry& e, sim::Time now, RequestRecorder& recorder) {
  e.finished = true;
  Entry& job = entries_[e.job - 1];
  DSIM_ASSERT(job.pending > 0, "a job finished more messages than it had");
  if (--job.pending > 0 || job.ended) return;
  job.ended = true;
  ++jobs_ended_;
  if (job.origin != sim::kNoNode) --unfinished_[job.origin];
  recorder.record(job.born, now, job.outcome, std::max<std::uint32_t>(job.deliveries, 1),
                  job.group);
}

bool JobLedger::finished(std::uint64_t message) const {
  const Entry* e = entry(message);
  return e != nullptr && e->finished;
}

std::uint64_t JobLedger::job_of(std::uint64_t message) const {
  const Entry* e = entry(message);
  return e == nullptr ? 0 : e->job;
}

sim::Time JobLedger::born(std::uint64_t message) const {
  const Entry* e = entry(message);
  return e == nullptr ? sim::Time::zero() : entries_[e->job - 1].born;
}

}  // namespace models
