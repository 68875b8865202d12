// A leaderless replicated key-value store (Dynamo-style): every key lives on N replicas of the
// component, any replica coordinates a client's request, a write is acknowledged when W replicas
// have it and a read answered from the first R replies, versions are last-write-wins timestamps
// of the coordinator's wall clock; read repair, and optionally a sloppy quorum with hinted
// handoff. The lessons: R + W > N reads the latest acknowledged write, R + W <= N may not (and
// how likely a stale read is falls with the time since the write: PBS); wall-clock timestamps
// make clock skew decide which write wins; a quorum is available while enough replicas are up.
//
// Semantics, in the order a request meets them:
// - Placement: `count` nodes; key k's preference list is the first `replication_factor` (N)
//   distinct nodes for k by the sharding function `function` over the component's nodes
//   (models/sharding/shard_function.hpp, ShardFunction::preference_list: with consistent_hash,
//   `virtual_nodes` points per node and the first N distinct nodes clockwise from the key's
//   hash, Dynamo's preference list). The keys are 0 .. `keys` - 1; a request for another key is
//   answered Error at once (bad_keys).
// - Coordination: the replica that receives a client's RpcRequest (clients pick a node through
//   their caller) coordinates it, whether or not it is a replica of the key. It holds the request
//   in a table of `max_in_flight` entries sized at set-up; a request beyond that is answered
//   Rejected at once (rejected). A coordinator that is itself a replica of the key reads or
//   writes its own copy at once (no message); it sends to the others.
// - Versions: a write gets version = (stamp << 8) | the coordinator's replica index, with stamp
//   the coordinator's WALL clock in nanoseconds (node.now(): offset, drift and steps included),
//   raised to the last stamp + 1 when the clock has not moved past it (Cassandra's monotonic
//   timestamp generator), and at least 1. So versions are unique and never 0 (0 = never written);
//   a coordinator whose clock is ahead wins over later writes through one whose clock is behind
//   (last write wins by timestamp, not by real time: clock skew loses writes). At most 256 nodes.
//   RpcResponse.value carries the version written or read.
// - Write (operation kOpWrite): sent to all N replicas of the key; each replica keeps, per key,
//   the highest version it has received and acknowledges. The coordinator answers Ok when W
//   distinct replicas have acknowledged (duplicated acks count once), not before; later acks are
//   ignored.
// - Read (kOpRead, and any other operation): sent to all N replicas (Dynamo asks all N and waits
//   for R); the coordinator answers Ok with the highest version among the first R replies.
// - Quorum failure: when W acks (R replies) have not arrived within `quorum_timeout` on the
//   coordinator's clock, or by the request's deadline if that comes first, the client gets
//   Outcome::Error (Cassandra's WriteTimeout / ReadTimeout are errors the client sees, not
//   silence): read_quorum_failures, write_quorum_failures. A write that failed may still be on
//   some replicas (it is not rolled back; a later read may return it).
// - Read repair (`read_repair`): after a read is answered, the coordinator keeps listening until
//   all N replied or the quorum timeout; every replica that replied with a version older than
//   the newest seen so far (a reply after the answer may raise it) is sent the newest version
//   (a write that is not acknowledged), each once per version: read_repairs counts them.
// - Sloppy quorum (`sloppy_quorum`): when a write has fewer than W acks `hint_after` after it
//   began, the coordinator also sends it to the next distinct nodes beyond the preference list
//   (the same function's order: the next nodes clockwise), one for each replica that has not
//   acknowledged, in preference order, each write marked as a hint for that replica. A node that
//   receives a hint keeps it in its hint table (`max_hints` entries; when full it refuses the
//   hint and does not acknowledge) and acknowledges; those acks count towards W. Every
//   `handoff_interval` a node sends each hint it holds to the replica it is for, which applies
//   it and acknowledges; an acknowledged hint is dropped (hints_delivered). Reads use the
//   preference list only (as Dynamo). hints_stored counts hints stored.
// - Crashes: a crash loses the coordinator's requests in flight (their clients time out). The
//   data and the hints survive it (`durable`, the default: they are on disk); with `durable`
//   false a crash loses both, and that is how acknowledged writes get lost. A pause holds
//   everything. The last timestamp a coordinator issued survives a crash (see the differences).
// - Ground truth (ghost state shared by the replicas, never read by the store's decisions): a
//   consistency checker (models/replication/consistency_checker.hpp, section `checker`) is told
//   of every write's version, every acknowledged write and every answered read, in TRUE time at
//   the coordinator (invoked = when the coordinator received the request, acked / answered =
//   when it answered), with session = the request's origin node. At the end of the run (the
//   first time figures are collected) it is finished with survives(key, v) = "some node holds
//   version >= v of key, in its data or as a hint" (a crashed node's durable data counts: it is
//   on its disk). The ghost also follows which nodes are up (on_start / on_crash) for
//   quorum_up_fraction: the fraction of the measured time during which a majority of the
//   component's nodes were up (a paused node counts as up). Replica 0 emits the checker's figures
//   and the ghost's; the others emit zeros (and no value for maxima), so the combined figures
//   are the component's.
// Randomness: none (the store draws nothing; network latency decides the race of replies).
// Steady state: no allocation per message (the request and hint tables grow to their peak, at
// most max_in_flight and max_hints; per key one version per node, allocated at set-up), but the
// checker's per-key bookkeeping (see its header).
//
// References: DeCandia et al., "Dynamo: Amazon's Highly Available Key-value Store", SOSP 2007
// (preference lists, N/R/W, sloppy quorum and hinted handoff, read repair); Cassandra's
// last-write-wins cell timestamps; Bailis et al., "Probabilistically Bounded Staleness for
// Practical Partial Quorums", VLDB 2012 (the N/R/W model: all N asked, the first R or W
// responses decide).
// Differences from Dynamo, all of them:
// 1. Versions are last-write-wins timestamps (Cassandra), not vector clocks: concurrent writes
//    never produce siblings for the client to reconcile; the one with the higher timestamp wins
//    and the other is silently superseded (counted as acknowledged all the same).
// 2. The coordinator is whichever node the client called; Dynamo's client library or load
//    balancer routes to a node of the preference list (a non-member forwards to the first
//    member); here a non-member coordinates itself.
// 3. No failure detection or membership (no gossip): the coordinator sends to every replica of
//    the preference list, up or not, and turns to fallback nodes only after `hint_after` without
//    W acks (Dynamo skips nodes it believes down at once). It makes one round of fallbacks: if a
//    fallback is down too, no further node is tried. Handoff is attempted every
//    `handoff_interval` whether the owner is up or not.
// 4. The value is its version (no payload, no merge); the key space is fixed (`keys`); no
//    anti-entropy with Merkle trees (only read repair and hinted handoff bring replicas up to
//    date); no ring changes.
// 5. A replica keeps only the highest version per key and a hint only (key, version, owner).
// 6. Read repair is done by the coordinator after the answer (Dynamo: "read repair" after
//    collecting responses; Cassandra: blocking for the replicas contacted, background for the
//    rest); repairs are not acknowledged.
// 7. The last timestamp issued survives a crash (so versions stay unique even across a crash and
//    a backwards clock step); a real timestamp generator keeps it in memory only.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "models/replication/consistency_checker.hpp"
#include "models/sharding/shard_function.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/rpc.hpp"
#include "models/shared/slot_table.hpp"

