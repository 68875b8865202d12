// A closed-loop client: `users` per node, each sending one request, waiting for its outcome
// (success, failure or timeout), thinking for a while, and sending the next (a benchmark
// harness, a fixed pool of workers). The load follows the system: when answers slow down, fewer
// requests are sent, so a closed loop hides overload that an open loop exposes.
//
// Each user begins with a think time (so that users do not all send at time 0). Requests go
// through a Caller (per-try timeout, a random replica of `target`, optional retries and circuit
// breaker: models/shared/caller.hpp), keyed over `keys` as the open-loop client's are (uniform,
// zipf or hot_keys: `key_popularity`), each a write with probability `write_fraction` (idempotent
// unless `idempotent: false`, as there). Think times come from the node's stream "think", keys
// from "keys", the read-or-write choice from "operations" (drawn only when write_fraction > 0,
// so clients without writes draw as before). A crash abandons the requests in flight; a restart
// starts every user anew with a think time.
// Load spikes do not apply (scale_load returns false): the load of a closed loop is set by
// `users` and `think_time`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/clients/request_mix.hpp"
#include "models/clients/tenancy.hpp"
#include "models/shared/caller.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/zipf.hpp"
#include "sim/distribution.hpp"
#include "sim/simulator.hpp"

namespace models {

struct ClosedLoopClientConfig {
  static constexpr const char* kSummary =
      "`users` per client node, each sending one request, waiting for its outcome, thinking for "
      "a draw of `think_time`, and sending again: load that backs off when the system slows "
      "down.";

  int users = 10;
  sim::Distribution think_time = sim::Distribution::exponential(100e6);
  CallerConfig call;  // target, timeout, ..., retry, circuit_breaker
  RequestMix mix;     // keys, key_popularity, zipf_s, hot_keys, write_fraction
  Tenancy tenancy;    // group, tenant_per_node, poison_fraction

  template <class V>
  void describe(V& v) {
    v.field("users", users, "concurrent users per client node, each with one request at a time",
            Limits{1, 1e7});
    v.field("think_time", think_time, "pause between an outcome and the user's next request",
            Limits{0});
    call.describe(v);
    mix.describe(v);
    tenancy.describe(v);
  }
};

class ClosedLoopClient final : public Model, private CallerListener {
 public:
  using Config = ClosedLoopClientConfig;
  static Wiring wiring(const Config& c) {
    return {.calls = {{"target", c.call.target, c.call.speaks()}}};
  }
  static FigureDocs figure_docs();
  /// Users in all (users x count) at most kMaxUsers, a tenth of the kernel's pending events.
  static constexpr double kMaxUsers = static_cast<double>(sim::Simulator::kMaxPendingEvents / 10);
  static std::vector<ConfigProblem> check(const Config& c, std::size_t count);
  /// The most requests per second a node offers if answers came at once: users / mean think
  /// time (0, unknown, without thinking).
  static double offered_rate(const Config& c);

  /// kCallTimeout is the first of the Caller's Caller::kTimerKinds kinds (2, 3, 4).
  enum TimerKind : std::uint32_t { kThinkDone = 1, kCallTimeout = 2 };

  /// `keys`: config.mix.picker(), which may be shared with the component's other nodes.
  ClosedLoopClient(const ClosedLoopClientConfig& config, std::shared_ptr<const KeyPicker> keys,
                   sim::Node& node, std::vector<sim::NodeId> targets, RequestRecorder& recorder,
                   sim::Time measure_from, sim::Time measure_to, std::uint32_t group = 0);

  /// The instance for ctx.nodes[replica]; its target's nodes come from ctx.resolve. Throws
  /// std::invalid_argument if the target is empty or has no nodes. Does not attach it.
  static std::unique_ptr<Model> make(const ClosedLoopClientConfig& config, BuildContext& ctx,
                                     std::size_t replica);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  /// The circuit breaker's timeline, if the caller has a breaker.
  std::vector<const StateTimeline*> state_timelines() const override {
    return caller_.state_timelines();
  }

  const Caller& caller() const { return caller_; }

 private:
  void on_call_done(sim::Node& node, const CallResult& result) override;
  void think(sim::Node& node, std::uint64_t user);

  ClosedLoopClientConfig config_;
  Caller caller_;
  sim::Rng think_rng_;
  sim::Rng key_rng_;
  std::shared_ptr<const KeyPicker> key_picker_;
  std::unique_ptr<sim::Rng> operation_rng_;  // only when drawn from, as an open-loop client's
  std::unique_ptr<sim::Rng> poison_rng_;
  sim::Time measure_from_, measure_to_;
  std::uint64_t requests_sent_ = 0, writes_sent_ = 0;
};

}  // namespace models
