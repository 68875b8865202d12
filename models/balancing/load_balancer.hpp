// A load balancer: one node in front of the replicas of `backends`. Clients call it like a
// server; it forwards each request to one backend and relays the answer.
//
// Semantics:
// - Forwarding. An RpcRequest from a caller goes to one backend in rotation chosen by `policy`
//   (models/balancing/lb_policy.hpp: round_robin, random, least_outstanding, p2c, sticky by request
//   key), with the caller's key, deadline and ids, one more hop, and the LB's own call id: an entry
//   of a SlotTable that remembers the caller and its call id (no allocation per request once the
//   table has grown to the peak number in flight). The backend's answer goes back to the
//   caller with the caller's call id, outcome and value. A request that arrives with its
//   deadline already past is answered Dropped, unforwarded.
// - No retries: a failed forward is the caller's failure (retry policies belong to callers).
// - Timeout. With `timeout` > 0 the LB answers Timeout itself when the backend has not answered
//   within it (on the LB's clock; the late answer is then ignored and counted). Independently,
//   it stops waiting at the caller's deadline, silently (nobody waits any more): that is what
//   frees the entry of a request lost with a crashed backend. With neither, such an entry is
//   held forever, exactly as a caller without a timeout would wait forever.
// - Rotation. A backend is in rotation when active health checks find it healthy
//   (models/balancing/health_checker.hpp, `health_check`) and passive outlier detection has not
//   ejected it (models/balancing/outlier_detector.hpp, `outlier_detection`). Both are off by
//   default: then every backend is always in rotation, crashed or not. A backend out of rotation
//   gets no new requests at all (requests already in flight to it still complete).
// - No backend in rotation: the request is answered Rejected at once (no_healthy_backend).
//   With `panic_threshold` P > 0 (Envoy's panic mode, Envoy's default is 50), when fewer than P %
//   of the backends are in rotation the LB ignores health and balances over all of them: better
//   some requests to dead backends than everything on a few survivors (or nothing at all).
// - Shuffle sharding (`shuffle_shard_size` k > 0; models/balancing/shuffle_shard.hpp): each
//   tenant (RpcRequest.tenant: the client's group) has its own k of the n backends, drawn once
//   at start from `shuffle_seed` and the tenant's name (the same on every LB replica, in every
//   run seed). A request is balanced by `policy` over its tenant's backends that are in
//   rotation (round_robin and least_outstanding keep a turn per tenant). In panic mode (decided
//   over all n backends, as without shards) it goes to any of its tenant's k, in rotation or
//   not. When none of the tenant's k is in rotation the request is answered Rejected at once
//   (shard_exhausted, also counted in no_healthy_backend): the isolation is the point, as in
//   AWS's design, and the tenant that broke its shard does not spill onto everyone else's;
//   with `shuffle_fallback` it goes to any backend in rotation instead (shard_fallbacks).
// - Load-aware policies count the requests this LB has in flight to each backend; several LB
//   nodes (count > 1) each see only their own.
// - A crash of the LB's node loses the forwarded requests (their callers time out) and its view
//   of the backends; a restart starts with every backend in rotation and probes at once. The
//   LB answers health probes itself (an LB behind an LB can be checked).
// - Randomness (random, p2c) comes from the node's stream "lb"; shuffle shards draw from their
//   own streams (shuffle_shard.hpp), not from the node's, so turning them on changes no other draw.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "models/balancing/health_checker.hpp"
#include "models/balancing/lb_policy.hpp"
#include "models/balancing/outlier_detector.hpp"
#include "models/balancing/shuffle_shard.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/request_recorder.hpp"
#include "models/shared/rpc.hpp"
#include "models/shared/slot_table.hpp"
#include "models/shared/state_timeline.hpp"

