// A pool of workers consuming a queue: Burns' work queue system, at the end of a pipeline. Each
// node of the component is one worker with `concurrency` slots (a pod with that many threads);
// an autoscaler (models/queues/autoscaler.hpp) may change how many of them serve.
//
// Semantics, in the order a message meets them:
// - A serving worker keeps its slots busy through the shared queue consumer
//   (models/queues/queue_consumer.hpp: long-polling receives, acks, at-least-once delivery).
// - A delivered message takes a draw of `service_time`, times the node's slowdown.
// - Then it fails if its key is below `poison_keys` (a poison message: it fails every time) or
//   with probability `failure_probability` (a transient failure); a failed message is returned
//   (`on_failure` nack: visible again at once) or abandoned (visibility timeout). The queue
//   dead-letters it after its max_receives.
// - Otherwise it took effect: the worker acknowledges it and finishes it in the run's job
//   ledger (models/queues/job_ledger.hpp), which records the job's end-to-end latency when it
//   was the job's last message. A message finished before (a redelivery after its visibility
//   timeout ran out, or a publish retried) is a duplicate: counted; a non-idempotent worker
//   (`idempotent` false) also records it as a duplicate effect (RequestRecorder).
// - Scaling (the scale protocol): a WorkerScale{desired} makes replica i serve while
//   i < desired. A worker that starts serving first waits `startup_delay` (pulling an image,
//   warming up), then receives; one that stops serving drains: it finishes what it holds and
//   receives no more. The first `initial_workers` (0: all) serve from the start of the run,
//   without a start-up delay (the pool was running before). WorkerLoadQuery is answered with the
//   mean busy slots / slots since the previous query, and whether the worker serves.
// - A crash loses what the worker holds (those messages reappear at the queue when their
//   visibility timeout runs out) and its start-up; on restart it serves again if the last
//   WorkerScale it saw (kept: the orchestrator's desired state survives) includes it, after
//   its start-up delay.
//
// Reference: a Kubernetes Deployment of queue workers (Burns, "Designing Distributed Systems",
// ch. 10, work queue systems; the SQS consumer loop). Differences: a worker is a node that
// exists all along and only serves or not (no pod scheduling, no node capacity); the start-up
// delay is the whole of a pod's readiness (no readiness probe); a draining worker is never
// killed after a grace period.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/queues/job_ledger.hpp"
#include "models/queues/queue_consumer.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/slot_table.hpp"
#include "sim/distribution.hpp"

namespace models {

enum class FailureAction : std::uint8_t { Nack, Abandon };

inline constexpr std::array<Choice<FailureAction>, 2> kFailureActionChoices{{
    {"nack", FailureAction::Nack, "return the message: visible again at once"},
    {"abandon", FailureAction::Abandon,
     "leave it: visible again when its visibility timeout runs out"},
}};

struct WorkerPoolConfig {
  static constexpr const char* kSummary =
      "Workers consuming a queue (each node is a worker with `concurrency` slots): each message "
      "takes `service_time`, fails if poison or with `failure_probability`, and is acknowledged "
      "otherwise, which ends its job (end-to-end latency in the report). An autoscaler may set "
      "how many workers serve; a new one serves after `startup_delay`.";

  QueueConsumerConfig consumer;  // queue, wait, receive_grace, min_poll_interval
  std::int64_t concurrency = 1;
  sim::Distribution service_time = sim::Distribution::exponential(1e8);
  Probability failure_probability{0};
  std::int64_t poison_keys = 0;
  FailureAction on_failure = FailureAction::Nack;
  bool idempotent = true;
  sim::Distribution startup_delay = sim::Distribution::constant(0);
  std::int64_t initial_workers = 0;

  template <class V>
  void describe(V& v) {
    consumer.describe(v);
    v.field("concurrency", concurrency, "messages one worker handles at once", Limits{1, 1e6});
    v.field("service_time", service_time, "how long one message takes (ns distribution)");
    v.field("failure_probability", failure_probability,
            "chance that handling a message fails (a transient failure)");
    v.field("poison_keys", poison_keys,
            "messages whose key is below this fail every time (poison messages)", Limits{0, 1e18});
    v.field("on_failure", on_failure, "what a worker does with a message it failed",
            kFailureActionChoices);
    v.field("idempotent", idempotent,
            "handling a message twice is harmless; false: a duplicate is a duplicate effect");
    v.field("startup_delay", startup_delay,
            "from being scaled up to taking messages (ns distribution)");
    v.field("initial_workers", initial_workers,
            "workers serving from the start, before any autoscaler speaks (0: all)",
            Limits{0, 1e6});
  }
};

class WorkerPool final : public Model, private ConsumerListener {
 public:
  using Config = WorkerPoolConfig;
  static Wiring wiring(const Config& c) {
    return {.serves = {Protocol::Scale}, .calls = {{"queue", c.consumer.queue, {Protocol::Queue}}}};
  }
  static FigureDocs figure_docs();
  static SeriesDocs series_docs();
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  enum TimerKind : std::uint32_t { kProcessed = 1, kStarted = 2, kConsumer = 3 };

  WorkerPool(const Config& config, sim::Node& node, std::vector<sim::NodeId> queue,
             std::size_t replica, std::size_t workers, JobLedger& ledger, RequestRecorder& recorder,
             sim::Time measure_from, sim::Time measure_to);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  void sample(sim::Time now, SeriesSample& out) const override;

  bool serving() const { return state_ == State::Serving; }
  bool starting() const { return state_ == State::Starting; }
  std::size_t busy() const { return consumer_.in_hand(); }

 private:
  enum class State : std::uint8_t { Off, Starting, Serving };
  void on_delivery(sim::Node& node, const Delivery& delivery) override;
  void processed(sim::Node& node, std::uint64_t id);
  /// Serve or stop according to the desired count.
  void apply_desired(sim::Node& node);
  void set_state(sim::Node& node, State state);
  /// Busy slot-seconds and serving seconds so far (for load replies and figures).
  void accumulate(sim::Time now);

  Config config_;
  QueueConsumer consumer_;
  std::size_t replica_;
  JobLedger& ledger_;
  RequestRecorder& recorder_;
  sim::Rng service_rng_, failure_rng_, startup_rng_;
  sim::Time measure_from_, measure_to_;
  State state_ = State::Off;
  bool started_before_ = false;
  std::uint32_t desired_;
  std::uint64_t epoch_ = 0;
  sim::TimerId startup_timer_;
  SlotTable<Delivery> held_;
  // Integrals over true time: busy slots, and serving; from the start, and since the last query.
  sim::Time integrated_to_;
  double busy_area_ = 0, measured_busy_area_ = 0, measured_serving_area_ = 0;
  double query_busy_area_ = 0;
  sim::Time query_at_;
  std::uint64_t processed_ = 0, failed_ = 0, poison_ = 0, duplicates_ = 0, duplicate_effects_ = 0,
                scaled_up_ = 0, scaled_down_ = 0;
};

}  // namespace models
