// The lease protocol (etcd's lease and lock API, reduced to what ownership needs) and fenced
// writes. Times travel as durations: each side reads its own clock.
//
// lease: LeaseAcquire{key, ttl, expect_revision} creates the key under a new lease if the key's
//   revision is `expect_revision` (0: the key is free -- etcd's Txn with create_revision == 0;
//   otherwise a compare-and-swap that takes the key over from the holder of that revision). A
//   grant carries the lease and the revision at which the key was created: a fencing token,
//   monotonic over the service's grants. LeaseKeepAlive{lease} renews it for its ttl;
//   LeaseRelease{lease} revokes it. Every request is answered by a LeaseReply with its request
//   id (a release too), except when the service is down. A replica of a replicated service
//   that is not its leader answers not_leader, naming the leader it knows of.
// fenced: FencedWrite{key, token} -> FencedWriteReply{accepted}: a write from an owner with its
//   fencing token (Kleppmann, "How to do distributed locking", 2016).
#pragma once

#include <cstdint>

#include "sim/ids.hpp"
#include "sim/time.hpp"

namespace models {

struct LeaseAcquire {
  std::uint64_t request = 0;
  std::uint64_t key = 0;
  sim::Duration ttl;
  std::uint64_t expect_revision = 0;
};

struct LeaseKeepAlive {
  std::uint64_t request = 0;
  std::uint64_t lease = 0;
  // What the holder knows of its lease, so that a newly elected service leader can take it over
  // during its grace period (Chubby's master fail-over) instead of refusing it.
  std::uint64_t key = 0;
  std::uint64_t revision = 0;
  sim::Duration ttl;
};

struct LeaseRelease {
  std::uint64_t request = 0;
  std::uint64_t lease = 0;
};

struct LeaseReply {
  std::uint64_t request = 0;
  std::uint8_t ok = 0;                // granted, renewed or released
  std::uint64_t lease = 0;            // the lease (a grant)
  std::uint64_t revision = 0;         // the key's revision: the fencing token of a grant, else the
                                      // holder's (0: the key is free)
  sim::Duration ttl;                  // the lease's ttl (a grant or a renewal)
  std::uint8_t not_leader = 0;        // a replicated service's follower: ask `leader` instead
  sim::NodeId leader = sim::kNoNode;  // the leader it knows of (kNoNode: none yet)
};

struct FencedWrite {
  std::uint64_t request = 0;
  std::uint64_t key = 0;
  std::uint64_t token = 0;
};

struct FencedWriteReply {
  std::uint64_t request = 0;
  std::uint8_t accepted = 0;
};

}  // namespace models
