// A leader-follower replicated key-value store: one leader takes the writes and ships them, in
// order, to the followers; synchronously, semi-synchronously or asynchronously. When the leader
// fails, the replicas elect another with Raft's election (models/election/raft_election.hpp),
// and writes the old leader had acknowledged but not shipped are lost -- counted against the
// ground truth by the consistency checker (models/replication/consistency_checker.hpp).
//
// Semantics. `count` replicas, each with the whole key space (`keys` keys, one version each)
// and a log (models/replication/replication_log.hpp).
// - Any replica takes a client's request (RpcRequest: operation kOpRead or kOpWrite, `key`) and
//   coordinates it. A write, and with read_from "leader" a read, is forwarded to the replica it
//   believes leads (the election's leader of its term); with no leader known, or after
//   kMaxHops forwards, the answer is Error ("no leader": the write is unavailable). The answer
//   goes from whoever serves straight back to the requester, value = the key's version.
// - The leader appends a write to its log as entry (term, index): its version is
//   term x 2^40 + index. It sends the entry to every follower `replication_lag` later, and
//   acknowledges the client
//     async: at once (the write is committed when appended);
//     semi_sync: once `sync_acks` followers have it;
//     sync: once every follower has it;
//   or answers Timeout if that takes longer than `ack_timeout` (the entry stays in the log and
//   may still commit). An entry committed, all before it are (acknowledgements are in order).
// - A follower appends entries in index order (a later one waiting in a reorder window of
//   kReorderWindow) after checking the one before has the leader's term, and acknowledges its
//   last index and term. Every `heartbeat_interval` the leader sends its commit index and last
//   index; a follower answers with its state. A follower that has not advanced since the last
//   beat (and answered since) is sent the shipped entries it misses (up to kResendBurst at a time)
//   from the leader's backlog of `backlog` entries; one whose log has fallen out of the backlog, or
//   has entries the leader's log does not (an old leader back from a crash), is rebuilt from a
//   snapshot of the leader's committed state (a full resync).
// - Reads are served from the replica's table, which holds committed entries only: a follower
//   applies entries up to the commit index the leader last told it. So read_from "leader" reads
//   the latest committed version (unless that leader has been deposed without knowing it; and
//   a new leader answers reads Error until an entry of its term has committed: before, it does
//   not know what is);
//   read_from "any" reads what the coordinating replica has applied: possibly stale.
// - Election: Raft's (the `election_timeout_min/max`, `heartbeat_interval`, `pre_vote`,
//   `check_quorum` and `persist_time` of raft_node), a replica's log rank (last term, then last
//   index) taking the place of Raft's log in the vote: only a replica at least as up to date as a
//   majority can win, so an entry a majority holds survives a failover. A new leader appends a
//   no-op entry of its term first (Raft does: it commits the old entries and outranks every
//   older log); pending writes of a deposed leader are answered Error.
// - Crash: the table and the log are durable (on disk); the reorder window, pending writes and
//   what a leader knew of its followers are not.
// Ground truth (for the checker; no replica reads it): a read is invoked when the coordinating
// replica receives it and answered when the serving one answers; a write is acknowledged when
// the leader answers it. At the end of the run the surviving history is the most up-to-date log
// (the one an election would pick); an acknowledged write whose entry is not in it is lost.
//
// Figures: writes failed (no leader, timeout, deposed), reads served by followers, forwards,
// entries resent, snapshots; the checker's (reads, writes acknowledged, stale reads, lost
// writes, ...); the election's.
//
// References: MySQL semi-synchronous replication (rpl_semi_sync_source_wait_for_replica_count
// = sync_acks; asynchronous by default) and Redis replication (backlog, partial and full
// resync); Raft for the election and the log (Ongaro and Ousterhout 2014). Differences: one
// term-stamped log as in Raft but commit by the replication mode rather than by a majority (sync
// and semi_sync count followers; MySQL counts them the same way); semi-sync never falls back to
// async after a timeout (MySQL does, rpl_semi_sync_source_timeout); no read leases (a deposed
// leader that does not know it serves stale reads, as Redis and MySQL primaries can); a
// snapshot arrives one message delay after it is asked for, whatever the data's size.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "models/election/raft_election.hpp"
#include "models/replication/consistency_checker.hpp"
#include "models/replication/replication_log.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/rpc.hpp"
#include "sim/ring_buffer.hpp"

