// An ambassador with a canary split: a proxy on its application's machine (Burns, "Designing
// Distributed Systems", ch. 3, "Using an Ambassador to Do Experimentation or Request
// Splitting"; put it there with `"colocate_with": "app"`) that sends most requests to `target`,
// the baseline, and `canary_percent` % of them to `canary`, a new version of the service, and
// watches the canary: every `analysis.interval` it compares the canary's error rate and p99
// with the baseline's (models/proxies/canary_analysis.hpp) and, on the first failed analysis,
// sends everything to the baseline from then on (`analysis.rollback`: Flagger's automated
// rollback).
//
// Semantics, for each request that arrives:
// 1. Route: the baseline before `canary_start` (the canary's deployment, from the start of the
//    run) and after a rollback; otherwise the canary for canary_percent % of the requests:
//    - split "request": each request on its own, a draw from the node's stream "canary_split";
//    - split "tenant": sticky per tenant (RpcRequest.tenant, the client's group): a tenant goes
//      to the canary when a hash of (tenant, the ambassador's component name) falls in the
//      first canary_percent % of [0, 100). Every replica of the ambassador agrees, at every
//      time, and raising the percentage only adds tenants. With few tenants the canary's share
//      is lumpy: the percentage of tenants, not of requests;
//    - split "key": the same per request key (a user, a session: the clients' `keys`).
// 2. Forward through the ambassador's Caller (models/shared/caller.hpp; `timeout`, `retry`,
//    `circuit_breaker`, `hedge` as for a client), whose targets are the two components as two
//    shards: a request stays on its route for all its tries (a retry of a canary request goes
//    to the canary). The incoming request's deadline caps the calls (as a relay's
//    `propagate_deadline`, always on); a request that arrives after its deadline is answered
//    Timeout at once, uncalled.
// 3. Answer upstream as a relay does (relay.hpp: Ok; Timeout; any other failure as Error), and
//    count the request on its route: requests, failures (not Ok after the ambassador's tries),
//    latency of the successful ones (from arrival to answer, for p50 and p99).
// 4. Analysis, from canary_start + interval, every interval, on the requests of each route that
//    ended since the last conclusive analysis (canary_analysis.hpp); none after a rollback.
// A crash loses the requests in progress and the analysis windows (volatile); the rollout's
// state (rolled back or not, when the canary first failed) is durable: it is the control
// plane's (Flagger keeps it in the Canary resource), and a restarted ambassador keeps it.
// Randomness: the split's draws from "canary_split", replica choices from the node's own
// stream, backoff jitter from "retry".
//
// Differences from a mesh's traffic split (Istio's weighted VirtualService routes driven by
// Flagger or Argo Rollouts):
// - Istio weights are per request (like split "request"); stickiness needs header or cookie
//   matches on separate routes (Flagger's A/B testing); here a hash does it.
// - One breaker for both routes: a failing canary can open the breaker for the baseline's
//   requests too (Envoy keeps one per upstream cluster).
// - Each ambassador replica decides on its own traffic; Flagger decides once, for all proxies,
//   from metrics aggregated over all of them.
// - No promotion: the canary's share stays canary_percent until the end or the rollback.
// - No cost of its own: the proxy adds no latency (a relay's service_time and
//   response_overhead model one, models/services/relay.hpp).
// The canary may be the target itself: an A/A test (Kayenta's advice), to see how often the
// analysis fails two identical versions.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "models/proxies/canary_analysis.hpp"
#include "models/shared/caller.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/rpc.hpp"
#include "models/shared/slot_table.hpp"
#include "sim/latency_histogram.hpp"

namespace models {

enum class CanarySplit { Request, Tenant, Key };

inline constexpr std::array<Choice<CanarySplit>, 3> kCanarySplitChoices{{
    {"request", CanarySplit::Request, "each request on its own (Istio's weighted routes)"},
    {"tenant", CanarySplit::Tenant, "sticky per tenant: all of a client group's requests alike"},
    {"key", CanarySplit::Key, "sticky per request key (a user, a session)"},
}};

struct AmbassadorConfig {
  static constexpr const char* kSummary =
      "An ambassador with a canary split (Burns's request-splitting ambassador): forwards "
      "`canary_percent` % of the requests (per request, or sticky per tenant or key) to "
      "`canary` and the rest to `target` through its own caller (`timeout`, `retry`, "
      "`circuit_breaker`), from `canary_start`; every `analysis.interval` compares the canary's "
      "error rate (one-sided z-test) and p99 with the baseline's, and on the first failure "
      "rolls back (all traffic to the baseline). Per-route figures and the blast radius.";

