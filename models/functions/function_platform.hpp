// A functions-as-a-service platform: each invocation (an RpcRequest) runs on one of many virtual
// instances ("execution environments") that the platform creates on demand, keeps warm while
// they are used and reclaims when they stay idle (scale to zero). One platform node serves all
// of its instances; a component with several nodes has that many independent platforms (each
// with its own instances, account limit and figures; a client spreads its calls over them).
//
// Semantics, in the order an invocation meets them:
// - Health probes are answered at once (models/shared/health.hpp); every other message is an
//   invocation.
// - Warm instance: the invocation goes to a ready instance with a free slot (fewer than
//   `concurrency` executions in progress): a provisioned one if any has a slot, else the most
//   recently used on-demand one. Lambda packs work onto recently used environments so that the
//   others stay idle and expire; "used" is when an execution last began or ended on it. An idle
//   on-demand instance whose keep-alive has run out at that instant is reclaimed, not used (so
//   an arrival exactly `keep_alive` after the instance went idle is cold, whatever the order of
//   simultaneous events).
// - Cold start: with no warm slot, if the instances in existence (starting, idle or busy) are
//   fewer than max_instances = ceil(`account_concurrency` / `concurrency`), a new instance is
//   created for this invocation: it starts for a draw of `cold_start` (the init phase), then
//   executes it. A starting instance carries exactly that one invocation: a later invocation
//   never waits for another's cold start (Lambda starts one environment per concurrent request);
//   it takes a warm slot or starts an instance of its own.
// - Throttle: otherwise the invocation is answered RateLimited at once (Lambda's HTTP 429
//   TooManyRequestsException) and never runs.
//   What is bounded is the number of instances. With `concurrency` 1 that is exactly Lambda's
//   bound on concurrent executions: an instance is created only when every existing one is
//   busy or starting, so an invocation is throttled iff the executions in progress (cold starts
//   included) have reached `account_concurrency`. With concurrency c > 1 up to
//   ceil(limit / c) x c executions may run at once (the last instance may fill up), and an
//   invocation may be throttled while a starting instance holds a single one.
// - Execution takes a draw of `service_time` times the node's slowdown (gray failure); then the
//   instance answers RpcResponse Ok to the caller. A request whose caller has given up is still
//   executed and billed (the platform does not know the caller's timeout).
// - Keep-alive: an on-demand instance whose last execution ends goes idle and is reclaimed after
//   `keep_alive` without a new execution (on the node's clock; the timer is cancelled when an
//   execution begins and re-armed when the instance goes idle again).
// - Provisioned concurrency: `provisioned` instances are created ready at start (and after a
//   restart), are used first and are never reclaimed. They count towards max_instances.
// - A pause holds arrivals, completions and expiries until the node resumes.
// - A crash loses every instance and every invocation in flight, unanswered (callers time out);
//   a restart begins with the provisioned instances ready and nothing else.
// Randomness: cold starts draw from the node's stream "cold_start", executions from "service".
//
// Figures (measured over [warmup_end, end], true time; docs/report-format.md): invocations,
// cold starts, throttles, instances created and reclaimed, instance counts (peak, time
// average), busy fraction, and cost: billed_seconds under `billing`
//   request  -- Lambda: each invocation's execution time, plus its init time if it was a cold
//               start, rounded up to a whole millisecond (Lambda bills INIT since August 2025),
//               counted when it completes; plus every second a provisioned instance exists
//               (Lambda bills provisioned concurrency while it is configured, used or not);
//   instance -- Cloud Run instance-based billing: every second an instance exists, starting
//               and idle included;
// against always_on_seconds, what a fleet of always-on servers sized for the observed peak of
// concurrent invocations would bill: ceil(peak_concurrency / concurrency) x the measured time.
//
// References: AWS Lambda (execution environments, cold starts and the INIT phase, keep-alive of
// idle environments, one request per environment, the account concurrency limit with
// throttling, provisioned concurrency, 1 ms billing) and Google Cloud Run (per-instance
// concurrency > 1, instance-based billing).
// Differences:
// - Lambda reclaims idle environments after an unpublished, varying time (minutes to hours) and
//   recycles environments after a few hours even when they are in use; here after exactly
//   `keep_alive` idle, never otherwise. Cloud Run keeps idle instances up to 15 minutes, also not a
//   fixed figure.
// - Lambda's choice of a warm environment is not documented; most-recently-used (provisioned
//   first, as Lambda uses provisioned concurrency before on-demand) is the packing it is
//   observed to do.
// - Lambda limits concurrent executions; here instances (the same thing at concurrency 1, see
//   above). Lambda's burst scaling rate (1000 new environments per 10 s per function), reserved
//   concurrency per function and the 100 executions it keeps unreserved are not modelled, nor
//   Cloud Run's max-instances, its pending-request queue (a request waits a while for an instance
//   instead of being refused) and its 503 answer.
// - One function per platform: no other functions share the account limit.
// - Synchronous invocation only: no asynchronous event queue with its own retries, no function
//   timeout (Lambda ends an execution after its configured timeout, at most 15 minutes), no
//   payload limits, and a request is never dropped for a passed deadline.
// - Prices: every billed second costs the same (Lambda's per-GB-s prices for on-demand,
//   provisioned and provisioned-in-use time differ, and there is a per-request charge; Cloud
//   Run rounds billable time); the figures are seconds, not money.
// - Request billing with concurrency > 1 sums the executions (Lambda has no concurrency > 1;
//   Cloud Run's request-based billing bills an instance's time while it has a request instead).
// - Cold-start time does not scale with the node's slowdown; a cold start never fails.
// - Requests lost in a crash are not billed; Lambda bills an execution that fails.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/slot_table.hpp"
#include "sim/distribution.hpp"
#include "sim/node.hpp"