namespace models {

/// The store's sharding functions: all but range (a store places keys by hash).
inline constexpr std::array<Choice<ShardFunctionKind>, 4> kReplicaPlacementChoices{{
    {"consistent_hash", ShardFunctionKind::ConsistentHash,
     "a ring with `virtual_nodes` points per node; the first N distinct nodes clockwise (Dynamo)"},
    {"rendezvous", ShardFunctionKind::Rendezvous, "the N nodes of highest hash(key, node)"},
    {"modulo", ShardFunctionKind::Modulo, "hash(key) mod count, then the next N - 1 nodes"},
    {"jump", ShardFunctionKind::Jump, "jump consistent hash, then the next N - 1 nodes"},
}};

struct QuorumStoreConfig {
  static constexpr const char* kSummary =
      "A leaderless Dynamo-style replicated key-value store: each key on N replicas (consistent "
      "hashing), any node coordinates a request, a write is acknowledged by W replicas, a read "
      "answered with the newest of R replies; last-write-wins versions from the coordinator's "
      "wall clock (skew matters), read repair, optional sloppy quorum with hinted handoff, "
      "durable or volatile data. A ghost consistency checker reports stale reads, session "
      "guarantees and lost writes. Serves rpc and health.";

  /// The largest N (and so the most replicas one request contacts: 2N with fallbacks).
  static constexpr std::int64_t kMaxReplicationFactor = 16;
  /// The most nodes: the coordinator's index fills the low 8 bits of a version.
  static constexpr std::int64_t kMaxNodes = 256;

