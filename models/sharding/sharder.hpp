// A sharder: a router in front of the shards of a sharded service, which sends each request to
// the shard that owns its key (Burns, "Designing Distributed Systems", sharded services: the
// sharding ambassador / sharding proxy).
//
// Semantics, for each request that arrives:
// - Shards: the target's nodes are shards of consecutive nodes: `replicas` each, except the
//   shards named in `shard_replicas` ({"shard": 2, "replicas": 3}: a hot shard alone gets more
//   replicas). Shard 0 is the first nodes, and so on; S = the shards they make up.
// - Routing: the request's key (RpcRequest.key: the clients' `keys`, uniform, Zipf or named hot
//   keys) goes through the sharding function `function` over the active shards
//   (models/sharding/shard_function.hpp: modulo, consistent_hash with `virtual_nodes` points per
//   shard, rendezvous, jump, or range over `range_splits`; the key hash is SplitMix64's
//   finalizer, documented there). The functions are built once at start-up; routing a request
//   allocates nothing.
// - Salting (`salt`: [{"key": 0, "ways": 4}], models/sharding/key_salting.hpp): a salted key is
//   split into `ways` sub-keys routed like any key. With `salt_spread` "writes", a write
//   (operation kOpWrite) goes to one sub-key drawn at random, a read fans out to all of them;
//   with "reads", the other way round. A fanned-out request is answered when every part has
//   ended: Ok if all were Ok, else the first failure's answer.
// - Forwarding: one logical request of the sharder's own Caller (models/shared/caller.hpp) per
//   part to the owner shard: each try goes to one replica of that shard drawn uniformly at
//   random, and `timeout`, `retry`, `circuit_breaker` and `hedge` (to another replica of the
//   same shard) act per call, as a relay's. The request keeps its operation, the originating
//   client's request_id and origin, hops + 1 (and its key, or the sub-key).
// - Deadlines are always propagated (gRPC's deadline propagation, as a relay's
//   `propagate_deadline`): no try waits past the request's own deadline, each carries at most
//   it, and no retry starts after it; a request whose deadline has already passed when it
//   arrives is answered Timeout at once, unforwarded (expired_before_forward).
// - Answer: when the Caller's requests end, the outcome goes upstream mapped as a relay maps it
//   (models/services/relay.hpp, relay_answer): Ok -> Ok, Timeout -> Timeout, any other failure
//   -> Error.
// - Load per shard: the calls routed to each shard (measured interval) give max_shard_share,
//   min_shard_share and imbalance (the most loaded shard's calls over the mean per shard: 1 is
//   even, S is everything on one shard; hot shards show as imbalance > 1). With `per_shard`
//   (on by default, up to 256 shards) each shard i also has indexed figures: its rate, share,
//   replicas, and the p99 and mean of the sharder's calls to it (a histogram of 2^7 buckets per
//   power of two per shard: under 1 % error, 58 kB each).
// - Concurrency is unbounded and routing costs no time (an ambassador beside the client).
// - Resharding: `shards` shards are active at the start (0: all S); each step of `reshard`
//   ({"at": time from the start of the run, "shards": count}, in time order, counts up to S)
//   switches the function to its count at that true time (a timer set for the next step; after
//   a restart, the steps that came due meanwhile are applied at once). Shards beyond the active
//   count get no requests; the functions for every count are built at start-up.
// - Ejection (`eject_after` > 0; twemproxy's auto_eject_hosts with server_failure_limit and
//   server_retry_timeout, as for a memcached pool): after `eject_after` consecutive calls to a
//   shard that failed (any outcome but Ok, retries included), the shard leaves the map for
//   `eject_for` and its keys go to the other shards by the function over the shards left
//   (ShardFunction::over: consistent_hash and rendezvous move only its keys; modulo and jump
//   renumber the rest and move most keys). Then it is back, with a clean count. The last shard
//   is never ejected. Rebuilding the map allocates (at an ejection, not per request). The
//   counts and ejections are the sharder's memory: a crash forgets them.
// - Migration (`migration`, models/sharding/key_migration.hpp): "instant" (the default: the
//   map switches and the new owner is taken to have the data at once -- a cache shard just
//   misses), or the moved keys among 0 .. keys - 1 are copied to their new owners at
//   `migration_rate` keys/s, and until a key has arrived it is "unavailable" (answered Error at
//   once: refused_moving) or served by its "old_owner" (served_by_old_owner).
// - Keys moved (when `keys` > 0): the sharder remembers, for each key below `keys`, the shard it
//   last routed that key to (4 bytes per key, allocated at start-up; larger keys are not
//   tracked). At each change of the map (a step, an ejection, a return), every key routed at
//   least once since the start is compared under the old and the new function: keys_at_steps counts
//   them, keys_moved those whose owner changed. A request routed to another shard than the key's
//   last one is a request_to_new_owner: the first request for a moved key after a step, which a
//   cache shard would miss (a key moved back to an earlier owner counts again, as an evicting cache
//   would miss it). The table is a measurement of what the shards have seen, not the sharder's
//   state: it survives a crash of the sharder, as the migration's data placement does. With several
//   sharder replicas each keeps its own, and the sums count a key once per replica.
// - A crash loses the requests being forwarded (unanswered: the upstream times out), the
//   Caller's retry budget and breaker; the shard map is configuration and survives (a restart
//   applies the step in force). A pause holds everything (a step then comes late).
// Randomness: replica choices and salt sub-keys from the node's own stream, backoff jitter from
// "retry" (the Caller's); routing unsalted keys draws nothing.
//
// References: Burns (2018), chapter "Sharded Services"; Karger et al., "Consistent Hashing and
// Random Trees", STOC 1997; Thaler and Ravishankar, "A Name-Based Mapping Scheme for Rendezvous"
// (1996; IEEE/ACM ToN 1998); Lamping and Veach, "A Fast, Minimal Memory, Consistent Hash
// Algorithm" (2014); Vitillo (2021), "Understanding Distributed Systems", Partitioning.
// Differences from the references:
// - Burns' ambassador runs beside the client (in its pod); here it is a component of its own,
//   reached over the network (give it zero-latency links to its clients to model a sidecar).
// - Burns' shards are each a replicated service behind its own load balancer; here a shard's
//   replicas are picked uniformly at random per try by the Caller (no health checks, no
//   least-loaded choice). Put load balancers between them to model that.
// - Karger et al. place each server at several random points (their "copies"); here the points
//   are pseudo-random but fixed by (shard, virtual node), so that a ring is reproducible.
// - Rendezvous and jump hash as published pick among shards only; both take the key hash here,
//   not the raw key (Lamping and Veach also assume a hashed key).
// - A shard does not know which keys it owns: a request sent to the wrong shard is served there
//   (what it costs shows in requests_to_new_owner, or in a cache shard's misses).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/sharding/key_migration.hpp"
#include "models/sharding/key_salting.hpp"
#include "models/sharding/shard_function.hpp"
#include "models/shared/caller.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/rpc.hpp"
#include "models/shared/slot_table.hpp"
#include "sim/latency_histogram.hpp"

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