namespace models {

enum class Billing : std::uint8_t { Request, Instance };

inline constexpr std::array<Choice<Billing>, 2> kBillingChoices{{
    {"request", Billing::Request,
     "Lambda: each invocation's execution (and init) time, rounded up to 1 ms, plus provisioned "
     "instances' existence"},
    {"instance", Billing::Instance,
     "Cloud Run instance-based: every second an instance exists, idle and starting included"},
}};

struct FunctionPlatformConfig {
  static constexpr const char* kSummary =
      "Functions as a service (AWS Lambda; Cloud Run for concurrency > 1): an invocation runs on "
      "a warm instance with a free slot (provisioned first, else the most recently used), else "
      "on a new instance after a `cold_start` (one per invocation: nobody waits for another's "
      "cold start), else it is throttled (RateLimited) once ceil(`account_concurrency` / "
      "`concurrency`) instances exist. Executions take `service_time`. Idle on-demand instances "
      "are reclaimed after `keep_alive`; `provisioned` instances are ready from the start and "
      "never reclaimed. Figures: cold-start fraction, throttles, instances, and billed seconds "
      "(`billing`: per request or per instance) against an always-on fleet sized for the peak. "
      "A crash loses every instance and invocation in flight.";

  int concurrency = 1;
  std::int64_t account_concurrency = 1000;
  std::int64_t provisioned = 0;
  sim::Distribution cold_start = sim::Distribution::lognormal_from_median_p99(250e6, 1e9);
  sim::Distribution service_time = sim::Distribution::exponential(10e6);
  sim::Duration keep_alive = sim::Duration::nanoseconds(300'000'000'000);  // 5 minutes
  Billing billing = Billing::Request;

  template <class V>
  void describe(V& v) {
    v.field("concurrency", concurrency,
            "invocations one instance executes at once (Lambda: 1; Cloud Run: up to 1000)",
            Limits{1, 1000});
    v.field("account_concurrency", account_concurrency,
            "concurrent executions allowed (Lambda's account limit, default 1000); instances "
            "are bounded by ceil(account_concurrency / concurrency), beyond: RateLimited",
            Limits{1, 1e6});
    v.field("provisioned", provisioned,
            "instances ready from the start, used first, never reclaimed (provisioned "
            "concurrency); at most ceil(account_concurrency / concurrency)",
            Limits{0, 1e6});
    v.field("cold_start", cold_start,
            "time a new instance takes to start (the init phase) before it executes the "
            "invocation that created it",
            Limits{0});
    v.field("service_time", service_time, "time one execution takes, before the node's slowdown",
            Limits{0});
    v.field("keep_alive", keep_alive,
            "an on-demand instance idle this long is reclaimed (scale to zero)", Limits{1});
    v.field("billing", billing, "what billed_seconds counts", kBillingChoices);
  }
};

class FunctionPlatform final : public Model {
 public:
  using Config = FunctionPlatformConfig;
  static Wiring wiring(const Config&) { return {.serves = {Protocol::Rpc, Protocol::Health}}; }
  static FigureDocs figure_docs();
  static SeriesDocs series_docs();
  static std::vector<ConfigProblem> check(const Config& c);

