// A sharder of a queue: each input goes to one output queue chosen by its key. Burns' sharded
// queue / shard router in an event-driven pipeline ("Designing Distributed Systems", ch. 11;
// ch. 6 for sharding): the items of a key always meet the same downstream queue (per-key order
// and locality, as a Kafka partitioner).
//
// Semantics: the shared stage runner (models/pipelines/stage_runner.hpp) consumes `queue`; an
// input with key k is published, with its key, to output key_hash(k) mod (number of outputs):
// the modulo sharding function of models/sharding/shard_function.hpp (SplitMix64 finalizer of
// the key), as a new part of its job; acknowledged once stored.
//
// Differences from Burns and Kafka: the function is fixed (modulo; no consistent hashing, so
// adding an output moves most keys), and outputs are whole queues, not partitions of one topic.
// Named queue_sharder: `sharder` is the request sharder of models/sharding/.
#pragma once

#include <memory>
#include <vector>

#include "models/pipelines/stage_runner.hpp"
#include "models/sharding/shard_function.hpp"

namespace models {

struct QueueSharderConfig {
  static constexpr const char* kSummary =
      "Pipeline stage: each input goes to output hash(key) mod outputs (the modulo sharding "
      "function), so that a key always meets the same queue; acknowledged once stored.";

  QueueConsumerConfig input;  // queue, wait, receive_grace, min_poll_interval
  std::vector<StageOutput> outputs{StageOutput{}};
  StageConfig stage;  // concurrency, service_time, publish

  template <class V>
  void describe(V& v) {
    input.describe(v);
    v.list("outputs", outputs, "the output queues (the shards), [{\"queue\": name}, ...]");
    stage.describe(v);
  }
};

class QueueSharder final : public StageRunner {
 public:
  using Config = QueueSharderConfig;
  static Wiring wiring(const Config& c) {
    return stage_wiring({{"queue", c.input.queue}}, c.outputs);
  }
  static std::vector<ConfigProblem> check(const Config& c) { return check_outputs(c.outputs); }
  static FigureDocs figure_docs();
  static SeriesDocs series_docs() { return runner_series_docs(); }
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  QueueSharder(const Config& config, StagePeers peers);

 private:
  void on_input(sim::Node& node, InputId input) override;
  void stage_figures(Figures& out) const override;

  ShardFunction function_;
  std::vector<std::uint64_t> routed_;  // per output, measured
};

}  // namespace models
