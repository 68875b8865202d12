// An open-loop client: requests arrive at a rate of their own, whether or not earlier ones were
// answered (a public API's users). Each client node offers `rate` requests per second: Poisson
// or evenly spaced arrivals, stepped by `schedule` and multiplied by load spikes. Each request
// has a key drawn from `keys` distinct keys (uniformly, Zipf-distributed, or named hot keys with
// fixed shares: `key_popularity`, models/shared/zipf.hpp and hot_keys.hpp), is a write
// (RpcRequest.operation kOpWrite) with probability `write_fraction` and a read (kOpRead)
// otherwise, and goes through a Caller (per-try timeout, a random replica of `target`, optional
// retries and circuit breaker: models/shared/caller.hpp). A write is idempotent unless the
// client says `idempotent: false` (which makes reads non-idempotent too): writing a value to a
// key twice leaves the same state.
//
// Randomness: arrivals come from the node's stream "arrivals", keys from "keys", the read-or-
// write choice from "operations" (drawn only when write_fraction > 0, so that clients without
// writes draw what they drew before the option existed), the replica choice from the node's own
// stream. So the arrival times do not depend on what the servers or the caller draw: variants
// of a scenario see the same arrivals (common random numbers), and the same keys whatever their
// write fraction.
// The rate, its schedule and spikes are offered load in true time: a drifting client clock
// does not change them. A pause holds the arrival that falls due until the client resumes.
// A crash stops the arrivals and abandons the requests in flight; a restart resumes at the rate
// scheduled for that moment (spikes included).
//
// Jobs (`jobs` true: the producer of a work queue or a pipeline, models/queues/): each request
// is a job published to the target queue. The publish goes through the Caller as any request
// (timeouts, retries), but what the report records is the job: it is opened in the run's job
// ledger when it arrives (models/queues/job_ledger.hpp) and recorded when its last message is
// done, with its end-to-end latency; a publish that fails after its retries ends the job with
// that failure at once.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/clients/request_mix.hpp"
#include "models/clients/tenancy.hpp"
#include "models/queues/job_ledger.hpp"
#include "models/shared/arrival_process.hpp"
#include "models/shared/caller.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/zipf.hpp"

namespace models {

/// From `at` (since the start of the run) on, the client's rate is `rate`.
struct RateStep {
  sim::Duration at;
  Rate rate;

  template <class V>
  void describe(V& v) {
    v.field("at", at, "when the rate changes, from the start of the run", Limits{0});
    v.field("rate", rate, "the rate per client node from then on", Limits{0});
  }
};

inline constexpr std::array<Choice<ArrivalKind>, 2> kArrivalChoices{{
    {"poisson", ArrivalKind::Poisson, "independent, exponentially distributed gaps"},
    {"constant", ArrivalKind::Constant, "evenly spaced, 1/rate apart"},
}};

struct OpenLoopClientConfig {
  static constexpr const char* kSummary =
      "Requests arrive at `rate` per client node (Poisson or evenly spaced), whether or not "
      "earlier ones were answered, stepped by `schedule` and scaled by load faults. Each request "
      "calls one random node of `target` and fails with a timeout after `timeout`. Latency is "
      "what the client saw.";

  Rate rate{100};
  ArrivalKind arrivals = ArrivalKind::Poisson;
  std::vector<RateStep> schedule;
  CallerConfig call;  // target, timeout, ..., retry, circuit_breaker
  RequestMix mix;     // keys, key_popularity, zipf_s, hot_keys, write_fraction
  Tenancy tenancy;    // group, tenant_per_node, poison_fraction
  bool jobs = false;

  template <class V>
  void describe(V& v) {
    v.field("rate", rate, "requests per second offered by each client node (> 0)", Limits{1e-9});
    v.field("arrivals", arrivals, "how arrivals are spaced in time", kArrivalChoices);
    v.list("schedule", schedule,
           "rate changes over the run, in time order (may be empty); a spike multiplies them");
    call.describe(v);
    mix.describe(v);
    tenancy.describe(v);
    v.field("jobs", jobs,
            "each request is a job published to the target queue: the report records the job "
            "when its last message is done (end-to-end), not the publish. The run's job ledger "
            "keeps 40 bytes per message, for at most 16.7 million messages (640 MiB); later "
            "ones are not tracked and never recorded");
  }
};

class OpenLoopClient final : public Model, private CallerListener {
 public:
  using Config = OpenLoopClientConfig;
  static constexpr bool kGeneratesLoad = true;
  static Wiring wiring(const Config& c) {
    return {.calls = {{"target", c.call.target, c.call.speaks()}}};
  }
  static FigureDocs figure_docs();
  static std::vector<ConfigProblem> check(const Config& c, std::size_t count);
  /// The most requests per second a node offers: the highest rate of its schedule (load
  /// spikes not counted).
  static double offered_rate(const Config& c);

