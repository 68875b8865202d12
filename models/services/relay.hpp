// A relay: a middle-tier service that answers each request by calling its own `target` (an API
// gateway, a service calling the one behind it). With relays, retries compose: a client making
// r+1 attempts in front of relays that each make r+1 attempts multiplies the load on the last
// tier by (r+1)^layers (tests/validation/retry_amplification_test.cpp).
//
// Semantics:
// - An RpcRequest arriving from upstream waits a draw of `service_time` (ns) times the node's
//   slowdown (its own work before forwarding; default 0: forwarded at once), then becomes one
//   logical request of the relay's Caller (models/shared/caller.hpp): `timeout`, `retry` and
//   `circuit_breaker` as for a client; the same key and operation, the originating client's
//   request_id and origin, hops + 1; non-idempotent if the request or `idempotent` says so.
// - Concurrency is unbounded (no workers, no queue): a relay adds latency and retries, not
//   queueing; put a server in front of it for that.
// - When the Caller's request ends, the relay waits a draw of `response_overhead` times the
//   node's slowdown (its work on the way back; default 0: at once), then answers upstream with
//   the final outcome mapped as
//     Ok -> Ok;
//     Timeout -> Timeout (like an HTTP 504 from a gateway: the upstream caller sees a timeout
//       and retries it, or not, per its own retry_on.timeout);
//     anything else (Error, Rejected, Dropped, RateLimited, CircuitOpen) -> Error (every try
//       failed, or the relay's breaker refused: a 502/503; the upstream sees the relay fail).
// - Deadline propagation (`propagate_deadline`, on by default, as in gRPC): the relay's calls
//   for a request never outlive the request's own deadline (RpcRequest.deadline, true time).
//   Each try waits at most until then, carries at most it as its deadline (so a server behind
//   can drop work nobody waits for), and no retry starts after it. A request whose deadline has
//   passed by the time the relay would forward it is answered Timeout at once, uncalled
//   (expired_before_forward). Off: only the relay's `timeout` and `retry.deadline` bound its
//   calls, and a backend keeps working for clients that have given up.
// - The relay's calls are not the run's end-to-end requests: its Caller records nothing into the
//   RequestRecorder (the report's requests are the clients'); its figures count them.
// - A crash loses the requests being worked on, forwarded or on their way back (unanswered: the
//   upstream times out), the relay's retry budget and its breaker's state. A pause holds
//   everything.
// Randomness: service times from the node's stream "service", response overheads from
// "response", replica choices from the node's own stream, backoff jitter from "retry".
//
// A sidecar (Burns, "Designing Distributed Systems", ch. 2; a service mesh's proxy, Envoy in
// Istio) is a relay on its application's machine: `"colocate_with": "app"` on the relay's
// component (docs/scenario-format.md). The application then calls its own sidecar over loopback
// (a reference from a node to a component with a node on its machine names that node only),
// the sidecar's crash is its application's and vice versa, and the relay's caller is what the
// mesh adds: timeouts, retries, a breaker, outside the application's code. `service_time` and
// `response_overhead` are the proxy's cost on each way: Istio's own benchmark (1.12.3: 1 kB
// requests at 1000/s, mTLS, telemetry v2) measured the client-side and server-side proxies
// together adding about 1.7 ms to the p90 and 2.7 ms to the p99 latency. Differences from
// Envoy: no connection pool, no TLS handshake (a per-request cost only, as on warm pooled
// connections), no queueing on the proxy's worker threads (concurrency is unbounded), and the
// retry, timeout and breaker semantics are dsim's caller's (models/shared/caller.hpp), not
// Envoy's retry_policy and outlier detection.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/shared/caller.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/rpc.hpp"
#include "models/shared/slot_table.hpp"
#include "sim/distribution.hpp"

namespace models {

struct RelayConfig {
  static constexpr const char* kSummary =
      "A middle tier: each request waits a draw of `service_time`, then is forwarded to a random "
      "node of `target` through the relay's own caller (`timeout`, `retry`, `circuit_breaker`, "
      "as a client's), capped at the incoming request's deadline (`propagate_deadline`); the "
      "final outcome is answered upstream (Ok; a timeout as Timeout; any other failure as "
      "Error). Unbounded concurrency. Retries compose across relays.";

  sim::Distribution service_time = sim::Distribution::constant(0);
  sim::Distribution response_overhead = sim::Distribution::constant(0);
  bool propagate_deadline = true;
  CallerConfig call;  // target, timeout, ..., retry, circuit_breaker

  template <class V>
  void describe(V& v) {
    v.field("service_time", service_time,
            "the relay's own work on a request before forwarding it (times the node's slowdown)",
            Limits{0});
    v.field("response_overhead", response_overhead,
            "the relay's work on the answer before sending it upstream (times the node's "
            "slowdown): a sidecar's cost on the way back",
            Limits{0});
    v.field("propagate_deadline", propagate_deadline,
            "cap the relay's calls at the incoming request's deadline (gRPC's deadline "
            "propagation); false: only `timeout` and `retry.deadline` bound them");
    call.describe(v);
  }
};

/// The outcome a relay answers upstream when its own call ended with `outcome`.
Outcome relay_answer(Outcome outcome);

class Relay final : public Model, private CallerListener {
 public:
  using Config = RelayConfig;
  static Wiring wiring(const Config& c) {
    return {.serves = {Protocol::Rpc, Protocol::Health},
            .calls = {{"target", c.call.target, c.call.speaks()}}};
  }
  static FigureDocs figure_docs();

  /// kCall is the first of the Caller's Caller::kTimerKinds kinds (2 to 6).
  enum TimerKind : std::uint32_t { kServiceDone = 1, kCall = 2, kResponseDone = 7 };
  static_assert(kResponseDone >= kCall + Caller::kTimerKinds);

  Relay(const RelayConfig& config, sim::Node& node, std::vector<sim::NodeId> targets,
        sim::Time measure_from, sim::Time measure_to);

  /// The instance for ctx.nodes[replica]. Throws std::invalid_argument if the target is empty
  /// or has no nodes. Does not attach it.
  static std::unique_ptr<Model> make(const RelayConfig& config, BuildContext& ctx,
                                     std::size_t replica);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  std::vector<const StateTimeline*> state_timelines() const override {
    return caller_.state_timelines();
  }

  const Caller& caller() const { return caller_; }
  /// Requests received and not yet answered.
  std::size_t in_progress() const { return inbound_.size(); }

 private:
  struct Inbound {
    sim::NodeId from = sim::kNoNode;
    RpcRequest request;
    Outcome answer = Outcome::Ok;  // set when the call ended, sent after response_overhead
  };

  void on_call_done(sim::Node& node, const CallResult& result) override;
  void forward(sim::Node& node, SlotTable<Inbound>::Id id);
  void answer(sim::Node& node, SlotTable<Inbound>::Id id);
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  RelayConfig config_;
  Caller caller_;
  sim::Rng service_rng_;
  sim::Rng response_rng_;
  SlotTable<Inbound> inbound_;
  sim::Time measure_from_, measure_to_;
  std::uint64_t received_ = 0, answered_ok_ = 0, answered_failed_ = 0, expired_ = 0;
  std::size_t in_progress_max_ = 0;
};

}  // namespace models
