// The part of every client-like model that turns one logical request into attempts and an outcome.
//
// For each request the Caller
//   1. picks a target: one node of the target component, uniformly at random from the node's own
//      stream (no load balancer: a fresh random replica per attempt);
//   2. sends RpcRequest{call_id, key, deadline}: call_id names the attempt in a SlotTable (stale
//   ids
//      find nothing), deadline = now + timeout in true time (no timeout: Time::max());
//   3. arms the per-try timeout on the node's clock, as a timer of the kind the owner chose, so the
//      owner can route its timers;
//   4. on the answer (or the timeout) decides what to do after a failure -- for now always give up
//      (the place for retries and a circuit breaker is decide_after_failure) -- and ends the
//      request: RequestRecorder::record (true start and end times, outcome, attempts), then the
//      owner's CallerListener. Every attempt is reported with RequestRecorder::attempt_sent.
// Answers to attempts that already ended (late after a timeout, or duplicated by the network)
// are ignored and counted. A crash abandons every pending request (RequestRecorder::abandoned)
// without telling the listener: its state is lost with the node's.
//
// A node's model owns at most one Caller: call ids are unique per Caller, not per node.
#pragma once

#include <cstdint>
#include <vector>

#include "models/figures.hpp"
#include "models/model.hpp"
#include "models/params.hpp"
#include "models/request_recorder.hpp"
#include "models/rpc.hpp"
#include "models/slot_table.hpp"
#include "sim/node.hpp"

namespace models {

/// What every client-like model says about its calls. Clients describe these fields at their
/// own top level (they call describe() from theirs), so scenario files stay flat.
struct CallerConfig {
  ComponentRef target;
  sim::Duration timeout = sim::Duration::nanoseconds(1'000'000'000);
  std::int64_t request_bytes = 0;

  template <class V>
  void describe(V& v) {
    v.field("target", target,
            "the component called (required: the scenario must name one); one of its nodes is "
            "picked uniformly at random for every attempt");
    v.field("timeout", timeout, "per-try timeout on the caller's clock; 0: wait forever",
            Limits{0});
    v.field("request_bytes", request_bytes, "size of a request on the wire (for bandwidth)",
            Limits{0, 4e9});
  }
};

/// The nodes of config.target, for a Caller. Throws std::invalid_argument (a scenario error)
/// when the target is not named or has no nodes.
std::vector<sim::NodeId> resolve_target(const CallerConfig& config, BuildContext& ctx);

/// How one logical request ended.
struct CallResult {
  std::uint64_t token = 0;  // the owner's value given to Caller::start
  Outcome outcome = Outcome::Ok;
  sim::Time started, ended;  // true times
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
  /// `targets`: the nodes of the target component (not empty). `timer_kind`: the kind of the
  /// timeout timers, distinct from the owner's other kinds.
  Caller(const CallerConfig& config, std::vector<sim::NodeId> targets, std::uint32_t timer_kind,
         RequestRecorder& recorder, CallerListener& listener);

  /// Starts a logical request about `key`; its end comes back to the listener with `token`.
  void start(sim::Node& node, std::uint64_t key, std::uint64_t token);

  /// Handles an RpcResponse (returns true), anything else is the owner's (returns false).
  bool on_message(sim::Node& node, const sim::Message& message);
  /// Handles the caller's own timers (returns true), others are the owner's (returns false).
  bool on_timer(sim::Node& node, sim::TimerTag tag);
  /// The node crashed: every pending request is abandoned.
  void on_crash(sim::Node& node);

  std::size_t in_flight() const { return pending_.size(); }
  std::uint32_t timer_kind() const { return timer_kind_; }
  /// late_responses: answers to attempts that had already ended.
  void figures(Figures& out) const;

 private:
  struct Pending {
    std::uint64_t token = 0;
    std::uint64_t key = 0;
    std::uint64_t request_id = 0;
    sim::Time started;
    sim::TimerId timeout;
    std::uint32_t attempts = 0;
  };
  enum class AfterFailure { GiveUp };

  void send_attempt(sim::Node& node, SlotTable<Pending>::Id id);
  void attempt_failed(sim::Node& node, SlotTable<Pending>::Id id, Outcome outcome);
  /// What to do after a failed attempt: the place for a retry policy and a circuit breaker.
  AfterFailure decide_after_failure(const Pending& pending, Outcome outcome) const;
  void finish(sim::Node& node, SlotTable<Pending>::Id id, Outcome outcome);
  sim::NodeId pick_target(sim::Node& node) const;

  CallerConfig config_;
  std::vector<sim::NodeId> targets_;
  std::uint32_t timer_kind_;
  RequestRecorder& recorder_;
  CallerListener& listener_;
  SlotTable<Pending> pending_;  // keyed by the current attempt's call id
  std::uint64_t next_request_id_ = 1;
  std::uint64_t late_responses_ = 0;
};

}  // namespace models
