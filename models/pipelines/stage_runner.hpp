// The part every pipeline stage is made of (Burns, "Designing Distributed Systems", ch. 11-12:
// event-driven batch processing): it consumes one or more input queues and publishes to output
// queues, at least once. A concrete stage (copier, filter, splitter, sharder, merger, join,
// reduce) only decides what an input becomes.
//
// Semantics, in the order an input meets them:
// - Each input queue has a shared queue consumer (models/queues/queue_consumer.hpp) with
//   `concurrency` slots: a message occupies its slot from its delivery until it is acknowledged
//   or returned. Deliveries are routed to their consumer by the queue node that sent them (call
//   ids are unique per consumer only).
// - A delivered input takes a draw of `service_time` (default 0: none), times the node's
//   slowdown; then the stage decides: successors -- a list of (output, key), possibly empty (a
//   filter dropped it) -- or to hold it (a barrier, which later emits a batch of held inputs).
// - Emitting: each successor is opened as a new part of the input's job in the run's job ledger
//   (models/queues/job_ledger.hpp; a batch's parts are of one job: the first input's) and
//   published to its output through the shared Caller (the outputs are its shards; the publish
//   carries the part's id; timeouts and retries per `publish`). When every publish of the batch
//   was answered Ok, each input is finished Ok in the ledger and acknowledged. No successors: the
//   inputs are finished Ok and acknowledged at once.
// - A publish that fails after its retries is discarded from the ledger (JobLedger::discard: the
//   part never existed) and, once the batch's other publishes have ended, its inputs are
//   returned (nack: delivered again at once). The successors already published stay in their
//   queues and are published again when the input comes back: duplicates downstream, as in any
//   at-least-once pipeline (counted: republished).
// - An input finished before (a redelivery, a publish stored twice) is handled again and counted
//   (duplicates): a stage has no memory of what it emitted.
// - A crash loses what the stage holds: the inputs reappear at their queue when their
//   visibility timeout runs out; publishes without an answer are left open in the ledger (the
//   queue has most likely stored them; one lost with the crash leaves its job unrecorded, as
//   a client's abandoned request).
//
// Differences from Burns' stages: a stage is a set of replicas of one container, not a pod with
// a sidecar; a message carries a 64-bit key and nothing else; publishing is not transactional
// with the acknowledgement (there is no exactly-once mode, as Kafka's transactions give).
//
// Timer kinds: kServed, the Caller's (kPublish ..), the stage's own from kStageTimer, and the
// consumers' from kConsumerTimers (QueueConsumer::kTimerKinds per input).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "models/queues/job_ledger.hpp"
#include "models/queues/queue_consumer.hpp"
#include "models/shared/caller.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/slot_table.hpp"
#include "sim/distribution.hpp"

namespace models {

/// One output queue of a stage: an item of its "outputs" list ({"queue": "name"}).
struct StageOutput {
  ComponentRef queue;

  template <class V>
  void describe(V& v) {
    v.field("queue", queue, "an output queue (required)");
  }
};

/// How a stage publishes (the shared Caller's settings; its targets are the outputs).
struct StagePublishConfig {
  sim::Duration timeout = sim::Duration::nanoseconds(1'000'000'000);
  bool idempotent = true;
  RetryConfig retry = [] {
    RetryConfig r;
    r.max_attempts = 3;
    return r;
  }();

  template <class V>
  void describe(V& v) {
    v.field("timeout", timeout, "per-try timeout of a publish", Limits{0});
    v.field("idempotent", idempotent,
            "false: a publish stored twice (a retry after a lost answer) is a duplicate effect");
    v.section("retry", retry, "retries of a publish (3 attempts by default)");
  }
  CallerConfig caller() const;
};

/// What every stage has besides its queues.
struct StageConfig {
  std::int64_t concurrency = 16;
  sim::Distribution service_time = sim::Distribution::constant(0);
  StagePublishConfig publish;

  template <class V>
  void describe(V& v, double max_concurrency = 1e6) {
    v.field("concurrency", concurrency,
            "messages a stage replica holds at once, per input queue (in service, publishing "
            "or held)",
            Limits{1, max_concurrency});
    v.field("service_time", service_time, "how long handling one input takes (ns distribution)");
    v.section("publish", publish, "publishing to the outputs: timeout and retries");
  }
};

/// One successor of an input: a message with `key` published to output `output`.
struct Successor {
  std::uint32_t output = 0;
  std::uint64_t key = 0;
};

/// Everything a stage replica is built from (BuildContext resolved).
struct StagePeers {
  sim::Node& node;
  std::vector<QueueConsumerConfig> inputs;
  std::vector<std::vector<sim::NodeId>> input_nodes, output_nodes;
  std::size_t replica;
  JobLedger& ledger;
  RequestRecorder& recorder;
  sim::Time measure_from, measure_to;