  /// kCallTimeout is the first of the Caller's Caller::kTimerKinds kinds (3, 4, 5).
  enum TimerKind : std::uint32_t { kArrival = 1, kRateStep = 2, kCallTimeout = 3 };

  /// `ledger`: the run's job ledger when config.jobs (else unused, may be null). `config` and
  /// `keys` (config.mix.picker()) may be shared with the component's other nodes
  /// (BuildContext::shared_config, BuildContext::shared).
  OpenLoopClient(std::shared_ptr<const OpenLoopClientConfig> config,
                 std::shared_ptr<const KeyPicker> keys, sim::Node& node, CallTargets targets,
                 RequestRecorder& recorder, sim::Time measure_from, sim::Time measure_to,
                 std::uint32_t group = 0, JobLedger* ledger = nullptr);
  /// The same with a copy of `config` of its own.
  OpenLoopClient(const OpenLoopClientConfig& config, sim::Node& node,
                 std::vector<sim::NodeId> targets, RequestRecorder& recorder,
                 sim::Time measure_from, sim::Time measure_to, std::uint32_t group = 0,
                 JobLedger* ledger = nullptr)
      : OpenLoopClient(std::make_shared<const OpenLoopClientConfig>(config),
                       std::make_shared<const KeyPicker>(config.mix.picker()), node,
                       std::make_shared<const std::vector<sim::NodeId>>(std::move(targets)),
                       recorder, measure_from, measure_to, group, ledger) {}

  /// The instance for ctx.nodes[replica]; its target's nodes come from ctx.resolve. Throws
  /// std::invalid_argument if the target is empty or has no nodes. Does not attach it.
  static std::unique_ptr<Model> make(const OpenLoopClientConfig& config, BuildContext& ctx,
                                     std::size_t replica);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  /// A load spike: the rate (whatever the schedule says) is multiplied by `factor` (> 0) from
  /// now on. Factors compose: a spike of x3 is undone by x(1/3).
  bool scale_load(double factor) override;
  /// The circuit breaker's timeline, if the caller has a breaker.
  std::vector<const StateTimeline*> state_timelines() const override {
    return caller_.state_timelines();
  }

  /// The rate offered now, per second (schedule x spikes).
  double current_rate() const { return scheduled_rate() * load_factor_; }
  const Caller& caller() const { return caller_; }

 private:
  void on_call_done(sim::Node& node, const CallResult& result) override;
  double scheduled_rate() const;
  /// Applies the current rate from now on and re-arms the arrival timer.
  void rate_changed(sim::Node& node);
  void arm_arrival(sim::Node& node);
  void arm_next_step(sim::Node& node);
  void send_request(sim::Node& node);

  std::shared_ptr<const OpenLoopClientConfig> config_;
  sim::Node& node_;
  RequestRecorder& recorder_;
  std::uint32_t group_;
  std::uint32_t step_ = 0;  // schedule_[step_ - 1] is in force; 0: the base rate
  JobLedger* ledger_;
  Caller caller_;
  ArrivalProcess arrivals_;
  sim::Rng key_rng_;
  std::shared_ptr<const KeyPicker> key_picker_;
  // Only when drawn from (write_fraction, poison_fraction above 0): a stream depends on the
  // node's key and its name only, so creating it or not changes no other draw.
  std::unique_ptr<sim::Rng> operation_rng_;
  std::unique_ptr<sim::Rng> poison_rng_;
  double load_factor_ = 1.0;
  sim::TimerId arrival_timer_;
  sim::Time measure_from_, measure_to_;
  std::uint64_t requests_sent_ = 0, writes_sent_ = 0;
  std::size_t in_flight_max_ = 0;
};

}  // namespace models
