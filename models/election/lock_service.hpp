// A lock and lease service (etcd's leases and its concurrency/election recipe, Chubby's locks):
// keys held under leases with a TTL, renewed by keep-alives, released or expired, each new
// holder given a fencing token.
//
// Semantics, on the service node's own clock:
// - LeaseAcquire{key, ttl, expect_revision} (models/election/lease_protocol.hpp): if the key's
//   revision equals expect_revision -- 0 when the key is free (never held, released, or its
//   lease expired) -- the key is granted under a new lease: the service's revision counter
//   goes up by one and the grant carries it, the key's fencing token (etcd's create_revision:
//   every new holder's is larger than every earlier one's). Otherwise it is refused with the
//   holder's revision. `max_ttl` caps the ttl asked for (etcd clamps leases too).
// - LeaseKeepAlive{lease}: a lease not yet expired is renewed for its ttl from now; an expired
//   or unknown one is refused (the holder has lost the key). LeaseRelease{lease}: the key is free.
// - Expiry: a lease expires when its ttl passes on the service's clock without a keep-alive;
//   its key is then free. Expiry is applied when the key or the lease is next asked about (what
//   any client can observe is the same as with an expiry timer).
// - `request_time` is spent per request, one at a time (a serialized store behind a consensus
//   log; etcd's writes are serialized by Raft); requests wait in FIFO order.
// - A crash loses nothing (`durable`, the default: etcd's state is in its Raft log) but the
//   requests queued; on restart, every lease is renewed for its ttl from the restart (etcd
//   does the same on leader change, so that a holder is not expired for the service's own
//   outage). With `durable` false a crash forgets every key and lease, and the revision counter
//   survives (so tokens still grow).
// - Replicated (more than one node): the nodes elect a leader with Raft's election
//   (models/election/raft_election.hpp: `election_timeout_min`, ... as for raft_node), and only
//   the leader serves; the others answer not_leader with the leader they know of. The leases
//   are the leader's memory, not a replicated log: a newly elected leader starts empty and for
//   `failover_grace` (on its clock; not in term 1, when no leader came before) grants no key -- the
//   old leader's leases run out meanwhile
//   -- but takes over any lease whose holder's keep-alive reaches it (the keep-alive carries the
//   key, revision and ttl): Chubby's master fail-over. Its revisions start above term x 2^32,
//   so every new leader's tokens exceed every earlier one's.
// Figures: grants, refusals, renewals, renewals refused (lost leases), releases, expirations,
// leases taken over by a new leader, and requests answered not_leader.
//
// References: etcd v3 API (leases: Grant/KeepAlive/Revoke; Txn compare on create_revision) and
// its concurrency package (election, mutex); Burrows, "The Chubby lock service" (OSDI 2006):
// sequencers are Chubby's fencing tokens; Kleppmann (2016), "How to do distributed locking".
// Differences: replicated by election only, with the leases rebuilt from keep-alives after a
// fail-over (Chubby) rather than replicated in a log (etcd); one key space with integer
// keys; a request is a message each (no gRPC streams: a keep-alive is a request and a reply);
// no watches (owners poll by retrying); a refused acquire does not queue the caller (etcd's
// mutex waits on the key's deletion; here the caller retries).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "models/election/lease_protocol.hpp"
#include "models/election/raft_election.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "sim/ring_buffer.hpp"

namespace models {

struct LockServiceConfig {
  static constexpr const char* kSummary =
      "A lock and lease service (etcd-like): acquire a key under a lease with a TTL (or "
      "compare-and-swap on its revision), keep-alive renewals, release, expiry on the service's "
      "own clock; every new holder gets a fencing token (a revision larger than all before). "
      "With several nodes it is replicated over Raft's election: the leader serves, a new "
      "leader waits `failover_grace` and takes over the leases kept alive. Serves the lease "
      "protocol.";

  sim::Duration request_time = sim::Duration::nanoseconds(100'000);
  sim::Duration max_ttl = sim::Duration::nanoseconds(3'600'000'000'000);
  bool durable = true;
  sim::Duration failover_grace = sim::Duration::nanoseconds(10'000'000'000);
  RaftElectionConfig election;  // replicated: the election among the service's nodes

  template <class V>
  void describe(V& v) {
    election.describe(v);  // at the top level, as raft_node's; used with more than one node
    v.field("failover_grace", failover_grace,
            "replicated: a new leader grants no key for this long (at least the owners' ttl), "
            "taking over the leases its holders keep alive",
            Limits{0});
    v.field("request_time", request_time,
            "time to serve one request, one at a time in FIFO order (a consensus write)",
            Limits{0});
    v.field("max_ttl", max_ttl, "the longest lease granted (a longer ttl asked is capped)",
            Limits{1e-9});
    v.field("durable", durable,
            "keys and leases survive a crash (renewed for their ttl on restart); false: a crash "
            "forgets them");
  }
};

class LockService final : public Model, private RaftListener {
 public:
  using Config = LockServiceConfig;
  static Wiring wiring(const Config&) { return {.serves = {Protocol::Lease, Protocol::Health}}; }
  static FigureDocs figure_docs();
  static std::vector<ConfigProblem> check(const Config& c) {
    return RaftElection::check(c.election);
  }
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);
  enum TimerKind : std::uint32_t { kServed = 1, kElection = 2 };  // kElection: the election's

  /// `replica` of the service's `nodes`; `ghost`: their raft group's, when there are several.
  LockService(const Config& config, BuildContext& ctx, std::size_t replica, RaftGhost* ghost);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  std::vector<const StateTimeline*> state_timelines() const override;
  /// Whether this node serves: the only one, or the elected leader.
  bool serving() const { return !election_ || election_->role() == RaftRole::Leader; }

  /// The revision of `key` now (0: free), on the service's clock reading `local_now`.
  std::uint64_t revision_of(std::uint64_t key, sim::Time local_now);

 private:
  struct Lease {
    std::uint64_t id = 0;
    std::uint64_t key = 0;
    std::uint64_t revision = 0;
    sim::Duration ttl;
    sim::Time expires;  // on the service's monotonic clock
  };
  struct Pending {
    sim::NodeId from = sim::kNoNode;
    sim::Message message;
  };

  void serve(sim::Node& node, const Pending& p);
  void on_role_changed(sim::Node& node, RaftRole role, std::uint64_t term) override;
  /// A keep-alive for a lease this leader does not know, during its grace: taken over if its
  /// key is free here.
  Lease* adopt(const LeaseKeepAlive& k, sim::Time local_now);
  /// The live lease holding `key`, expiring it first if its time has come; null if free.
  Lease* holder(std::uint64_t key, sim::Time local_now);
  Lease* find_lease(std::uint64_t id, sim::Time local_now);
  void expire(std::size_t index);
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  Config config_;
  std::vector<sim::NodeId> nodes_;        // the service's nodes (the raft group)
  std::optional<RaftElection> election_;  // with more than one node
  sim::Time grace_until_;                 // a new leader's grace, on its monotonic clock
  std::vector<Lease> leases_;             // the live ones (few: one per held key)
  std::uint64_t revision_ = 0, next_lease_ = 1;
  sim::RingBuffer<Pending> queue_;
  bool busy_ = false;
  sim::Time measure_from_, measure_to_;
  sim::Time now_counting_;  // true time of the request being served (for the figures)
  std::uint64_t grants_ = 0, refusals_ = 0, renewals_ = 0, lost_ = 0, releases_ = 0,
                expirations_ = 0, taken_over_ = 0, redirected_ = 0;
};

}  // namespace models
