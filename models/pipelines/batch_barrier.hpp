// The barrier of the coordinated batch stages (join, reduce): Burns' coordinated batch
// processing ("Designing Distributed Systems", ch. 12): wait until every part of a piece of work
// has arrived, then handle them together.
//
// Semantics, in the order a part meets them:
// - Inputs are grouped by job (JobLedger::job_of: the correlation id a real message would carry,
//   models/queues/job_ledger.hpp). A held input stays unacknowledged (it occupies a consumer
//   slot, hence the large default `concurrency`), so that a crash loses nothing: the queue
//   delivers the parts again.
// - A part whose message is already held (the queue delivered it again: its visibility timeout
//   ran out) does not count twice: it takes the place of the older delivery (only the latest
//   receipt is honoured by the queue), counted duplicate_parts.
// - When `parts` distinct messages of a job are held, the batch is released (the stage emits
//   it: one merged message, an aggregate) and, once the stage's publishes are stored, all its
//   parts are finished and acknowledged.
// - `timeout` after a job's first part (on the node's clock) without completion: on_timeout
//   "release" emits what arrived (counted incomplete_batches), "fail" finishes the held parts
//   with Outcome::Error and acknowledges them (the job fails; failed_batches).
// - A message of an untracked job (the ledger was full) is released alone, as incomplete.
// - A crash forgets every batch (their parts reappear at the queue after their visibility
//   timeout and start again).
//
// Differences from Burns: a join there knows the parts by an explicit correlation id and its
// count; here the count is fixed (`parts`) for every job. A part that arrives after its job's
// batch was released (a publish stored twice upstream) starts a new batch that can only time
// out: the barrier keeps no memory of released jobs.
#pragma once

#include <array>
#include <cstdint>

#include "models/pipelines/job_index.hpp"
#include "models/pipelines/stage_runner.hpp"

namespace models {

enum class BarrierTimeout : std::uint8_t { Release, Fail };

inline constexpr std::array<Choice<BarrierTimeout>, 2> kBarrierTimeoutChoices{{
    {"release", BarrierTimeout::Release, "emit the parts that arrived (an incomplete batch)"},
    {"fail", BarrierTimeout::Fail, "fail the held parts: the job ends with an error"},
}};

struct BarrierConfig {
  std::int64_t parts = 2;
  sim::Duration timeout = sim::Duration::nanoseconds(10'000'000'000);
  BarrierTimeout on_timeout = BarrierTimeout::Release;

  template <class V>
  void describe(V& v) {
    v.field("parts", parts, "distinct messages of a job that complete its batch", Limits{1, 1e5});
    v.field("timeout", timeout, "how long a job's batch may wait for its parts, from its first",
            Limits{1});
    v.field("on_timeout", on_timeout, "what happens to a batch still incomplete at its timeout",
            kBarrierTimeoutChoices);
  }
};

/// A stage config whose concurrency defaults to 10,000 (held parts occupy slots).
inline StageConfig barrier_stage_config() {
  StageConfig s;
  s.concurrency = 10'000;
  return s;
}

class BarrierStage : public StageRunner {
 public:
  static FigureDocs barrier_figure_docs();
  /// The runner's gauges and the barrier's.
  static SeriesDocs barrier_series_docs();
  std::size_t held() const { return held_; }

 protected:
  BarrierStage(const StageConfig& stage, const BarrierConfig& barrier, StagePeers peers);
  /// The batch `first` (and the inputs chained to it, `count` in all) is released: the stage
  /// emits it. `complete`: all `parts` arrived.
  virtual void release(sim::Node& node, InputId first, std::uint32_t count, bool complete) = 0;

 private:
  struct Group {
    std::uint64_t job = 0;
    InputId first = 0, last = 0;
    std::uint32_t count = 0;
    sim::TimerId timer;
  };
  void on_input(sim::Node& node, InputId input) final;
  void on_stage_timer(sim::Node& node, sim::TimerTag tag) final;
  void on_stage_crash() final;
  void stage_figures(Figures& out) const override;
  void stage_sample(SeriesSample& out) const override;
  /// Removes the group from the barrier; returns it.
  Group take(SlotTable<Group>::Id id);

  BarrierConfig config_;
  SlotTable<Group> groups_;
  JobIndex by_job_;  // job -> group id
  std::size_t held_ = 0;
  std::uint64_t complete_ = 0, incomplete_ = 0, failed_ = 0, duplicate_parts_ = 0;

 protected:
  virtual void barrier_figures(Figures& /*out*/) const {}
};

}  // namespace models
