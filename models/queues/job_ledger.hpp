// The run's record of jobs and of the messages they become on their way through queues and
// pipeline stages: what measures a job's end-to-end latency, and what tells a duplicate.
//
// A producer opens a job (its first message) and publishes it; a stage that turns a message
// into others (a copy per output, the parts of a split, a join's merged batch) opens each new
// message as a part of the same job; a consumer that is done with a message finishes it: the
// end of the pipeline processed it, a stage emitted its successors, a filter dropped it, or the
// queue dead-lettered it (a failure). A job ends when none of its messages is left: it is
// recorded then (RequestRecorder::record: started when the producer made it, its outcome the
// first failure of one of its messages or Ok, its attempts the deliveries of all its
// messages), once.
//
// Identity: a message's id (RpcRequest.request_id when published, QueueDelivery.message when
// received) is its index here, dense from 1. A retried publish stores the same id twice; a
// message delivered again after its visibility timeout keeps its id: finishing an id a second
// time is a duplicate (finish() says so), which a non-idempotent consumer counts as a duplicate
// effect.
//
// Correlation: a join needs to know which job a part belongs to. A real message carries a
// correlation id; dsim's RpcRequest has no room for one, so it is kept here (job_of()) and is
// the only thing a model may read from the ledger to decide what to do.
//
// Ghost state otherwise: shared by every model of a run (Invariants::ghost, key kGhostKey), it
// changes nothing that happens. Memory: 40 bytes per message, at most kMaxMessages messages
// (640 MiB); past that, new messages are not tracked (id 0: never recorded, counted as
// untracked()), which `dsim models open_loop_client` states.
#pragma once

#include <cstdint>
#include <vector>

#include "models/shared/model.hpp"
#include "models/shared/request_recorder.hpp"
#include "models/shared/rpc.hpp"
#include "sim/time.hpp"

namespace models {

class JobLedger {
 public:
  static constexpr const char* kGhostKey = "models::JobLedger";
  static constexpr std::uint64_t kMaxMessages = std::uint64_t{1} << 24;

  /// The run's ledger (the harness and the loader always give a model the run's Invariants).
  static JobLedger& of(BuildContext& ctx);

  /// Producer node `origin` made a new job at true time `born`, recorded in recorder group
  /// `group`; a `measured` job (born in the measured interval) counts in unfinished(origin)
  /// until it ends. Its first message's id (0 when the ledger is full).
  std::uint64_t open_job(sim::Time born, std::uint32_t group, sim::NodeId origin = sim::kNoNode,
                         bool measured = false);
  /// A new message of `parent`'s job (a copy, a part, a merged batch): its id (0 when the
  /// ledger is full or the parent is untracked).
  std::uint64_t open_part(std::uint64_t parent);
  /// The message was delivered to a consumer once more (an attempt of its job).
  void delivered(std::uint64_t message);
  /// The consumer is done with the message, with `outcome`. Returns false if it had been
  /// finished before (a duplicate); a job whose last message this was is recorded.
  bool finish(std::uint64_t message, sim::Time now, Outcome outcome, RequestRecorder& recorder);
  /// The message never existed after all (a stage's publish that failed after its retries):
  /// it leaves its job's unfinished messages without changing the job's outcome, and ends the
  /// job (recorded) if it was the last. Marked finished, so that a copy the queue did store
  /// (an attempt whose answer was lost) is a duplicate when finished later. No effect on a
  /// finished or untracked message.
  void discard(std::uint64_t message, sim::Time now, RequestRecorder& recorder);
  /// Whether the message was finished (by any consumer).
  bool finished(std::uint64_t message) const;

  /// The job a message belongs to (its first message's id), 0 for an untracked one.
  std::uint64_t job_of(std::uint64_t message) const;
  /// True time the message's job was made.
  sim::Time born(std::uint64_t message) const;
  /// Messages that could not be tracked (the ledger was full).
  std::uint64_t untracked() const { return untracked_; }
  /// Measured jobs of producer node `origin` not ended yet: still queued or in progress, or
  /// stuck (a poison message redelivered forever). The report's latency and availability
  /// cover ended jobs only; this says what they leave out.
  std::uint64_t unfinished(sim::NodeId origin) const {
    return origin < unfinished_.size() ? unfinished_[origin] : 0;
  }
  /// Jobs opened and jobs recorded so far.
  std::uint64_t jobs_opened() const { return jobs_opened_; }
  std::uint64_t jobs_ended() const { return jobs_ended_; }

 private:
  struct Entry {
    std::uint64_t job = 0;              // the job's first message (itself for the first)
    sim::Time born;                     // the job's (first message only)
    std::uint32_t pending = 0;          // first message only: the job's unfinished messages
    std::uint32_t deliveries = 0;       // first message only: of all the job's messages
    std::uint32_t group = 0;            // first message only
    sim::NodeId origin = sim::kNoNode;  // first message only: its producer, if measured
    Outcome outcome = Outcome::Ok;      // first message only: Ok, or the first failure
    bool finished = false;
    bool ended = false;  // first message only: recorded
  };
  Entry* entry(std::uint64_t id);
  const Entry* entry(std::uint64_t id) const;
  std::uint64_t add(Entry e);
  /// The message is done (finished or discarded): its job ends if it was the last.
  void settle(Entry& e, sim::Time now, RequestRecorder& recorder);

  std::vector<Entry> entries_;             // entries_[id - 1]
  std::vector<std::uint64_t> unfinished_;  // by producer node
  std::uint64_t untracked_ = 0, jobs_opened_ = 0, jobs_ended_ = 0;
};

}  // namespace models