namespace models {

enum class ReplicationMode : std::uint8_t { Async, SemiSync, Sync };
inline constexpr std::array<Choice<ReplicationMode>, 3> kReplicationModeChoices{{
    {"async", ReplicationMode::Async, "acknowledge once the leader has the write"},
    {"semi_sync", ReplicationMode::SemiSync, "acknowledge once `sync_acks` followers have it"},
    {"sync", ReplicationMode::Sync, "acknowledge once every follower has it"},
}};

enum class ReadFrom : std::uint8_t { Leader, Any };
inline constexpr std::array<Choice<ReadFrom>, 2> kReadFromChoices{{
    {"leader", ReadFrom::Leader, "forward reads to the leader: the latest committed version"},
    {"any", ReadFrom::Any, "serve reads where they arrive: a follower's may be stale"},
}};

struct LeaderFollowerStoreConfig {
  static constexpr const char* kSummary =
      "A leader-follower replicated key-value store: the leader orders the writes in a log and "
      "ships them to the followers (async, semi_sync with `sync_acks`, or sync); reads from the "
      "leader or any replica; Raft's election picks a new leader, and writes acknowledged but "
      "not shipped are lost (counted by the consistency checker, with stale reads and "
      "session anomalies). Serves rpc (kOpRead, kOpWrite).";

  std::int64_t keys = 1000;
  ReplicationMode replication = ReplicationMode::Sync;
  std::int64_t sync_acks = 1;
  ReadFrom read_from = ReadFrom::Leader;
  sim::Duration replication_lag = sim::Duration::zero();
  sim::Duration ack_timeout = sim::Duration::nanoseconds(1'000'000'000);
  std::int64_t backlog = 65536;
  ConsistencyCheckerConfig checker;
  RaftElectionConfig election;

  template <class V>
  void describe(V& v) {
    v.field("keys", keys, "keys 0 .. keys - 1, one version each (a larger key is an Error)",
            Limits{1, 1e6});
    v.field("replication", replication, "when the leader acknowledges a write",
            kReplicationModeChoices);
    v.field("sync_acks", sync_acks,
            "semi_sync: followers that must have a write before it is acknowledged",
            Limits{1, 1e4});
    v.field("read_from", read_from, "where reads are served", kReadFromChoices);
    v.field("replication_lag", replication_lag,
            "the leader ships each write to the followers this long after appending it (a "
            "batching or busy replication thread)",
            Limits{0});
    v.field("ack_timeout", ack_timeout,
            "a write not acknowledged within this is answered Timeout (it may still commit)",
            Limits{1e-9});
    v.field("backlog", backlog,
            "entries each replica keeps (16 bytes each) for followers that lag; one further behind "
            "gets a snapshot",
            Limits{16, 1e6});
    v.section("checker", checker, "the ghost consistency checker's bounds and options");
    election.describe(v);  // at the top level, as raft_node's; used with more than one replica
  }
};

/// Replica-to-replica messages of the store (none is a client's).
struct ReplEntry {  // leader -> follower: one entry, and the leader's commit index
  std::uint64_t term = 0;
  std::uint64_t key = 0;
  std::uint64_t version = 0;    // names the entry's term and index
  std::uint64_t prev_term = 0;  // the term of the entry before it
  std::uint64_t commit = 0;
};
struct ReplBeat {  // leader -> follower, every heartbeat_interval
  std::uint64_t term = 0;
  std::uint64_t last_index = 0;
  std::uint64_t commit = 0;
};
struct ReplAck {  // follower -> leader: what its log holds
  std::uint64_t term = 0;
  std::uint64_t last_index = 0;
  std::uint64_t last_term = 0;
};
struct ReplSnapshot {  // leader -> follower: become a copy of my committed state
  std::uint64_t term = 0;
};
struct ReplForward {  // coordinator -> leader: a client's request
  RpcRequest rpc;
  sim::Time invoked;  // when the coordinator received it (true time)
  sim::NodeId reply_to = sim::kNoNode;
};

class LeaderFollowerStore;

/// What the replicas of one store share that none of them could know: each other (for a
/// snapshot's contents and the final history) and the consistency checker.
struct LeaderFollowerGroup {
  std::vector<LeaderFollowerStore*> replicas;
  std::optional<ConsistencyChecker> checker;
  bool finished = false;
};

class LeaderFollowerStore final : public Model, private RaftListener {
 public:
  using Config = LeaderFollowerStoreConfig;
  static constexpr std::uint32_t kMaxHops = 3;
  static constexpr std::size_t kReorderWindow = 256;
  static constexpr std::uint64_t kResendBurst = 256;