  /// Resolves `inputs` and `outputs` for replica `replica` of ctx's component.
  static StagePeers resolve(BuildContext& ctx, std::size_t replica,
                            std::vector<QueueConsumerConfig> inputs,
                            const std::vector<StageOutput>& outputs);
};

/// The wiring of a stage: it serves nothing, speaks queue to each input (`input_fields`: their
/// paths) and rpc to each output ("outputs/<i>/queue", or `single_output` if given).
Wiring stage_wiring(std::vector<std::pair<std::string, ComponentRef>> inputs,
                    const std::vector<StageOutput>& outputs, const char* single_output = nullptr);

/// Problems of an "outputs" list: none, or more than kMaxOutputs.
std::vector<ConfigProblem> check_outputs(const std::vector<StageOutput>& outputs);
inline constexpr std::size_t kMaxOutputs = 1024;

class StageRunner : public Model, private ConsumerListener, private CallerListener {
 public:
  enum TimerKind : std::uint32_t {
    kServed = 1,
    kPublish = 2,
    kStageTimer = 8,
    kConsumerTimers = 16
  };
  static_assert(kPublish + Caller::kTimerKinds <= kStageTimer);

  StageRunner(const StageConfig& config, StagePeers peers);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const final;
  void sample(sim::Time now, SeriesSample& out) const final;

  /// The runner's figures (the consumer's, the caller's, its own); a stage adds its own first.
  static FigureDocs runner_figure_docs();
  static SeriesDocs runner_series_docs();

  /// Messages in hand (in service, publishing or held).
  std::size_t in_hand() const { return inputs_.size(); }

 protected:
  using InputId = SlotTable<int>::Id;

  /// The stage's decision on an input, after its service time: emit() it, drop() it, or hold
  /// it (keep its id, and later emit() or finish() it with other held inputs chained to it).
  virtual void on_input(sim::Node& node, InputId input) = 0;
  virtual void on_stage_timer(sim::Node& /*node*/, sim::TimerTag /*tag*/) {}
  virtual void on_stage_crash() {}
  virtual void stage_figures(Figures& /*out*/) const {}
  virtual void stage_sample(SeriesSample& /*out*/) const {}

  const QueueDelivery& message(InputId input) const;
  /// Which of the stage's input queues (in the order given) delivered it.
  std::uint32_t input_of(InputId input) const;
  /// Publishes `successors` as parts of `first`'s job; when all are stored, finishes (Ok) and
  /// acknowledges `first` and every input chained to it; if one fails, returns them all.
  void emit(sim::Node& node, InputId first, std::span<const Successor> successors);
  /// Finishes `first` and the inputs chained to it with `outcome` and acknowledges them.
  void finish(sim::Node& node, InputId first, Outcome outcome);
  /// Makes `next` (not chained yet) the input after `last` (the end of a chain).
  void chain(InputId last, InputId next);
  InputId next_in_chain(InputId input) const;
  /// `newer` is a later delivery of the message of `held`: `held` takes its delivery (only the
  /// latest receipt counts at the queue); the older delivery's slot is freed (nothing sent).
  void supersede(sim::Node& node, InputId held, InputId newer);

  /// A reusable list for building successors (no allocation once grown).
  std::vector<Successor>& scratch() {
    scratch_.clear();
    return scratch_;
  }
  bool measured(const sim::Node& node) const { return node.true_now() >= measure_from_; }
  std::size_t outputs() const { return outputs_; }
  JobLedger& ledger() { return ledger_; }
  RequestRecorder& recorder() { return recorder_; }

 private:
  struct Input {
    Delivery delivery;
    std::uint32_t consumer = 0;
    InputId next = 0;  // the next input of its batch (0: the last)
  };
  struct Batch {
    InputId first = 0;
    std::uint32_t pending = 0;    // publishes without an outcome (+1 while publishing)
    std::uint32_t published = 0;  // stored Ok
    bool failed = false;
  };
  struct Publish {
    SlotTable<int>::Id batch = 0;
    std::uint64_t part = 0;
  };

  void on_delivery(sim::Node& node, const Delivery& delivery) override;
  void on_call_done(sim::Node& node, const CallResult& result) override;
  /// One publish of the batch ended (or its publishing loop did): settle it if it was the last.
  void batch_step(sim::Node& node, SlotTable<int>::Id batch);
  void return_inputs(sim::Node& node, InputId first);
  QueueConsumer& consumer_of(sim::NodeId queue_node);

  StageConfig config_;
  std::vector<std::unique_ptr<QueueConsumer>> consumers_;
  std::vector<std::pair<sim::NodeId, std::uint32_t>> consumer_by_node_;  // sorted by node
  std::size_t outputs_;
  Caller caller_;
  JobLedger& ledger_;
  RequestRecorder& recorder_;
  sim::Rng service_rng_;
  sim::Time measure_from_;
  SlotTable<Input> inputs_;
  SlotTable<Batch> batches_;
  SlotTable<Publish> publishes_;
  std::vector<Successor> scratch_;
  std::uint64_t published_ = 0, publish_failures_ = 0, returned_ = 0, republished_ = 0,
                duplicates_ = 0, finished_ = 0;
};

}  // namespace models