namespace models {

struct LoadBalancerConfig {
  static constexpr const char* kSummary =
      "A load balancer in front of the replicas of `backends`: forwards each request to one "
      "backend in rotation chosen by `policy` (round_robin, random, least_outstanding, p2c, "
      "sticky) and relays the answer; optional per-forward `timeout` (answered Timeout). Active "
      "`health_check` probes and passive `outlier_detection` take failing backends out of "
      "rotation; with none left, requests are answered Rejected. Optional shuffle sharding: each "
      "tenant balanced over its own `shuffle_shard_size` backends. No retries of its own.";

  ComponentRef backends;
  LbPolicy policy = LbPolicy::RoundRobin;
  sim::Duration timeout = sim::Duration::zero();
  double panic_threshold = 0;
  std::int64_t shuffle_shard_size = 0;
  std::int64_t shuffle_seed = 0;
  bool shuffle_fallback = false;
  HealthCheckConfig health_check;
  OutlierDetectionConfig outlier_detection;

  template <class V>
  void describe(V& v) {
    v.field("backends", backends, "the component whose replicas serve the requests (required)");
    v.field("policy", policy, "how a backend is chosen for each request", kLbPolicyChoices);
    v.field("timeout", timeout,
            "per forwarded request: no answer within it is answered Timeout; 0: none (the LB "
            "still stops waiting at the caller's deadline)",
            Limits{0});
    v.field("panic_threshold", panic_threshold,
            "when fewer than this % of the backends are in rotation, use all of them; 0: never",
            Limits{0, 100});
    v.field("shuffle_shard_size", shuffle_shard_size,
            "shuffle sharding: each tenant (client group) is balanced over its own this many "
            "backends, a combination drawn from shuffle_seed and the tenant's name; 0: off",
            Limits{0, 65536});
    v.field("shuffle_seed", shuffle_seed,
            "shuffle sharding: the seed of the tenants' combinations (the same in every run "
            "seed: vary it to compare assignments)",
            Limits{0, 1e15});
    v.field("shuffle_fallback", shuffle_fallback,
            "shuffle sharding: when none of a tenant's backends is in rotation, use any backend "
            "in rotation; false: answer Rejected (the tenant stays isolated)");
    v.section("health_check", health_check,
              "active health checks: probe every backend each interval");
    v.section("outlier_detection", outlier_detection,
              "passive ejection of backends whose requests keep failing");
  }
};

class LoadBalancer final : public Model, private HealthListener, private EjectionListener {
 public:
  using Config = LoadBalancerConfig;
  static Wiring wiring(const Config& c) {
    if (!c.health_check.enabled)
      return {.serves = {Protocol::Rpc, Protocol::Health},
              .calls = {{"backends", c.backends, {Protocol::Rpc}}}};
    return {.serves = {Protocol::Rpc, Protocol::Health},
            .calls = {{"backends",
                       c.backends,
                       {Protocol::Rpc, Protocol::Health},
                       "its health_check probes them"}}};
  }
  static FigureDocs figure_docs();
  /// Problems of a configuration that describe() cannot express.
  static std::vector<ConfigProblem> check(const Config& config);
  /// Problems against the backends' node count (`nodes` of a reference): a shuffle shard
  /// larger than the backends.
  static std::vector<ConfigProblem> check_targets(
      const Config& config, const std::function<std::size_t(const ComponentRef&)>& nodes);

  enum TimerKind : std::uint32_t {
    kForwardTimeout = 1,
    kHealthTick = 2,
    kProbeTimeout = 3,
    kEjectionEnd = 4
  };

  /// `backend_names`: for the state timelines. Figures count over [measure_from, measure_to].
  /// `tenants`: the run's recorder, whose group names are the tenants of shuffle sharding (read
  /// at the first start, once every client has named its group); needed only with shards.
  LoadBalancer(const LoadBalancerConfig& config, sim::Node& node, std::vector<sim::NodeId> backends,
               const std::vector<std::string>& backend_names, sim::Time measure_from,
               sim::Time measure_to, const RequestRecorder* tenants = nullptr);

