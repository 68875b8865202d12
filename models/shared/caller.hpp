// The part of every client-like model that turns one logical request into attempts and an outcome.
//
// For each logical request the Caller
//   1. deposits into the retry budget (if any) and makes its first try;
//   2. a try asks the circuit breaker (if enabled) for permission: refused, the try fails with
//      Outcome::CircuitOpen at once, without sending anything (counted: short_circuited);
//   2b. a try the breaker permits asks the bulkhead (`bulkhead`, models/resilience/bulkhead.hpp;
//      max_concurrent > 0) for a permit: one per try, as in resilience4j's recommended order
//      Retry(CircuitBreaker(Bulkhead(call))). None free: with max_wait 0 the try fails at once
//      with Outcome::Rejected, without sending anything (counted: bulkhead_rejected); otherwise
//      it waits, FIFO behind earlier waiting tries, for at most max_wait (cut to what is left of
//      the overall deadline; a timer of its own kind), and fails Rejected if none came back by
//      then (counted: bulkhead_waited, and bulkhead_rejected if it failed). A rejected try goes
//      through the retry policy like any failed try (retry_on.rejected: resilience4j's Retry
//      retries a BulkheadFullException by default too), and counts as a failure for the breaker
//      that permitted it (resilience4j's breaker records every exception by default, the
//      BulkheadFullException thrown inside it included), with the wait as its duration. The
//      permit comes back when the try ends: its answer, its timeout (the server may still be
//      working: the permit guards the caller), the crash of the node; a waiting try takes it
//      at that instant. The try's timeout starts when it is sent, after the wait; the breaker
//      measures a try's duration from its permit request, the wait included, as resilience4j's
//      breaker wrapping the bulkhead does. A hedged (or tied) second copy is a call in flight
//      too: it needs a permit of its own, never waits for one, and is not sent if none is free
//      (counted: hedges_denied_by_bulkhead; the try goes on with its first copy);
//   3. otherwise it picks a target: one node of the target component, uniformly at random from
//      the node's own stream (no load balancer: a fresh random replica per attempt), and sends
//      RpcRequest{call_id, key, deadline, attempt, operation, ...}: call_id names the attempt in a
//      SlotTable (stale ids find nothing); deadline = now + the try's timeout in true time (no
//      timeout: Time::max());
//   4. arms the try's timeout on the node's clock: `timeout`, shortened to what is left of the
//      overall `retry.deadline` if there is one;
//   5. on the answer (or the timeout) reports the result to the breaker; an Ok ends the request;
//      a failure goes to decide_after_failure: the retry policy
//      (models/resilience/retry_policy.hpp: retry_on, max_attempts, deadline, budget) either
//      retries after a backoff wait (a timer of its own kind) or ends the request with the failed
//      try's outcome.
//   Ending a request: RequestRecorder::record (true start and end times, outcome, attempts
//   sent), then the owner's CallerListener. Every attempt sent is reported with
//   RequestRecorder::attempt_sent. A Caller built without a recorder (a relay's: its calls are
//   not the run's end-to-end requests) reports nothing to a recorder; its figures still count.
//
// Hedging (`hedge`, models/resilience/hedging.hpp): a try of an idempotent request may have a
// second copy in flight to another replica of its target (of its shard, for a scatter/gather
// root): sent after the hedge delay, or at once and tied. The first Ok answer ends the try; a
// failure of one copy while the other is in flight is ignored; the try's timeout covers both.
//
// Shards: a caller whose targets are shards of consecutive nodes (set_shard_size: equal shards,
// a scatter/gather root's leaves; set_shard_sizes: a sharder whose hot shard has more replicas)
// starts a request on one shard, and picks its replicas there.
//
// Timers: a Caller uses kTimerKinds consecutive kinds from the base kind its owner gives it:
// base (per-try timeout), base + 1 (backoff wait before a retry), base + 2 (the breaker's
// automatic transition from open to half-open), base + 3 (the hedge delay), base + 4 (the end
// of a try's bulkhead max_wait).
//
// Late answers: an answer to an attempt that already ended (after its timeout, or duplicated by
// the network, or after a crash) does not change the request: it is ignored and counted
// (late_responses).
//
// Duplicate effects (non-idempotent requests, `idempotent` false; a relay forwarding a request
// marked non-idempotent is non-idempotent too). An Ok answer means the attempt took effect at
// the server. The Caller counts, exactly, the logical requests for which Ok answers to two or
// more *distinct* attempts reached it -- RequestRecorder::duplicate_effect, once per request,
// and the figure duplicate_effects. How: after a per-try timeout, a non-idempotent attempt is
// not forgotten but kept as an orphan of its request (the request itself stays in the table,
// even after it ended, while it has orphans). An answer to an orphan is attributed to its
// request: if Ok, the request's count of effects goes up, whether it arrives before or after
// the Ok of the try in flight (which ends the request as usual; an orphan's Ok does not end it:
// the caller stopped waiting for that try), and whether or not the request has ended. When the
// count reaches two, the duplicate is recorded. Duplicated copies of one answer do not count
// twice: the attempt's entry is erased by its first answer.
// What is therefore not counted, precisely: effects whose Ok never reaches the caller (lost by
// the network, the caller crashed meanwhile, the answer was not Ok because an intermediary
// failed after the effect), and Ok answers arriving later than `late_answer_window` after their
// attempt's timeout: orphans are kept that long (bounded memory), then forgotten. Idempotent
// requests keep no orphans (their late answers are only counted as late_responses).
//
// A crash abandons every request in progress (RequestRecorder::abandoned) without telling the
// listener, forgets the orphans, empties the retry budget, resets the breaker to closed and
// frees the bulkhead's permits: all of it is volatile state, lost with the node's.
//
// Figures (counted for requests that started at or after the recorder's measure_from; late
// answers when they arrive after it): late_responses, attempts (sent, hedges included), retries
// (made), retries_denied_by_budget, retries_stopped_by_deadline, short_circuited (tries refused
// by the breaker), duplicate_effects, circuit_opened (breaker transitions to open), hedges,
// hedges_won, hedges_denied_by_budget, hedge_extra_load, cancels_sent, bulkhead_rejected,
// bulkhead_waited, bulkhead_max_concurrent (the most permits held at once),
// hedges_denied_by_bulkhead.
//
// Several Callers on one node: call ids are unique per Caller, not per node. A model that owns
// several gives each a distinct call-id space (set_call_id_space(1..255), before its first
// request): its ids then carry the space in bits 24..31 (the slot's high byte; the generation
// keeps its 32 bits, so stale ids stay exact), and its on_message takes only answers of its
// space, so the owner routes an answer by Caller::call_id_space(call_id). Space 0, the default,
// leaves the ids as they were and takes every answer (a node with one Caller). The backoff
// jitter is drawn from the node's stream "retry" (so that turning retries on or changing the
// jitter does not change the replica choices, drawn from the node's own stream); several
// Callers of one node share both streams.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "models/resilience/backoff.hpp"
#include "models/resilience/bulkhead.hpp"
#include "models/resilience/circuit_breaker.hpp"
#include "models/resilience/hedging.hpp"
#include "models/resilience/retry_policy.hpp"
#include "models/shared/figures.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/request_recorder.hpp"
#include "models/shared/rpc.hpp"
#include "models/shared/slot_table.hpp"
#include "models/shared/state_timeline.hpp"
#include "sim/node.hpp"
#include "sim/ring_buffer.hpp"

