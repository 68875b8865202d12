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
// - Resharding: `shards` shards are active at the start (0: all of the target's S); each step
//   of `reshard` ({"at": time from the start of the run, "shards": count}, in time order,
//   counts up to S) switches the function to its count at that true time (a timer set for the
//   next step; after a restart, the steps that came due meanwhile are applied at once). Shards
//   beyond the active count get no requests; the functions for every count are built at
//   start-up, so a step allocates nothing. Like Burns' ambassador with a new shard map, the
//   switch is instant: no migration, no old owner serving moved keys.
// - Keys moved (when `keys` > 0): the sharder remembers, for each key below `keys`, the shard it
//   last routed that key to (a table of `keys` x 4 bytes, allocated at start-up: 40 kB for
//   10,000 keys, 4 MB for 10^6; larger keys are not tracked). At each step, every key routed at
//   least once since the start is compared under the old and the new function:
//   keys_at_steps counts them, keys_moved those whose owner changed. A request routed to another
//   shard than the key's last one is a request_to_new_owner: the first request for a moved key
//   after a step, which a cache shard would miss (the new owner has never seen the key; a key
//   moved back to an earlier owner counts again, as an evicting cache would miss it). The
//   table is a measurement of what the shards have seen, not the sharder's state: it survives
//   a crash of the sharder. With several sharder replicas each keeps its own, and the sums
//   count a key once per replica.
// - A crash loses the requests being forwarded (unanswered: the upstream times out), the
//   Caller's retry budget and breaker; the shard map is configuration and survives (a restart
//   applies the step in force). A pause holds everything (a step then comes late).
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

/// From `at` (since the start of the run) on, `shards` shards are active.
struct ReshardStep {
  sim::Duration at;
  std::int64_t shards = 1;

  template <class V>
  void describe(V& v) {
    v.field("at", at, "when the shard count changes, from the start of the run", Limits{0});
    v.field("shards", shards, "the active shard count from then on (at most the target's)",
            Limits{1, 1e6});
  }
};

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
  std::int64_t shards = 0;
  std::vector<ReshardStep> reshard;
  std::int64_t keys = 0;
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
    v.field("shards", shards,
            "shards active at the start (0: all of the target's); the others get no requests "
            "until a `reshard` step activates them",
            Limits{0, 1e6});
    v.list("reshard", reshard,
           "resharding steps, in time order ({\"at\": \"20s\", \"shards\": 5}): from `at` on, "
           "the function routes over that many shards (not with range)");
    v.field("keys", keys,
            "track the keys 0 .. keys - 1 for keys_moved and requests_to_new_owner (0: do not "
            "track); costs 4 bytes per key",
            Limits{0, 1e8});
  }
};

class Sharder final : public Model, private CallerListener {
 public:
  using Config = SharderConfig;
  /// kCall is the first of the Caller's Caller::kTimerKinds kinds.
  enum TimerKind : std::uint32_t { kCall = 1, kReshard = kCall + Caller::kTimerKinds };

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
  /// The sharding function in force.
  const ShardFunction& function() const { return functions_[step_]; }
  /// Requests routed to each shard in the measured interval.
  const std::vector<std::uint64_t>& shard_requests() const { return shard_requests_; }
  /// Requests received and not yet answered.
  std::size_t in_progress() const { return inbound_.size(); }
  /// The shard count in force.
  std::uint32_t active_shards() const { return functions_[step_].shards(); }

 private:
  struct Inbound {
    sim::NodeId from = sim::kNoNode;
    std::uint64_t call_id = 0;
  };

  void on_request(sim::Node& node, const sim::Message& message);
  void on_call_done(sim::Node& node, const CallResult& result) override;
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }
  /// Applies the steps that are due at `now`, then sets a timer for the next one.
  void apply_due_steps(sim::Node& node);
  void track(std::uint64_t key, std::uint32_t shard, bool counted);

  static constexpr std::uint32_t kNever = 0xFFFF'FFFF;  // a key not routed yet

  Config config_;
  std::size_t available_;                  // the target's shards: its nodes / replicas
  std::vector<ShardFunction> functions_;   // [0]: the start; [i]: after reshard step i - 1
  std::size_t step_ = 0;                   // steps applied: functions_[step_] is in force
  std::vector<std::uint32_t> last_owner_;  // per tracked key; survives a crash (see above)
  Caller caller_;
  SlotTable<Inbound> inbound_;
  std::vector<std::uint64_t> shard_requests_;
  sim::Time measure_from_, measure_to_;
  std::uint64_t requests_ = 0, routed_ = 0, answered_ok_ = 0, answered_failed_ = 0, expired_ = 0;
  std::uint64_t keys_at_steps_ = 0, keys_moved_ = 0, to_new_owner_ = 0;
};

}  // namespace models
