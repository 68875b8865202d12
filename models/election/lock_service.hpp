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
// Figures: grants, refusals, renewals, renewals refused (lost leases), releases, expirations.
//
// References: etcd v3 API (leases: Grant/KeepAlive/Revoke; Txn compare on create_revision) and
// its concurrency package (election, mutex); Burrows, "The Chubby lock service" (OSDI 2006):
// sequencers are Chubby's fencing tokens; Kleppmann (2016), "How to do distributed locking".
// Differences: one node (no replication: a crash is an outage); one key space with integer
// keys; a request is a message each (no gRPC streams: a keep-alive is a request and a reply);
// no watches (owners poll by retrying); a refused acquire does not queue the caller (etcd's
// mutex waits on the key's deletion; here the caller retries).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/election/lease_protocol.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/ring_buffer.hpp"

namespace models {

struct LockServiceConfig {
  static constexpr const char* kSummary =
      "A lock and lease service (etcd-like): acquire a key under a lease with a TTL (or "
      "compare-and-swap on its revision), keep-alive renewals, release, expiry on the service's "
      "own clock; every new holder gets a fencing token (a revision larger than all before). "
      "Serves the lease protocol.";

  sim::Duration request_time = sim::Duration::nanoseconds(100'000);
  sim::Duration max_ttl = sim::Duration::nanoseconds(3'600'000'000'000);
  bool durable = true;

  template <class V>
  void describe(V& v) {
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

class LockService final : public Model {
 public:
  using Config = LockServiceConfig;
  static Wiring wiring(const Config&) { return {.serves = {Protocol::Lease, Protocol::Health}}; }
  static FigureDocs figure_docs();
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);
  enum TimerKind : std::uint32_t { kServed = 1 };

  LockService(const Config& config, sim::Time measure_from, sim::Time measure_to);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;

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
  /// The live lease holding `key`, expiring it first if its time has come; null if free.
  Lease* holder(std::uint64_t key, sim::Time local_now);
  Lease* find_lease(std::uint64_t id, sim::Time local_now);
  void expire(std::size_t index);
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  Config config_;
  std::vector<Lease> leases_;  // the live ones (few: one per held key)
  std::uint64_t revision_ = 0, next_lease_ = 1;
  RingBuffer<Pending> queue_;
  bool busy_ = false;
  sim::Time measure_from_, measure_to_;
  sim::Time now_counting_;  // true time of the request being served (for the figures)
  std::uint64_t grants_ = 0, refusals_ = 0, renewals_ = 0, lost_ = 0, releases_ = 0,
                expirations_ = 0;
};

}  // namespace models