/// A shard with its own replica count.
struct ShardReplicas {
  std::int64_t shard = 0;
  std::int64_t replicas = 1;

  template <class V>
  void describe(V& v) {
    v.field("shard", shard, "the shard (0 is the first)", Limits{0, 1e6});
    v.field("replicas", replicas, "its replicas", Limits{1, 1e6});
  }
};

enum class MigrationMode : std::uint8_t { Instant, Unavailable, OldOwner };

inline constexpr std::array<Choice<MigrationMode>, 3> kMigrationChoices{{
    {"instant", MigrationMode::Instant, "the new owner has a moved key at once"},
    {"unavailable", MigrationMode::Unavailable,
     "a moved key is refused (Error) until copied at migration_rate"},
    {"old_owner", MigrationMode::OldOwner,
     "a moved key is served by its old owner until copied at migration_rate"},
}};

struct SharderConfig {
  static constexpr const char* kSummary =
      "A sharding router (Burns' sharding ambassador): routes each request by its key to the "
      "shard that owns it -- `modulo`, `consistent_hash` (`virtual_nodes` per shard), "
      "`rendezvous`, `jump` or `range` (`range_splits`) -- through its own caller (`timeout`, "
      "`retry`, `hedge` per call, the request's deadline propagated) to one of the shard's "
      "`replicas`, and answers upstream as a relay. Reshards on schedule (keys moved, "
      "migration), salts hot keys, and reports each shard's load, p99 and the imbalance.";

