// A join: waits for `parts` messages of the same job, then publishes one merged message. Burns'
// join, the barrier of coordinated batch processing ("Designing Distributed Systems", ch. 12):
// the outputs of parallel branches (a copier's or a splitter's) gathered before the next step.
//
// Semantics: the shared stage runner consumes `queue` (models/pipelines/stage_runner.hpp) and
// the batch barrier holds the parts by job (models/pipelines/batch_barrier.hpp: distinct
// messages, duplicates counted once, timeout with release or fail). A released batch becomes one
// message, a new part of the job with the key of the batch's first part, published to `output`;
// once stored, every part is finished and acknowledged. The job's end-to-end latency therefore
// includes the slowest branch: the join's output starts when its last part arrives, so a job
// through k parallel branches takes the maximum of their times.
//
// Differences from Burns: the merged message carries only a key (his join merges the parts'
// contents); the barrier's differences are in batch_barrier.hpp.
#pragma once

#include <memory>

#include "models/pipelines/batch_barrier.hpp"

namespace models {

struct JoinConfig {
  static constexpr const char* kSummary =
      "Pipeline stage (a barrier): holds messages until `parts` distinct ones of the same job "
      "have arrived, then publishes one merged message and acknowledges them; after `timeout`, "
      "releases what arrived or fails the job (on_timeout).";

  QueueConsumerConfig input;  // queue, wait, receive_grace, min_poll_interval
  ComponentRef output;
  BarrierConfig barrier;  // parts, timeout, on_timeout
  StageConfig stage = barrier_stage_config();

  template <class V>
  void describe(V& v) {
    input.describe(v);
    v.field("output", output, "the queue merged messages go to (required)");
    barrier.describe(v);
    stage.describe(v);
  }
};

class Join final : public BarrierStage {
 public:
  using Config = JoinConfig;
  static Wiring wiring(const Config& c) {
    return stage_wiring({{"queue", c.input.queue}}, {StageOutput{c.output}}, "output");
  }
  static FigureDocs figure_docs() { return barrier_figure_docs() + runner_figure_docs(); }
  static SeriesDocs series_docs() { return barrier_series_docs(); }
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  Join(const Config& config, StagePeers peers)
      : BarrierStage(config.stage, config.barrier, std::move(peers)) {}

 private:
  void release(sim::Node& node, InputId first, std::uint32_t count, bool complete) override;
};

}  // namespace models