  ComponentRef canary;
  double canary_percent = 0;
  CanarySplit split = CanarySplit::Request;
  sim::Duration canary_start = sim::Duration::zero();
  CanaryAnalysisConfig analysis;
  CallerConfig call;  // target (the baseline), timeout, ..., retry, circuit_breaker

  template <class V>
  void describe(V& v) {
    v.field("canary", canary, "the new version: the component that gets the canary's share");
    v.field("canary_percent", canary_percent,
            "the share of requests (or of tenants or keys) sent to the canary, in %",
            Limits{0, 100});
    v.field("split", split, "what the canary's share is a share of", kCanarySplitChoices);
    v.field("canary_start", canary_start,
            "when the canary starts receiving traffic, from the start of the run", Limits{0});
    v.section("analysis", analysis,
              "canary analysis: compare the canary with the baseline, roll back on a failure "
              "(Kayenta, Flagger, Argo Rollouts)");
    call.describe(v);
  }
};

class Ambassador final : public Model, private CallerListener {
 public:
  using Config = AmbassadorConfig;
  static Wiring wiring(const Config& c) {
    return {.serves = {Protocol::Rpc, Protocol::Health},
            .calls = {{"target", c.call.target, c.call.speaks()},
                      {"canary", c.canary, c.call.speaks()}}};
  }
  static FigureDocs figure_docs();

  enum TimerKind : std::uint32_t { kAnalysis = 1, kCall = 2 };  // the Caller: kCall to 5
  enum Route : std::uint32_t { kBaseline = 0, kCanary = 1 };

  /// `baseline` and `canary`: the nodes of the two components (neither empty). `salt`: the
  /// sticky splits' hash salt (the component's name, hashed). Times are true times.
  Ambassador(const AmbassadorConfig& config, sim::Node& node, std::vector<sim::NodeId> baseline,
             std::vector<sim::NodeId> canary, std::uint64_t salt, sim::Time measure_from,
             sim::Time measure_to);

  static std::unique_ptr<Model> make(const AmbassadorConfig& config, BuildContext& ctx,
                                     std::size_t replica);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  std::vector<const StateTimeline*> state_timelines() const override {
    return caller_.state_timelines();
  }

  /// Whether a request with this tenant and key would go to the canary under a sticky split
  /// (a pure function of the configuration and the salt; the per-request split draws instead).
  bool sticky_canary(std::uint16_t tenant, std::uint64_t key) const;
  bool rolled_back() const { return rolled_back_; }
  /// When the first analysis failed (true time), if one has.
  std::optional<sim::Time> canary_failed_at() const { return failed_at_; }
  std::uint64_t analyses() const { return analyses_; }
  std::uint64_t analyses_failed() const { return analyses_failed_; }
  /// The last conclusive verdict (for tests).
  const CanaryVerdict& last_verdict() const { return last_verdict_; }
  const Caller& caller() const { return caller_; }

 private:
  struct Inbound {
    sim::NodeId from = sim::kNoNode;
    RpcRequest request;
    Route route = kBaseline;
    sim::Time arrived;  // true time
  };
  struct RouteFigures {
    std::uint64_t requests = 0, failures = 0;
    sim::LatencyHistogram latency;  // successful requests, measured
  };

  void on_call_done(sim::Node& node, const CallResult& result) override;
  Route choose_route(sim::Node& node, const RpcRequest& request);
  void arm_analysis(sim::Node& node);
  void analyse(sim::Node& node);
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }
  /// Analyses are on and the canary has not been rolled back.
  bool analysing() const {
    return config_.analysis.interval > sim::Duration::zero() && !rolled_back_;
  }

  AmbassadorConfig config_;
  Caller caller_;
  CanaryAnalysis analysis_;
  sim::Rng split_rng_;
  std::uint64_t salt_;
  SlotTable<Inbound> inbound_;
  sim::Time measure_from_, measure_to_;
  std::array<RouteFigures, 2> routes_;
  std::array<RouteWindow, 2> window_;
  std::uint64_t expired_ = 0;
  // The rollout's state: durable (kept across a crash).
  bool rolled_back_ = false;
  std::optional<sim::Time> failed_at_;
  std::uint64_t analyses_ = 0, analyses_inconclusive_ = 0, analyses_failed_ = 0;
  CanaryVerdict last_verdict_;
};

}  // namespace models