  /// The most shards with per-shard figures (five figures and a histogram each).
  static constexpr std::int64_t kMaxPerShard = 256;

  std::int64_t replicas = 1;
  std::vector<ShardReplicas> shard_replicas;
  ShardFunctionKind function = ShardFunctionKind::ConsistentHash;
  std::int64_t virtual_nodes = 100;
  std::vector<RangeSplit> range_splits;
  std::int64_t shards = 0;
  std::vector<ReshardStep> reshard;
  MigrationMode migration = MigrationMode::Instant;
  Rate migration_rate{1000};
  std::int64_t keys = 0;
  std::vector<SaltedKey> salt;
  SaltSpread salt_spread = SaltSpread::Writes;
  std::int64_t eject_after = 0;
  sim::Duration eject_for = sim::Duration::nanoseconds(10'000'000'000);
  bool per_shard = true;
  CallerConfig call;  // target (the shards), timeout, retry, circuit_breaker, hedge

  template <class V>
  void describe(V& v) {
    call.describe(v);
    v.field("replicas", replicas,
            "replicas per shard: the target's nodes are shards of this many consecutive nodes "
            "(but for shard_replicas)",
            Limits{1, 1e6});
    v.list("shard_replicas", shard_replicas,
           "shards with their own replica count ({\"shard\": 0, \"replicas\": 3}); the target's "
           "nodes must add up");
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
    v.field("migration", migration, "what happens to the keys a step moves", kMigrationChoices);
    v.field("migration_rate", migration_rate,
            "keys copied per second after a step (unavailable, old_owner)", Limits{1e-3});
    v.field("keys", keys,
            "track the keys 0 .. keys - 1 for keys_moved, requests_to_new_owner and migration "
            "(0: do not track); costs 4 bytes per key, 28 with a migration",
            Limits{0, 1e8});
    v.list("salt", salt,
           "hot keys split into sub-keys on several shards ({\"key\": 0, \"ways\": 4})");
    v.field("salt_spread", salt_spread, "which operation a salted key spreads", kSaltSpreadChoices);
    v.field("eject_after", eject_after,
            "consecutive failed calls to a shard that eject it from the map (0: never)",
            Limits{0, 1e9});
    v.field("eject_for", eject_for, "how long an ejected shard stays out", Limits{1e-9});
    v.field("per_shard", per_shard,
            "report each shard's rate, share, replicas, p99 and mean (at most 256 shards)");
  }
};

class Sharder final : public Model, private CallerListener {
 public:
  using Config = SharderConfig;
  /// kCall is the first of the Caller's Caller::kTimerKinds kinds.
  enum TimerKind : std::uint32_t {
    kCall = 1,
    kReshard = kCall + Caller::kTimerKinds,
    kReturn,  // an ejected shard comes back; the tag's value is the shard
  };

  static Wiring wiring(const Config& c) {
    return {.serves = {Protocol::Rpc, Protocol::Health},
            .calls = {{"target", c.call.target, c.call.speaks()}}};
  }
  static FigureDocs figure_docs();
  static std::vector<ConfigProblem> check(const Config& c);
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);
  /// The sharding function of `config` over `shards` shards (range splits checked by
  /// check_targets).
  static ShardFunction shard_function(const Config& config, std::uint32_t shards);
  /// Problems against the target's node count: replicas that do not add up to it, listed
  /// shards, `shards` or reshard steps past the shards it makes, range splits that do not
  /// match them, per-shard figures for too many.
  static std::vector<ConfigProblem> check_targets(
      const Config& config, const std::function<std::size_t(const ComponentRef&)>& nodes);
  /// Each shard's replica count for a target of `nodes` nodes (check_targets found none).
  static std::vector<std::size_t> shard_sizes(const Config& config, std::size_t nodes);