namespace models {

/// What every client-like model says about its calls. Clients describe these fields at their
/// own top level (they call describe() from theirs), so scenario files stay flat; retries and
/// the circuit breaker are the sections "retry" and "circuit_breaker".
struct CallerConfig {
  ComponentRef target;
  sim::Duration timeout = sim::Duration::nanoseconds(1'000'000'000);
  std::int64_t request_bytes = 0;
  bool idempotent = true;
  sim::Duration late_answer_window = sim::Duration::nanoseconds(10'000'000'000);
  RetryConfig retry;
  CircuitBreakerConfig circuit_breaker;
  HedgeConfig hedge;
  BulkheadConfig bulkhead;

  /// What this caller speaks to its target: rpc, and cancel for tied requests.
  Protocols speaks() const {
    return hedge.enabled && hedge.tied ? Protocols{Protocol::Rpc, Protocol::Cancel}
                                       : Protocols{Protocol::Rpc};
  }

  template <class V>
  void describe(V& v) {
    v.field("target", target,
            "the component called (required: the scenario must name one); one of its nodes is "
            "picked uniformly at random for every attempt");
    v.field("timeout", timeout, "per-try timeout on the caller's clock; 0: wait forever",
            Limits{0});
    v.field("request_bytes", request_bytes, "size of a request on the wire (for bandwidth)",
            Limits{0, 4e9});
    v.field("idempotent", idempotent,
            "requests may take effect twice harmlessly; false: a retry after a success whose "
            "answer came too late is counted as a duplicate effect");
    v.field("late_answer_window", late_answer_window,
            "non-idempotent requests: how long after a try's timeout its late answer is still "
            "attributed to the request (to count duplicate effects)",
            Limits{0});
    v.section("retry", retry, "retries: attempts, backoff with jitter, deadline, budget");
    v.section("circuit_breaker", circuit_breaker,
              "a circuit breaker in front of the target (resilience4j's semantics)");
    v.section("hedge", hedge,
              "hedged or tied requests: a second copy of a slow try to another replica "
              "(\"The Tail at Scale\")");
    v.section("bulkhead", bulkhead,
              "a cap on the tries in flight to the target at once (resilience4j's "
              "SemaphoreBulkhead); off by default");
  }
};

/// A Caller's target nodes, which a component's callers can share (shared_targets).
using CallTargets = std::shared_ptr<const std::vector<sim::NodeId>>;

/// The nodes of config.target, for a Caller. Throws std::invalid_argument (a scenario error)
/// when the target is not named or has no nodes.
std::vector<sim::NodeId> resolve_target(const CallerConfig& config, BuildContext& ctx);
/// resolve_target, shared by the component's callers while it comes out the same.
CallTargets shared_targets(const CallerConfig& config, BuildContext& ctx);
/// The same for a target made of shards of `replicas` consecutive nodes (a scatter/gather
/// root's leaves, a sharder's shards); also throws when `replicas` does not divide them.
std::vector<sim::NodeId> resolve_shards(const CallerConfig& config, std::int64_t replicas,
                                        BuildContext& ctx);

/// How one logical request ended.
struct CallResult {
  std::uint64_t token = 0;  // the owner's value given to Caller::start
  Outcome outcome = Outcome::Ok;
  sim::Time started, ended;  // true times
  /// Attempts sent (tries refused by the breaker or the bulkhead are not sent).
  std::uint32_t attempts = 0;
};

/// Implemented by the model that owns a Caller: told when each of its requests ends.
class CallerListener {
 public:
  virtual void on_call_done(sim::Node& node, const CallResult& result) = 0;

 protected:
  ~CallerListener() = default;
};

class Caller {
 public:
  /// Timer kinds used from the base kind: timeout, backoff, breaker wait, hedge delay,
  /// bulkhead wait.
  static constexpr std::uint32_t kTimerKinds = 5;
  /// The most call-id spaces (set_call_id_space): 1 .. kCallIdSpaces - 1, 0 being "all".
  static constexpr std::uint32_t kCallIdSpaces = 256;
  /// start()'s shard when the targets are not sharded: any of them.
  static constexpr std::uint32_t kAnyShard = 0xffffffffu;

  /// `targets`: the nodes of the target component (not empty). `timer_kind`: the first of
  /// kTimerKinds consecutive kinds, distinct from the owner's other kinds. Records into
  /// `recorder`, in its group `group`, and counts figures from recorder.measure_from().
  Caller(const CallerConfig& config, std::vector<sim::NodeId> targets, std::uint32_t timer_kind,
         RequestRecorder& recorder, CallerListener& listener, std::uint32_t group = 0);
  /// As above; `recorder` may be null (nothing recorded: a relay's calls, a producer's
  /// publishes); figures count from `measure_from` (true time).
  Caller(const CallerConfig& config, std::vector<sim::NodeId> targets, std::uint32_t timer_kind,
         RequestRecorder* recorder, sim::Time measure_from, CallerListener& listener,
         std::uint32_t group = 0);
  /// As above, with a configuration and targets shared with others (one copy for a
  /// component's nodes: BuildContext::shared_config, or aliasing the owner's shared
  /// configuration; shared_targets).
  Caller(std::shared_ptr<const CallerConfig> config, CallTargets targets, std::uint32_t timer_kind,
         RequestRecorder* recorder, sim::Time measure_from, CallerListener& listener,
         std::uint32_t group = 0);
  Caller(const Caller&) = delete;
  Caller& operator=(const Caller&) = delete;

  /// Starts a logical request about `key` (to `shard`'s replicas, or to any target); its end
  /// comes back to the listener with `token` (possibly before start returns, if the breaker
  /// refuses and no retry follows). Every attempt carries `operation` (rpc.hpp: kOpRead,
  /// kOpWrite); whether it is idempotent is the configuration's `idempotent`, for either. Every
  /// attempt carries this caller's group as its tenant, and `poison` (a request that crashes or
  /// stalls the worker that serves it).
  void start(sim::Node& node, std::uint64_t key, std::uint64_t token,
             std::uint32_t shard = kAnyShard, std::uint8_t operation = kOpRead,
             bool poison = false);
  /// The targets are shards of `replicas` consecutive nodes each (their count divides it).
  void set_shard_size(std::size_t replicas);
  /// The targets are shards of sizes[i] consecutive nodes (each >= 1; they add up to the
  /// targets' count).
  void set_shard_sizes(const std::vector<std::size_t>& sizes);
  /// Starts a logical request on behalf of `inbound` (a relay): same key, operation, tenant
  /// and poison; the originating client's request_id and origin, one more hop; non-idempotent if
  /// either the inbound request or this caller's configuration says so. With a `cap` (true time;
  /// the inbound deadline when the owner propagates deadlines) no try waits past it, each try
  /// carries at most it as its deadline, and no retry starts after it.
  void forward(sim::Node& node, const RpcRequest& inbound, std::uint64_t token,
               sim::Time cap = sim::Time::max(), std::uint32_t shard = kAnyShard);

  /// Gives this caller the call-id space `space` (1 .. kCallIdSpaces - 1), distinct from the
  /// other Callers of its node; before its first request. See the header.
  void set_call_id_space(std::uint32_t space);
  /// The call-id space of an id (0 for a Caller without one).
  static std::uint32_t call_id_space(std::uint64_t call_id) {
    return static_cast<std::uint32_t>(call_id >> 24) & 0xffu;
  }

  /// Handles an RpcResponse or RpcStarted of its space (returns true); anything else is the
  /// owner's (false).
  bool on_message(sim::Node& node, const sim::Message& message);
  /// Handles the caller's own timers (returns true), others are the owner's (returns false).
  bool on_timer(sim::Node& node, sim::TimerTag tag);
  /// The node crashed: every pending request is abandoned.
  void on_crash(sim::Node& node);

  /// The group this caller records into: its requests' tenant.
  std::uint32_t group() const { return group_; }
  /// Logical requests in progress (not yet ended).
  std::size_t in_flight() const { return active_; }
  std::uint32_t timer_kind() const { return timer_kind_; }
  const CallerConfig& config() const { return *config_; }
  /// The circuit breaker, or nullptr when it is not enabled.
  const CircuitBreaker* breaker() const { return breaker_.get(); }
  /// The bulkhead, or nullptr when it is not enabled.
  const Bulkhead* bulkhead() const { return bulkhead_.get(); }
  /// The breaker's state timeline, for Model::state_timelines() (empty without a breaker).
  std::vector<const StateTimeline*> state_timelines() const;
  void figures(Figures& out) const;
  /// The figures figures() emits.
  static FigureDocs figure_docs();

 private:
  using RequestId = SlotTable<int>::Id;
  using AttemptId = SlotTable<int>::Id;

  struct Request {
    std::uint64_t token = 0;
    std::uint64_t key = 0;
    std::uint32_t shard = kAnyShard;
    std::uint64_t request_id = 0;
    sim::NodeId origin = sim::kNoNode;
    std::uint16_t hops = 0;
    std::uint8_t operation = kOpRead;
    bool idempotent = true;
    bool poison = false;
    std::uint16_t tenant = 0;                   // the originating client's group
    bool measured = false;                      // started at or after measure_from
    bool finished = false;                      // ended; kept while orphans may still answer
    sim::Time started;                          // true time
    sim::Time deadline = sim::Time::max();      // overall, on the node's monotonic clock
    std::uint32_t tries = 0;                    // made, refused ones included
    std::uint32_t sent = 0;                     // attempts sent
    std::uint32_t effects = 0;                  // Ok answers received, to distinct attempts
    std::uint32_t tracked = 0;                  // attempts in the table (in flight or orphans)
    AttemptId current = 0;                      // the try's (first) copy in flight; 0: none
    AttemptId hedge = 0;                        // its second copy in flight; 0: none
    bool hedged = false;                        // this try has had its second copy
    bool cancel_sent = false;                   // tied: the other copy's cancel went
    bool waiting = false;                       // the try waits for a bulkhead permit
    sim::Time try_began;                        // monotonic: when the try asked for permits
    sim::Time try_sent;                         // monotonic: when the try's first copy went
    sim::Time try_deadline = sim::Time::max();  // true time, carried by both copies
    sim::TimerId try_timer, hedge_timer;
    CircuitBreaker::Permit permit;
    sim::TimerId backoff_timer;
    sim::TimerId bulkhead_timer;  // the end of the try's wait for a permit
    std::optional<Backoff> backoff;
  };
  struct Attempt {
    RequestId request = 0;
    sim::NodeId target = sim::kNoNode;
    bool permit = false;  // holds a bulkhead permit
  };
  struct Orphan {
    AttemptId attempt;
    sim::Time forget_at;  // true time
  };

  void begin(sim::Node& node, Request request, sim::Time cap = sim::Time::max());
  void try_once(sim::Node& node, RequestId id);
  /// The try has its permits: its first copy goes, its timers are armed.
  void send_try(sim::Node& node, RequestId id);
  /// The try could not get a bulkhead permit (full, or its wait is over): it fails Rejected.
  void bulkhead_refused(sim::Node& node, RequestId id);
  /// `copy` no longer holds its bulkhead permit (it ended): the permit comes back, and a try
  /// waiting for one is sent at once.
  void release_permit(sim::Node& node, AttemptId copy);
  /// The call id on the wire of an attempt, and back.
  std::uint64_t wire_id(AttemptId attempt) const;
  AttemptId attempt_of(std::uint64_t call_id) const;
  /// Sends one copy of the request's current try to a target other than `avoid`.
  AttemptId send_copy(sim::Node& node, RequestId id, sim::NodeId avoid);
  void send_hedge(sim::Node& node, RequestId id);
  void on_answer(sim::Node& node, AttemptId id, Outcome outcome);
  void on_started(sim::Node& node, AttemptId id);
  void on_timeout(sim::Node& node, RequestId id);
  /// The try is over: its timers are cancelled.
  void end_try(sim::Node& node, Request& r);
  /// Drops a copy nobody waits for any more (tied: asks its server to cancel it).
  void drop_copy(sim::Node& node, Request& r, AttemptId copy);
  /// Tied: asks the server of `copy` to drop it unstarted (once per try).
  void cancel_copy(sim::Node& node, Request& r, AttemptId copy);
  void attempt_failed(sim::Node& node, RequestId id, Outcome outcome);
  /// What to do after a failed try: retry (after a wait) or give up. Counts the reason.
  RetryDecision decide_after_failure(sim::Node& node, Request& request, Outcome outcome);
  void finish(sim::Node& node, RequestId id, Outcome outcome);
  void took_effect(Request& request);
  /// Drops the attempt from the table; drops the request too if it ended and has no attempts.
  void forget_attempt(AttemptId id);
  void release_if_done(RequestId id);
  void forget_old_orphans(sim::Time true_now);
  void breaker_result(sim::Node& node, CircuitBreaker::Permit permit, bool failed,
                      sim::Duration duration);
  sim::NodeId pick_target(sim::Node& node, std::uint32_t shard, sim::NodeId avoid) const;
  /// The first target of `shard` and its replica count (all the targets for kAnyShard).
  std::pair<std::size_t, std::size_t> shard_span(std::uint32_t shard) const;
  std::size_t shard_count() const;
  static sim::Time local_now(const sim::Node& node);

  std::shared_ptr<const CallerConfig> config_;
  CallTargets targets_;  // not empty
  std::uint32_t timer_kind_;
  RequestRecorder* recorder_;
  sim::Time measure_from_;
  CallerListener& listener_;
  std::uint32_t group_ = 0;
  RetryPolicy retry_;
  // Only when configured: most callers have none, and a client node's memory counts.
  std::unique_ptr<CircuitBreaker> breaker_;
  std::unique_ptr<HedgePolicy> hedge_;
  std::unique_ptr<Bulkhead> bulkhead_;
  std::uint64_t id_space_ = 0;  // the space's bits of a wire call id (space << 24)
  /// Shard i is targets_[shard_first_[i] .. shard_first_[i + 1]); null when unsharded (one
  /// shard of all).
  std::unique_ptr<std::vector<std::size_t>> shard_first_;
  std::unique_ptr<sim::Rng> retry_rng_;  // the node's stream "retry", from the first request on
  SlotTable<Request> requests_;
  SlotTable<Attempt> attempts_;  // keyed by call id
  // In the order they were orphaned (= forget_at order); from the first orphan on (only
  // non-idempotent requests leave orphans).
  std::unique_ptr<sim::RingBuffer<Orphan>> orphans_;
  std::size_t active_ = 0;
  std::uint64_t next_request_id_ = 1;
  std::uint64_t late_responses_ = 0, attempts_sent_ = 0, retries_ = 0;
  std::uint64_t stopped_by_deadline_ = 0, duplicate_effects_ = 0;
  /// What the optional parts (breaker, hedging, bulkhead, retry budget) did: only with one.
  struct PartsCounts {
    std::uint64_t denied_by_budget = 0, short_circuited = 0;
    std::uint64_t hedges = 0, hedges_won = 0, hedges_denied = 0, cancels = 0;
    std::uint64_t bulkhead_rejected = 0, bulkhead_waited = 0, hedges_denied_by_bulkhead = 0;
  };
  std::unique_ptr<PartsCounts> parts_counts_;
};

}  // namespace models
