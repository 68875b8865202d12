// A reduce: the join's barrier, then an aggregate of the batch. Burns' reduce in coordinated
// batch processing ("Designing Distributed Systems", ch. 12: count, sum, histogram over the
// parts of a piece of work, the reduce of a map/reduce).
//
// Semantics: the shared stage runner consumes `queue` (models/pipelines/stage_runner.hpp) and
// the batch barrier holds the parts by job (models/pipelines/batch_barrier.hpp: `parts` distinct
// messages, or what arrived by `timeout` with on_timeout release; "fail" fails the job). The
// released batch is reduced over its parts' keys:
// - count: one message whose key is the number of parts;
// - sum: one message whose key is the sum of the keys (modulo 2^64);
// - histogram: keys in `buckets` equal-width buckets over [0, max_key) (bucket
//   floor(key * buckets / max_key); keys >= max_key go to the last bucket): one message per
//   non-empty bucket, whose key is the bucket's index.
// The messages are new parts of the job, published to `output`; once stored, every part is
// finished and acknowledged. The totals are kept in figures: reduced_batches, keys_reduced,
// sum_total, histogram[i] (keys per bucket over all batches; histogram only).
//
// Differences from Burns: the values reduced are the keys (a message has no other content); the
// count of a batch is fixed by `parts` (his reduce waits for the output of a known set of
// shards); the barrier's differences are in batch_barrier.hpp.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "models/pipelines/batch_barrier.hpp"

namespace models {

enum class ReduceOperation : std::uint8_t { Count, Sum, Histogram };

inline constexpr std::array<Choice<ReduceOperation>, 3> kReduceOperationChoices{{
    {"count", ReduceOperation::Count, "one message: key = the number of parts"},
    {"sum", ReduceOperation::Sum, "one message: key = the sum of the parts' keys"},
    {"histogram", ReduceOperation::Histogram,
     "one message per non-empty bucket of the keys: key = the bucket's index"},
}};

struct ReduceConfig {
  static constexpr const char* kSummary =
      "Pipeline stage (a barrier): holds messages until `parts` of the same job have arrived, "
      "then publishes their count, the sum of their keys, or a histogram of their keys (one "
      "message per non-empty bucket); the totals are in its figures.";

  QueueConsumerConfig input;  // queue, wait, receive_grace, min_poll_interval
  ComponentRef output;
  BarrierConfig barrier;  // parts, timeout, on_timeout
  ReduceOperation operation = ReduceOperation::Count;
  std::int64_t buckets = 10;
  std::int64_t max_key = 1000;
  StageConfig stage = barrier_stage_config();

  template <class V>
  void describe(V& v) {
    input.describe(v);
    v.field("output", output, "the queue the aggregates go to (required)");
    barrier.describe(v);
    v.field("operation", operation, "what a batch is reduced to", kReduceOperationChoices);
    v.field("buckets", buckets, "histogram: equal-width buckets over [0, max_key)",
            Limits{1, 1000});
    v.field("max_key", max_key, "histogram: the end of the last bucket (larger keys go there)",
            Limits{1, 1e18});
    stage.describe(v);
  }
};

class Reduce final : public BarrierStage {
 public:
  using Config = ReduceConfig;
  static Wiring wiring(const Config& c) {
    return stage_wiring({{"queue", c.input.queue}}, {StageOutput{c.output}}, "output");
  }
  static FigureDocs figure_docs();
  static SeriesDocs series_docs() { return barrier_series_docs(); }
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  Reduce(const Config& config, StagePeers peers);

  /// The histogram bucket of `key`.
  std::uint32_t bucket_of(std::uint64_t key) const;

 private:
  void release(sim::Node& node, InputId first, std::uint32_t count, bool complete) override;
  void barrier_figures(Figures& out) const override;

  Config config_;
  std::vector<std::uint64_t> batch_buckets_;  // the batch being reduced (reused)
  std::vector<std::uint64_t> histogram_;      // measured totals
  std::uint64_t reduced_ = 0, keys_ = 0;
  double sum_total_ = 0;
};

}  // namespace models