  /// `targets`: the target's nodes, shard by shard as `sizes` says. Figures count over
  /// [measure_from, measure_to].
  Sharder(const Config& config, std::vector<sim::NodeId> targets,
          const std::vector<std::size_t>& sizes, sim::Time measure_from, sim::Time measure_to);

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
  const ShardFunction& function() const { return ejected_map_ ? *ejected_map_ : functions_[step_]; }
  /// Calls routed to each shard in the measured interval.
  const std::vector<std::uint64_t>& shard_requests() const { return shard_calls_; }
  /// Requests received and not yet answered.
  std::size_t in_progress() const { return inbound_.size(); }
  /// The shard count in force.
  std::uint32_t active_shards() const { return function().shards(); }

 private:
  struct Inbound {
    sim::NodeId from = sim::kNoNode;
    std::uint64_t call_id = 0;
    std::uint32_t pending = 0;      // parts not ended yet
    Outcome outcome = Outcome::Ok;  // the first failure's answer, or Ok
  };
  struct Part {  // one call to a shard, for an inbound request
    std::uint64_t inbound = 0;
    std::uint32_t shard = 0;
  };
  static constexpr int kShardHistogramBits = 7;

  void on_request(sim::Node& node, const sim::Message& message);
  void on_call_done(sim::Node& node, const CallResult& result) override;
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }
  /// Applies the steps that are due at `now`, then sets a timer for the next one.
  void apply_due_steps(sim::Node& node);
  void track(std::uint64_t key, std::uint32_t shard, bool counted);
  /// Counts the tracked keys seen so far and those whose owner differs from `before` to now.
  void count_moves(const ShardFunction& before, sim::Time now);
  /// A call to `shard` ended: counts its failures, and ejects it after eject_after of them.
  void on_shard_outcome(sim::Node& node, std::uint32_t shard, Outcome outcome);
  /// Rebuilds the map over the active shards not ejected.
  void rebuild_map();
  /// Sends one part of inbound request `id`, for `key` (the request's or a sub-key), to its
  /// shard; a key being copied under an unavailable migration ends the part with Error.
  void send_part(sim::Node& node, const RpcRequest& request, std::uint64_t key, std::uint64_t id,
                 bool counted);
  /// One part of request `id` ended with `outcome`; the last one answers upstream.
  void end_part(sim::Node& node, std::uint64_t id, Outcome outcome);

  static constexpr std::uint32_t kNever = 0xFFFF'FFFF;  // a key not routed yet

  Config config_;
  std::vector<ShardFunction> functions_;   // [0]: the start; [i]: after reshard step i - 1
  std::size_t step_ = 0;                   // steps applied: functions_[step_] is in force
  std::vector<std::uint32_t> last_owner_;  // per tracked key; survives a crash (see above)
  KeySalting salting_;
  std::optional<KeyMigration> migration_;     // unless migration is instant
  std::vector<std::uint64_t> failures_;       // consecutive failed calls per shard (eject_after)
  std::vector<bool> out_;                     // ejected, per shard
  std::size_t ejected_ = 0;                   // shards out
  std::optional<ShardFunction> ejected_map_;  // the map without them, while ejected_ > 0
  Caller caller_;
  SlotTable<Inbound> inbound_;
  SlotTable<Part> parts_;
  std::vector<std::size_t> shard_replicas_;
  std::vector<std::uint64_t> shard_calls_;            // measured
  std::vector<sim::LatencyHistogram> shard_latency_;  // measured; only with per_shard
  sim::Time measure_from_, measure_to_;
  std::uint64_t requests_ = 0, routed_ = 0, answered_ok_ = 0, answered_failed_ = 0, expired_ = 0;
  std::uint64_t keys_at_steps_ = 0, keys_moved_ = 0, to_new_owner_ = 0;
  std::uint64_t keys_to_migrate_ = 0, refused_moving_ = 0, served_by_old_owner_ = 0;
  std::uint64_t salted_ = 0, fanned_out_ = 0, ejections_ = 0;
};

}  // namespace models
