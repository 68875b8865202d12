// A sharder: a router in front of the shards of a sharded service, which sends each request to
// the shard that owns its key (Burns, "Designing Distributed Systems", sharded services: the
// sharding ambassador / sharding proxy).
//
// Semantics, for each request that arrives:
// - Shards: the target's nodes are shards of `replicas` consecutive nodes each (replicated
//   shards, as for a scatter/gather root: shard i is nodes i*replicas .. i*replicas + replicas
//   - 1); S = the target's nodes / replicas.
// - Routing: the request's key (RpcRequest.key: the clients' `keys`, uniform or Zipf) goes
//   through the sharding function `function` over S shards (models/sharding/shard_function.hpp:
//   modulo, consistent_hash with `virtual_nodes` points per shard, rendezvous, jump, or range
//   over `range_splits`; the key hash is SplitMix64's finalizer, documented there). The
//   function is built once at start-up; routing a request allocates nothing.
// - Forwarding: one logical request of the sharder's own Caller (models/shared/caller.hpp) to
//   the owner shard: each try goes to one replica of that shard drawn uniformly at random, and
//   `timeout`, `retry`, `circuit_breaker` and `hedge` (to another replica of the same shard) act
//   per call, as a relay's. The request keeps its key, operation, the originating client's
//   request_id and origin, hops + 1.
// - Deadlines are always propagated (gRPC's deadline propagation, as a relay's
//   `propagate_deadline`): no try waits past the request's own deadline, each carries at most
//   it, and no retry starts after it; a request whose deadline has already passed when it
//   arrives is answered Timeout at once, unforwarded (expired_before_forward).
// - Answer: when the Caller's request ends, the outcome goes upstream mapped as a relay maps it
//   (models/services/relay.hpp, relay_answer): Ok -> Ok, Timeout -> Timeout, any other failure
//   -> Error.
// - Load per shard: the requests routed to each shard (measured interval) give the figures
//   max_shard_share and min_shard_share (the most and least loaded shard's share of the routed
//   requests) and imbalance (the most loaded shard's requests over the mean per shard: 1 is
//   perfectly even, S is everything on one shard). Hot shards show as imbalance > 1.
// - Concurrency is unbounded and routing costs no time (an ambassador beside the client).
// - A crash loses the requests being forwarded (unanswered: the upstream times out), the
//   Caller's retry budget and breaker; the shard map is configuration and survives. A pause
//   holds everything.
// Randomness: replica choices from the node's own stream, backoff jitter from "retry" (the
// Caller's); routing itself draws nothing.
//
// References: Burns (2018), chapter "Sharded Services"; Karger et al., "Consistent Hashing and
// Random Trees", STOC 1997; Thaler and Ravishankar, "A Name-Based Mapping Scheme for Rendezvous"
// (1996; IEEE/ACM ToN 1998); Lamping and Veach, "A Fast, Minimal Memory, Consistent Hash
// Algorithm" (2014).
// Differences from the references:
// - Burns' ambassador runs beside the client (in its pod); here it is a component of its own,
//   reached over the network (give it zero-latency links to its clients to model a sidecar).
// - Burns' shards are each a replicated service behind its own load balancer; here a shard's
//   replicas are picked uniformly at random per try by the Caller (no health checks, no
//   least-loaded choice). Put load balancers between them to model that.
// - The shard count is fixed for a run: no resharding, no migration, no hot-key salting (later).
// - Karger et al. place each server at several random points (their "copies"); here the points
//   are pseudo-random but fixed by (shard, virtual node), so that a ring is reproducible.
// - Rendezvous and jump hash as published pick among shards only; both take the key hash here,
//   not the raw key (Lamping and Veach also assume a hashed key).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/sharding/shard_function.hpp"
#include "models/shared/caller.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/rpc.hpp"
#include "models/shared/slot_table.hpp"

namespace models {

/// One split point of range sharding.
struct RangeSplit {
  std::int64_t at = 0;

  template <class V>
  void describe(V& v) {
    v.field("at", at, "the first key of the next shard", Limits{1, 9.2e18});
  }
};

struct SharderConfig {
  static constexpr const char* kSummary =
      "A sharding router (Burns' sharding ambassador): routes each request by its key to the "
      "shard that owns it -- `modulo`, `consistent_hash` (`virtual_nodes` per shard), "
      "`rendezvous`, `jump` or `range` (`range_splits`) -- through its own caller (`timeout`, "
      "`retry`, `hedge` per call, the request's deadline propagated) to one of the shard's "
      "`replicas`, and answers upstream as a relay. Reports each shard's share of the load and "
      "the imbalance (hot shards).";

  std::int64_t replicas = 1;
  ShardFunctionKind function = ShardFunctionKind::ConsistentHash;
  std::int64_t virtual_nodes = 100;
  std::vector<RangeSplit> range_splits;
  CallerConfig call;  // target (the shards), timeout, retry, circuit_breaker, hedge

  template <class V>
  void describe(V& v) {
    call.describe(v);
    v.field("replicas", replicas,
            "replicas per shard: the target's nodes are shards of this many consecutive nodes "
            "(their count must divide the target's)",
            Limits{1, 1e6});
    v.field("function", function, "the sharding function", kShardFunctionChoices);
    v.field("virtual_nodes", virtual_nodes, "consistent_hash: points per shard on the ring",
            Limits{1, 1e5});
    v.list("range_splits", range_splits,
           "range: the S - 1 split points, increasing ({\"at\": key}); shard i owns the keys "
           "from split i - 1 up to split i");
  }
};

class Sharder final : public Model, private CallerListener {
 public:
  using Config = SharderConfig;
  /// kCall is the first of the Caller's Caller::kTimerKinds kinds.
  enum TimerKind : std::uint32_t { kCall = 1 };

  static Wiring wiring(const Config& c) {
    return {.serves = {Protocol::Rpc, Protocol::Health},
            .calls = {{"target", c.call.target, c.call.speaks()}}};
  }
  static FigureDocs figure_docs();
  static std::vector<ConfigProblem> check(const Config& c);
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);
  /// The sharding function of `config` over `shards` shards. Throws std::invalid_argument (a
  /// scenario error) when range splits do not fit.
  static ShardFunction shard_function(const Config& config, std::uint32_t shards);

  /// `shards`: the target's nodes (a multiple of config.replicas). Figures count over
  /// [measure_from, measure_to].
  Sharder(const Config& config, std::vector<sim::NodeId> shards, sim::Time measure_from,
          sim::Time measure_to);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  std::vector<const StateTimeline*> state_timelines() const override {
    return caller_.state_timelines();
  }

  const Caller& caller() const { return caller_; }
  const ShardFunction& function() const { return function_; }
  /// Requests routed to each shard in the measured interval.
  const std::vector<std::uint64_t>& shard_requests() const { return shard_requests_; }
  /// Requests received and not yet answered.
  std::size_t in_progress() const { return inbound_.size(); }

 private:
  struct Inbound {
    sim::NodeId from = sim::kNoNode;
    std::uint64_t call_id = 0;
  };

  void on_request(sim::Node& node, const sim::Message& message);
  void on_call_done(sim::Node& node, const CallResult& result) override;
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  Config config_;
  ShardFunction function_;
  Caller caller_;
  SlotTable<Inbound> inbound_;
  std::vector<std::uint64_t> shard_requests_;
  sim::Time measure_from_, measure_to_;
  std::uint64_t requests_ = 0, routed_ = 0, answered_ok_ = 0, answered_failed_ = 0, expired_ = 0;
};

}  // namespace models
