// A fault-injecting proxy: in front of `target`, it delays a share of the requests and aborts a
// share with a failure, and forwards the rest -- the chaos-testing filter of a service mesh
// (Envoy's HTTP fault filter, envoy.filters.http.fault). It answers "what does a 5 % error rate
// or a 100 ms stall in this dependency do to my callers?" without changing the dependency.
//
// Semantics, for each request that arrives:
// - Delay: with probability `delay_probability` it is held for `delay` (on the proxy's clock)
//   before anything else happens.
// - Abort: then, with probability `abort_probability`, it is answered `abort_with` (error or
//   rejected) at once and never forwarded.
// - Otherwise it is forwarded to one node of `target`, picked uniformly at random, with the
//   caller's key, deadline and ids and one more hop; the answer goes back to the caller with the
//   caller's call id, outcome and value.
// - No timeout and no retries of its own: it stops waiting, silently, at the caller's deadline
//   (nobody waits for the answer any more); an answer after that is counted (late_responses).
// - A crash loses the held and forwarded requests (their callers time out); a pause holds them.
// Randomness: the two coin flips come from the node's stream "faults", the replica choice from
// "route", so that changing a probability does not change which replicas are picked.
//
// Differences from Envoy's fault filter:
// - Envoy's percentages come from runtime keys per route and may be set per request by headers;
//   here they are two fixed probabilities for every request.
// - Envoy aborts with an HTTP or gRPC status; here with dsim's Error or Rejected outcome.
// - Envoy can cap concurrent faults (max_active_faults) and throttle response bodies
//   (response_rate_limit); neither is modelled.
// Envoy, like this model, applies the delay first and then decides on the abort.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/rpc.hpp"
#include "models/shared/slot_table.hpp"

namespace models {

inline constexpr std::array<Choice<Outcome>, 2> kAbortChoices{{
    {"error", Outcome::Error, "the dependency failed (an HTTP 503)"},
    {"rejected", Outcome::Rejected, "the dependency refused it (overloaded, try later)"},
}};

struct FaultProxyConfig {
  static constexpr const char* kSummary =
      "A fault-injecting proxy in front of `target` (Envoy's fault filter): holds a request for "
      "`delay` with probability `delay_probability`, then answers `abort_with` at once with "
      "probability `abort_probability`, and forwards the rest, relaying the answer. No timeout or "
      "retries of its own; it stops waiting at the caller's deadline.";

  ComponentRef target;
  Probability delay_probability{0};
  sim::Duration delay = sim::Duration::nanoseconds(100'000'000);
  Probability abort_probability{0};
  Outcome abort_with = Outcome::Error;

  template <class V>
  void describe(V& v) {
    v.field("target", target, "the component behind the proxy (required)");
    v.field("delay_probability", delay_probability, "share of the requests that are delayed");
    v.field("delay", delay, "how long a delayed request is held, on the proxy's clock", Limits{0});
    v.field("abort_probability", abort_probability,
            "share of the requests answered with a failure instead of forwarded");
    v.field("abort_with", abort_with, "the failure an aborted request gets", kAbortChoices);
  }
};

class FaultProxy final : public Model {
 public:
  using Config = FaultProxyConfig;
  enum TimerKind : std::uint32_t { kDelayDone = 1, kCallerGaveUp = 2 };

  static Wiring wiring(const Config& c) {
    return {.serves = {Protocol::Rpc, Protocol::Health},
            .calls = {{"target", c.target, {Protocol::Rpc}}}};
  }
  static FigureDocs figure_docs();
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  /// `targets`: the target's nodes (not empty). Figures count over [measure_from, measure_to].
  FaultProxy(const Config& config, sim::Node& node, std::vector<sim::NodeId> targets,
             sim::Time measure_from, sim::Time measure_to);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;

  /// Requests held or forwarded, not yet answered.
  std::size_t in_progress() const { return pending_.size(); }

 private:
  struct Pending {
    sim::NodeId caller = sim::kNoNode;
    RpcRequest request;  // as the caller sent it (its call id)
    sim::TimerId gave_up;
  };
  using Id = SlotTable<Pending>::Id;

  void on_request(sim::Node& node, const sim::Message& message);
  void after_delay(sim::Node& node, Id id);
  void on_answer(sim::Node& node, const RpcResponse& answer);
  void answer(sim::Node& node, Id id, Outcome outcome, std::uint64_t value = 0);
  bool measured(const sim::Node& node) const;

  Config config_;
  std::vector<sim::NodeId> targets_;
  sim::Rng faults_rng_, route_rng_;
  SlotTable<Pending> pending_;  // keyed by the id the proxy forwards under
  sim::Time measure_from_, measure_to_;
  std::uint64_t requests_ = 0, delayed_ = 0, aborted_ = 0, forwarded_ = 0, late_ = 0;
};

}  // namespace models
