// How a server orders and admits the requests that wait for a worker.
//
// The Server owns one QueueDiscipline and asks it two questions: "every worker is busy, may this
// request wait?" (admit) and "a worker is free, whom does it serve?" (next). ordered_queue.hpp
// serves FIFO, LIFO or adaptive LIFO (FIFO until a standing queue forms, then LIFO);
// codel_queue.hpp is FIFO that sheds at dequeue when the queueing delay stays above a target
// (CoDel, RFC 8289).
//
// A discipline that sheds requests while choosing the next one reports each through `next` with
// the verdict Shed; the server answers it (Rejected) and asks again, at the same instant, until
// it gets a request to serve or nothing. Dropping requests whose deadline passed is not a
// discipline: the server does it for any of them (ServerConfig::drop_expired).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "sim/ids.hpp"
#include "sim/time.hpp"

namespace models {

/// A request that reached a server: who asked, under which call id, when, and until when.
struct QueuedRequest {
  sim::NodeId from = sim::kNoNode;
  std::uint64_t call_id = 0;
  sim::Time arrived;                      // true time: for the server's sojourn figures
  sim::Time deadline = sim::Time::max();  // the caller's deadline (true time), for shedding
  bool tied = false;                      // a tied copy: its caller wants to know when it starts
  bool poison = false;                    // a poison request (server.hpp's `poison`)
};

/// What the discipline decided about the request it hands out.
enum class Verdict : std::uint8_t {
  Serve,  // a worker serves it now
  Shed,   // the discipline drops it: the server answers it and asks `next` again at once
};

struct Dequeued {
  QueuedRequest request;
  Verdict verdict = Verdict::Serve;
};

/// The initial capacity of a queue's ring buffer, allocated when the first request waits (an
/// idle server's queue costs nothing). A bounded queue of up to 4096 places is then sized to its
/// limit, so it never allocates again; a longer or unbounded one starts at 64 and doubles up to
/// its peak length, and no further (no allocation per request).
inline std::size_t initial_queue_capacity(std::int64_t limit) {
  constexpr std::int64_t kSizedUpFront = 4096;
  return limit >= 0 && limit <= kSizedUpFront ? static_cast<std::size_t>(limit) : 64;
}

/// Matches the waiting request `call_id` of `from`.
struct SameCall {
  sim::NodeId from;
  std::uint64_t call_id;
  bool operator()(const QueuedRequest& r) const { return r.from == from && r.call_id == call_id; }
};

/// Whether a queue of `size` waiting requests is full under `limit` (< 0: unbounded).
inline bool queue_full(std::int64_t limit, std::size_t size) {
  return limit >= 0 && size >= static_cast<std::size_t>(limit);
}

class QueueDiscipline {
 public:
  virtual ~QueueDiscipline() = default;
  /// Every worker is busy: keeps `request` waiting (true), or refuses it (false: the server
  /// answers Rejected at once).
  virtual bool admit(const QueuedRequest& request, sim::Time now) = 0;
  /// A worker is free: the next request leaves the queue, to be served or shed; nothing if none
  /// waits. After a Shed, the caller must call again at the same `now` (a shedding discipline
  /// may keep state across the calls of one instant, as CoDel's dropping loop does).
  virtual std::optional<Dequeued> next(sim::Time now) = 0;
  /// Requests waiting.
  virtual std::size_t size() const = 0;
  /// Removes and returns the waiting request `call_id` of `from` (a cancelled tied copy);
  /// nothing if it is not waiting (already started, or never came).
  virtual std::optional<QueuedRequest> cancel(sim::NodeId from, std::uint64_t call_id) = 0;
  /// The server crashed: everything waiting is lost (volatile), and so is any state the
  /// discipline keeps. Returns how many requests were lost.
  virtual std::size_t clear() = 0;
};

}  // namespace models