  std::int64_t replication_factor = 3;
  std::int64_t read_quorum = 2;
  std::int64_t write_quorum = 2;
  sim::Duration quorum_timeout = sim::Duration::nanoseconds(1'000'000'000);
  std::int64_t keys = 1000;
  ShardFunctionKind function = ShardFunctionKind::ConsistentHash;
  std::int64_t virtual_nodes = 100;
  bool read_repair = true;
  bool durable = true;
  bool sloppy_quorum = false;
  sim::Duration hint_after = sim::Duration::nanoseconds(50'000'000);
  sim::Duration handoff_interval = sim::Duration::nanoseconds(1'000'000'000);
  std::int64_t max_hints = 100'000;
  std::int64_t max_in_flight = 4096;
  ConsistencyCheckerConfig checker;

  template <class V>
  void describe(V& v) {
    v.field("replication_factor", replication_factor,
            "N: the replicas of each key (its preference list); at most the component's count",
            Limits{1, kMaxReplicationFactor});
    v.field("read_quorum", read_quorum, "R: the replies a read waits for (1 .. N)",
            Limits{1, kMaxReplicationFactor});
    v.field("write_quorum", write_quorum, "W: the acknowledgements a write waits for (1 .. N)",
            Limits{1, kMaxReplicationFactor});
    v.field("quorum_timeout", quorum_timeout,
            "a request without its R replies or W acks this long after it arrived (or at its "
            "deadline, if sooner) is answered Error; read repair listens until then",
            Limits{1e-9});
    v.field("keys", keys, "the keys held, 0 .. keys - 1 (8 bytes each per node); others: Error",
            Limits{1, 1e7});
    v.field("function", function, "how a key's replicas are placed on the nodes",
            kReplicaPlacementChoices);
    v.field("virtual_nodes", virtual_nodes, "consistent_hash: points per node on the ring",
            Limits{1, 1e5});
    v.field("read_repair", read_repair,
            "after a read, write the newest version back to the replicas that replied older");
    v.field("durable", durable,
            "data and hints survive a crash (on disk); false: a crash loses the node's data");
    v.field("sloppy_quorum", sloppy_quorum,
            "a write short of W acks after hint_after also goes to the next nodes of the ring, "
            "as hints for the replicas missing (hinted handoff)");
    v.field("hint_after", hint_after,
            "sloppy_quorum: how long a write waits for W acks before writing hints", Limits{0});
    v.field("handoff_interval", handoff_interval,
            "sloppy_quorum: how often a node sends the hints it holds to their replicas",
            Limits{1e-6});
    v.field("max_hints", max_hints, "hints one node holds at most (more are refused)",
            Limits{1, 1e7});
    v.field("max_in_flight", max_in_flight,
            "requests one coordinator holds at once; more are answered Rejected", Limits{1, 1e6});
    v.section("checker", checker, "the ghost consistency checker's bounds and options");
  }
};

/// Replica-to-replica messages (the store's own; nothing else sends them).
struct QuorumWrite {
  enum Kind : std::uint8_t { kWrite, kRepair, kHandoff };
  std::uint64_t request = 0;  // the coordinator's entry (kWrite) or the holder's hint (kHandoff)
  std::uint64_t key = 0;
  std::uint64_t version = 0;
  std::uint32_t hint_for = kNoHint;  // a hint for this replica index (kWrite to a fallback)
  std::uint8_t position = 0;         // in the coordinator's list of targets, echoed
  std::uint8_t kind = kWrite;
  static constexpr std::uint32_t kNoHint = 0xffffffffu;
};
struct QuorumWriteAck {
  std::uint64_t request = 0;
  std::uint8_t position = 0;
  std::uint8_t kind = QuorumWrite::kWrite;  // kWrite or kHandoff
};
struct QuorumRead {
  std::uint64_t request = 0;
  std::uint64_t key = 0;
  std::uint8_t position = 0;
};
struct QuorumReadReply {
  std::uint64_t request = 0;
  std::uint64_t version = 0;
  std::uint8_t position = 0;
};

class QuorumStore;

/// Ghost state shared by the replicas of one store component (checking only).
struct QuorumStoreGhost {
  bool configured = false;
  ConsistencyChecker checker;
  std::vector<QuorumStore*> replicas;
  std::vector<std::uint8_t> up;
  std::size_t up_count = 0;
  std::optional<TimeAverage> majority_up;
  std::uint64_t contacted = 0, contacted_requests = 0;  // measured client requests
  bool finished = false;

  /// A node came up or went down at true time `now`.
  void set_up(std::size_t replica, bool is_up, sim::Time now);
  /// Finishes the checker with the replicas' state, once.
  void finish();
};

class QuorumStore final : public Model {
 public:
  using Config = QuorumStoreConfig;
  static Wiring wiring(const Config&) { return {.serves = {Protocol::Rpc, Protocol::Health}}; }
  static FigureDocs figure_docs();
  /// Checks across fields and against the component's node count.
  static std::vector<ConfigProblem> check(const Config& c, std::size_t count);
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);
  enum TimerKind : std::uint32_t { kQuorumTimeout = 1, kHintAfter = 2, kHandoff = 3 };

  QuorumStore(const Config& config, BuildContext& ctx, std::size_t replica,
              QuorumStoreGhost& ghost);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;

  /// The highest version of `key` this node holds in its data (0: none).
  std::uint64_t version_of(std::uint64_t key) const { return data_.at(key); }
  /// The highest version of `key` among the hints this node holds (0: none).
  std::uint64_t hinted_version_of(std::uint64_t key);
  /// Raises highest[key] to each hint's version (the ghost's end-of-run survey).
  void collect_hints(std::map<std::uint64_t, std::uint64_t>& highest);
  std::size_t hints_held() const { return hints_.size(); }
  std::size_t in_flight() const { return pending_.size(); }
  /// Fills `out` (N entries) with the replica indices of `key`'s preference list.
  void preference_list(std::uint64_t key, std::span<std::uint32_t> out) const {
    placement_.preference_list(key, out);
  }
  /// The version a write stamped at wall time `stamp` by replica `index` gets.
  static std::uint64_t make_version(std::uint64_t stamp, std::uint32_t index) {
    return (stamp << 8) | index;
  }

 private:
  static constexpr std::size_t kMaxN = static_cast<std::size_t>(Config::kMaxReplicationFactor);
  static constexpr std::size_t kMaxTargets = 2 * kMaxN;  // the list and one fallback each
  struct Pending {
    bool is_write = false;
    bool answered = false;
    bool counted = false;  // invoked in the measured interval
    std::uint64_t key = 0;
    std::uint64_t version = 0;  // write: its version; read: the newest reply so far
    sim::NodeId client = sim::kNoNode;
    std::uint64_t call_id = 0;
    std::uint32_t session = 0;
    sim::Time invoked;  // true time
    std::uint8_t targets = 0;
    std::array<std::uint32_t, kMaxTargets> target{};  // replica indices: N, then fallbacks
    std::uint32_t replied = 0;                        // positions acked / replied (bits)
    std::uint32_t hinted = 0;                         // list positions given a fallback
    std::array<std::uint64_t, kMaxN> known{};         // read: each replica's version, as known
    sim::TimerId timeout, hint_timer;
  };
  struct Hint {
    std::uint64_t key = 0;
    std::uint64_t version = 0;
    std::uint32_t owner = 0;  // replica index
  };

  void on_client_request(sim::Node& node, const sim::Message& message);
  void on_replica_write(sim::Node& node, sim::NodeId from, const QuorumWrite& w);
  void on_write_ack(sim::Node& node, std::uint64_t id, std::uint8_t position);
  void on_read_reply(sim::Node& node, std::uint64_t id, std::uint8_t position,
                     std::uint64_t version);
  void write_hints(sim::Node& node, std::uint64_t id);
  /// Stores a hint for replica `owner`; false when the hint table is full.
  bool store_hint(sim::Node& node, std::uint64_t key, std::uint64_t version, std::uint32_t owner);
  void repair(sim::Node& node, Pending& p);
  void answer(sim::Node& node, Pending& p, Outcome outcome);
  void hand_off(sim::Node& node);
  void end(sim::Node& node, std::uint64_t id);
  std::uint64_t next_version(sim::Node& node);
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  Config config_;
  std::uint32_t index_;
  std::vector<sim::NodeId> nodes_;
  ShardFunction placement_;
  QuorumStoreGhost& ghost_;
  std::vector<std::uint64_t> data_;  // per key: the highest version held (durable)
  SlotTable<Hint> hints_;            // durable
  SlotTable<Pending> pending_;       // volatile
  std::uint64_t last_stamp_ = 0;
  sim::Time measure_from_, measure_to_;
  std::uint64_t read_requests_ = 0, write_requests_ = 0, read_failures_ = 0, write_failures_ = 0,
                rejected_ = 0, bad_keys_ = 0, repairs_ = 0, hints_stored_ = 0, hints_delivered_ = 0,
                hints_refused_ = 0;
};

}  // namespace models
