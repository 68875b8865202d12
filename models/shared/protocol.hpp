// What a model serves and what it calls: the protocols spoken between components.
//
// A protocol is a set of message types with their meaning. A model declares the protocols its
// nodes answer (`serves`) and, for each of its references to another component (a ComponentRef
// field of its Config: a client's `target`, a load balancer's `backends`), the protocols it
// speaks to that component (`calls`). The scenario loader refuses a wiring whose target does not
// serve everything the caller speaks, before anything runs: a model never receives a message it
// cannot read (sim::Message::as would stop the run with an internal error).
//
// The protocols (models/shared/rpc.hpp, health.hpp, models/contention/occ_store.hpp):
//   rpc    -- RpcRequest -> RpcResponse: a keyed request and its outcome (clients, servers,
//             every intermediary);
//   health -- HealthProbe -> HealthReply: readiness probes of an active health checker;
//   occ    -- OccRequest -> RpcResponse: versioned reads and conditional writes
//             (optimistic concurrency);
//   cancel -- RpcStarted from a server that begins a tied copy, RpcCancel to the server of the
//             other copy (tied requests, models/resilience/hedging.hpp);
//   lease  -- LeaseAcquire / LeaseKeepAlive / LeaseRelease -> LeaseReply: locks with TTLs and
//             fencing tokens (models/election/lease_protocol.hpp);
//   fenced -- FencedWrite -> FencedWriteReply: writes that carry a fencing token;
//   raft   -- RequestVote and AppendEntries among the members of one raft group
//             (models/election/raft_election.hpp); a harness that watches a group declares it;
//   queue  -- QueueReceive -> QueueDelivery, QueueAck, QueueNack, QueueStatsQuery ->
//             QueueStatsReply: consuming a queue (models/queues/queue_protocol.hpp; publishing
//             to it is rpc);
//   scale  -- WorkerLoadQuery -> WorkerLoadReply, WorkerScale: an autoscaler and its workers.
// A new family adds its protocol here (one enumerator, one name) and declares it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "models/shared/params.hpp"

namespace models {

enum class Protocol : std::uint8_t {
  Rpc,
  Health,
  Occ,
  Cancel,
  Lease,
  Fenced,
  Raft,
  Queue,
  Scale,
  kCount
};

inline constexpr std::array<const char*, static_cast<std::size_t>(Protocol::kCount)> kProtocolNames{
    "rpc", "health", "occ", "cancel", "lease", "fenced", "raft", "queue", "scale"};

inline const char* to_string(Protocol p) {
  return kProtocolNames[static_cast<std::size_t>(p)];
}

/// A set of protocols (a small bit set; the order of names is the enum's).
class Protocols {
 public:
  constexpr Protocols() = default;
  constexpr Protocols(std::initializer_list<Protocol> list) {
    for (const Protocol p : list) bits_ |= bit(p);
  }
  constexpr bool has(Protocol p) const { return (bits_ & bit(p)) != 0; }
  constexpr bool contains(Protocols other) const { return (other.bits_ & ~bits_) == 0; }
  constexpr bool empty() const { return bits_ == 0; }
  /// The members of `this` that `other` lacks.
  constexpr Protocols minus(Protocols other) const { return Protocols(bits_ & ~other.bits_); }
  /// "rpc and health", "nothing" for the empty set.
  std::string names() const {
    std::vector<const char*> parts;
    for (std::size_t i = 0; i < kProtocolNames.size(); ++i)
      if (has(static_cast<Protocol>(i))) parts.push_back(kProtocolNames[i]);
    if (parts.empty()) return "nothing";
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i)
      out += std::string(i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
    return out;
  }

 private:
  constexpr explicit Protocols(std::uint32_t bits) : bits_(bits) {}
  static constexpr std::uint32_t bit(Protocol p) { return 1u << static_cast<unsigned>(p); }
  std::uint32_t bits_ = 0;
};

/// One reference of a Config to another component, and what is spoken over it.
struct Call {
  std::string field;  // the ComponentRef's path in the component: "target", "outputs/0/queue"
  ComponentRef target;
  Protocols speaks;
  const char* why = "";  // when a protocol depends on the configuration: "health_check is on"
};

/// A model's side of the wiring, for one configuration.
struct Wiring {
  Protocols serves;
  std::vector<Call> calls;
};

}  // namespace models
