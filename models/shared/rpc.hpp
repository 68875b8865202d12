// The request/response protocol every client, server and intermediary speaks.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sim/ids.hpp"
#include "sim/time.hpp"

namespace models {

/// How an attempt ended, as the caller sees it. Also the failure reasons of the report.
enum class Outcome : std::uint8_t {
  Ok,
  Timeout,      // no answer before the per-try timeout or the deadline
  Rejected,     // the server's queue was full, or it shed the request
  Error,        // the server (or something behind it) failed the request
  CircuitOpen,  // the caller's circuit breaker refused to call
  Dropped,      // a server dropped it unanswered (deadline already passed)
  RateLimited,  // a rate limiter refused it
  kCount
};
const char* to_string(Outcome outcome);

/// RpcRequest.operation of a generic client: a read, or a write of the key's value (clients'
/// `write_fraction`; a cache answers only reads and invalidates on writes). Models with verbs of
/// their own may number them differently (models/contention/occ_store.hpp uses these two).
inline constexpr std::uint8_t kOpRead = 0;
inline constexpr std::uint8_t kOpWrite = 1;

/// Groups (tenants) a request can name: RpcRequest.tenant is 16 bits.
inline constexpr std::size_t kMaxTenants = 65536;

struct RpcRequest {
  std::uint64_t call_id = 0;  // the caller's id for this attempt, echoed in the response
  std::uint64_t key = 0;      // what the request is about (cache key, shard key, sticky key)
  sim::Time deadline = sim::Time::max();  // true time after which nobody waits for the answer
  std::uint32_t attempt = 1;              // 1 for the first try
  std::uint16_t hops = 0;  // intermediaries traversed (guards against forwarding loops)
  // The originating client's group (RequestRecorder::group index): its tenant or caller class,
  // kept across intermediaries, so that servers can partition workers by it (bulkheads),
  // routers pin it to a cell and balancers give it a shuffle shard. At most kMaxTenants.
  std::uint16_t tenant = 0;
  std::uint64_t request_id = 0;  // the originating client's logical request (for duplicates)
  sim::NodeId origin = sim::kNoNode;
  std::uint8_t operation = kOpRead;  // kOpRead, kOpWrite, or a model's own verb
  std::uint8_t idempotent = 1;
  std::uint8_t tied = 0;    // a tied copy: tell the caller when its service starts (RpcStarted)
  std::uint8_t poison = 0;  // a poison request: it crashes or stalls the worker that serves it
};
// Within a message's payload capacity, with room for a model's envelope around it.
static_assert(sizeof(RpcRequest) == 48);

/// Tied requests (models/resilience/hedging.hpp): a server began serving the tied copy
/// `call_id`; the caller cancels the other copy.
struct RpcStarted {
  std::uint64_t call_id = 0;
};

/// The caller no longer wants copy `call_id`: a server that has not started it drops it.
struct RpcCancel {
  std::uint64_t call_id = 0;
};

struct RpcResponse {
  std::uint64_t call_id = 0;
  Outcome outcome = Outcome::Ok;
  std::uint64_t value = 0;  // model-specific result (a version, a cached value)
};

}  // namespace models