  /// The instance for ctx.nodes[replica]. Throws std::invalid_argument (a scenario error) when
  /// the backends are missing or the configuration is inconsistent. Does not attach it.
  static std::unique_ptr<Model> make(const LoadBalancerConfig& config, BuildContext& ctx,
                                     std::size_t replica);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  std::vector<const StateTimeline*> state_timelines() const override;

  // For tests and timelines: the LB's current view.
  std::size_t backend_count() const { return backends_.size(); }
  bool in_rotation(std::uint32_t backend) const;
  std::uint32_t outstanding(std::uint32_t backend) const { return outstanding_[backend]; }
  std::size_t in_flight() const { return forwards_.size(); }
  /// Requests forwarded to each backend since the start of the run (not only measured).
  const std::vector<std::uint64_t>& forwarded_per_backend() const { return forwarded_total_; }
  const HealthChecker& health_checker() const { return checker_; }
  /// The tenants' shuffle shards (empty when shuffle sharding is off, or before the start).
  const ShuffleShards& shuffle_shards() const { return shards_; }
  const OutlierDetector& outlier_detector() const { return detector_; }

 private:
  struct Forward {
    sim::NodeId caller = sim::kNoNode;
    std::uint64_t call_id = 0;  // the caller's
    std::uint32_t backend = 0;
    bool expires_at_deadline = false;  // the timer is the caller's deadline, not our timeout
    sim::TimerId timer;
  };

  void forward(sim::Node& node, const sim::Message& message);
  /// The backends a request of `tenant` may go to: the rotation (or everyone in panic mode), or
  /// with shuffle sharding its shard's part of it (in `shard_candidates_`); empty: none.
  std::span<const std::uint32_t> candidates(std::uint16_t tenant, bool& fallback);
  void relay(sim::Node& node, const sim::Message& message);
  void forward_expired(sim::Node& node, SlotTable<Forward>::Id id);
  /// Ends a forward (answered or expired): frees its entry, feeds outlier detection.
  Forward settle(sim::Node& node, SlotTable<Forward>::Id id, Outcome outcome);
  void on_health_changed(sim::Node& node, std::uint32_t backend, bool healthy) override;
  void on_ejection_changed(sim::Node& node, std::uint32_t backend, bool ejected) override;
  /// Recomputes the backends in rotation (and panic mode) after a change of health.
  void rotation_changed(sim::Node& node);
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  LoadBalancerConfig config_;
  std::vector<sim::NodeId> backends_;
  std::vector<std::uint64_t> seeds_;        // rendezvous identity of each backend (its name)
  std::vector<std::uint32_t> outstanding_;  // in flight from this LB, per backend
  std::vector<std::uint32_t> rotation_;     // backends requests may go to, ascending
  std::vector<std::uint32_t> everyone_;     // 0..n-1, for panic mode
  bool panic_ = false;
  const RequestRecorder* tenants_;
  ShuffleShards shards_;                         // built at the first start
  std::vector<std::uint32_t> shard_candidates_;  // scratch: a shard's backends in rotation
  std::vector<std::uint64_t> shard_turns_;       // per tenant (last: the anonymous one)
  BackendPicker picker_;
  HealthChecker checker_;
  OutlierDetector detector_;
  SlotTable<Forward> forwards_;
  std::vector<StateTimeline> timelines_;  // one per backend, when health is tracked at all
  sim::Time measure_from_, measure_to_;
  TimeAverage out_of_rotation_;
  // Counted over the measured interval, except forwarded_total_.
  std::vector<std::uint64_t> forwarded_total_, forwarded_measured_;
  std::uint64_t forwarded_ = 0, no_healthy_ = 0, panic_forwarded_ = 0, timeouts_ = 0,
                deadline_expired_ = 0, dropped_ = 0, late_ = 0, shard_exhausted_ = 0,
                shard_fallbacks_ = 0;
};

}  // namespace models