  static Wiring wiring(const Config&) { return {.serves = {Protocol::Rpc, Protocol::Health}}; }
  static FigureDocs figure_docs();
  static std::vector<ConfigProblem> check(const Config& c, std::size_t count);
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);
  enum TimerKind : std::uint32_t { kBeat = 1, kShip = 2, kElection = 3 };  // kElection: 3 .. 5

  LeaderFollowerStore(const Config& config, BuildContext& ctx, std::size_t replica,
                      LeaderFollowerGroup& group, RaftGhost* ghost);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  std::vector<const StateTimeline*> state_timelines() const override;

  bool leading() const { return !election_ || election_->role() == RaftRole::Leader; }
  const ReplicationLog& log() const { return log_; }
  std::uint64_t commit_index() const { return commit_; }
  /// The committed version of `key` this replica serves (0: never written).
  std::uint64_t version_of(std::uint64_t key) const { return table_[key]; }

 private:
  struct PendingWrite {
    std::uint64_t index = 0;
    std::uint64_t key = 0;
    std::uint64_t call_id = 0;
    sim::NodeId reply_to = sim::kNoNode;
    sim::NodeId session = sim::kNoNode;
    sim::Time invoked;
  };
  struct Follower {
    std::uint64_t match = 0;  // its last index known to agree with this leader's log
    std::uint64_t match_at_beat = 0;
    bool snapshot_sent = false;  // in this beat interval
    bool heard = false;          // it acknowledged something since the last beat (it is up)
  };

  void on_role_changed(sim::Node& node, RaftRole role, std::uint64_t term) override;
  void on_client_request(sim::Node& node, const RpcRequest& rpc, sim::NodeId reply_to,
                         sim::Time invoked);
  void forward(sim::Node& node, const RpcRequest& rpc, sim::NodeId reply_to, sim::Time invoked);
  void serve_read(sim::Node& node, const RpcRequest& rpc, sim::NodeId reply_to, sim::Time invoked);
  void serve_write(sim::Node& node, const RpcRequest& rpc, sim::NodeId reply_to, sim::Time invoked);
  void answer(sim::Node& node, sim::NodeId to, std::uint64_t call_id, Outcome outcome,
              std::uint64_t value = 0);

  // Leader side.
  void ship(sim::Node& node, std::uint64_t index);
  void on_ack(sim::Node& node, std::uint32_t from, const ReplAck& ack);
  void send_snapshot(sim::Node& node, std::uint32_t to);
  void on_beat_tick(sim::Node& node);
  void advance_commit(sim::Node& node);
  void fail_pending(sim::Node& node, Outcome outcome);
  std::uint64_t term() const { return election_ ? election_->term() : 1; }

  // Follower side.
  void on_entry(sim::Node& node, std::uint32_t from, const ReplEntry& entry);
  void on_beat(sim::Node& node, std::uint32_t from, const ReplBeat& beat);
  void on_snapshot(sim::Node& node, std::uint32_t from, const ReplSnapshot& snapshot);
  void append_agreed(const ReplEntry& entry);
  void drain_window();
  /// Applies entries up to `commit` that this log is known to share with the leader of `term`.
  void apply_agreed(std::uint64_t term, std::uint64_t commit);
  void apply_committed(std::uint64_t commit);
  void send_ack(sim::Node& node, std::uint32_t to);

  std::int32_t member_of(sim::NodeId node) const;
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  Config config_;
  std::vector<sim::NodeId> nodes_;
  std::uint32_t self_;
  LeaderFollowerGroup& group_;
  std::optional<RaftElection> election_;  // with more than one replica
  sim::Time measure_from_, measure_to_;

  // Durable.
  std::vector<std::uint64_t> table_;  // committed version per key
  ReplicationLog log_;
  std::uint64_t commit_ = 0;   // entries known committed
  std::uint64_t applied_ = 0;  // entries applied to table_
  // Volatile.
  std::vector<ReplEntry> window_;  // follower: entries past a gap, by index
  // Follower: this log equals the log of the leader of agreed_term_ up to agreed_index_ (an
  // entry of that leader appended after the check of the one before it: Log Matching).
  std::uint64_t agreed_term_ = 0, agreed_index_ = 0;
  std::vector<std::uint64_t> match_scratch_;
  std::uint64_t leader_term_ = 0;  // the term this replica leads (0: it does not)
  std::uint64_t shipped_ = 0;      // leader: entries up to here have been sent
  sim::RingBuffer<PendingWrite> pending_;
  std::vector<Follower> followers_;
  std::uint64_t beat_epoch_ = 0;

  std::uint64_t writes_failed_ = 0, follower_reads_ = 0, forwards_ = 0, resent_ = 0, snapshots_ = 0;
};

}  // namespace models