  /// The most instances the account limit allows: ceil(account_concurrency / concurrency).
  static std::int64_t max_instances(const Config& c) {
    return (c.account_concurrency + c.concurrency - 1) / c.concurrency;
  }

  enum TimerKind : std::uint32_t { kColdStartDone = 1, kExecutionDone = 2, kKeepAliveOver = 3 };

  FunctionPlatform(const Config& config, const sim::Node& node, sim::Time measure_from,
                   sim::Time measure_to);
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  void sample(sim::Time now, SeriesSample& out) const override;

  std::size_t instances() const { return instances_.size(); }
  std::size_t busy() const { return busy_; }
  std::size_t starting() const { return starting_; }

 private:
  using Id = SlotTable<int>::Id;  // an id of either table (0: none)

  struct Invocation {
    sim::NodeId from = sim::kNoNode;
    std::uint64_t call_id = 0;
  };
  struct Instance {
    bool ready = false;  // false while starting
    bool provisioned = false;
    int executions = 0;
    Invocation first;         // starting: the invocation that created it
    sim::Duration init;       // starting: its cold-start time
    sim::Time idle_since;     // on the node's monotonic clock, when executions fell to 0
    sim::TimerId keep_alive;  // armed while an on-demand instance is idle
    bool listed = false;      // in its recency list (ready, with a free slot)
    Id newer = 0, older = 0;  // neighbours in that list
  };
  struct Execution {
    Invocation invocation;
    Id instance = 0;
    sim::Time began;     // true time
    sim::Duration init;  // the cold start billed with it (zero when warm)
  };
  /// A level over time (instances, executions): its time average and peak over the measured
  /// interval.
  class Level {
   public:
    Level(sim::Time from, sim::Time to) : average_(from, to), from_(from), to_(to) {}
    void set(sim::Time now, double value);
    double average() const { return average_.average(); }
    double peak() const { return std::max(peak_, average_.current()); }

   private:
    TimeAverage average_;
    sim::Time from_, to_;
    double peak_ = 0;
  };

  void invoke(sim::Node& node, const sim::Message& message);
  /// A ready instance with a free slot (provisioned first, most recently used), or 0.
  Id warm_instance(sim::Node& node);
  Id create_instance(bool provisioned);
  void cold_start(sim::Node& node, const Invocation& invocation);
  void cold_start_done(sim::Node& node, Id instance);
  void begin(sim::Node& node, Id instance, const Invocation& invocation, sim::Duration init);
  void complete(sim::Node& node, Id execution);
  void reclaim(sim::Node& node, Id instance);
  /// Puts the instance at the head of its recency list if it has a free slot, else out of it.
  void relist(Id instance);
  void unlist(Id instance);
  void record_levels(sim::Time now);
  bool measuring(sim::Time now) const { return now >= measure_from_ && now <= measure_to_; }

  Config config_;
  std::size_t max_instances_;
  sim::Rng cold_start_rng_;
  sim::Rng service_rng_;
  sim::Time measure_from_, measure_to_;

  SlotTable<Instance> instances_;
  SlotTable<Execution> executions_;
  std::array<Id, 2> newest_{};  // the heads of the recency lists: [0] provisioned, [1] on demand
  std::size_t busy_ = 0;        // executions in progress
  std::size_t starting_ = 0;    // instances starting
  std::size_t provisioned_ = 0;

  // Figures.
  std::uint64_t invocations_ = 0, cold_starts_ = 0, throttled_ = 0;
  std::uint64_t created_ = 0, reclaimed_ = 0;
  std::int64_t billed_ms_ = 0;  // request billing: whole milliseconds of executions
  Level instance_level_, busy_level_, concurrency_level_, provisioned_level_;
};

}  // namespace models
