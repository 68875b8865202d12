// How a server orders and admits the requests that wait for a worker.
//
// The Server owns one QueueDiscipline and asks it two questions: "every worker is busy, may this
// request wait?" (admit) and "a worker is free, whom does it serve?" (next). FIFO with a length
// limit (fifo_queue.hpp) is the only discipline so far. Others (LIFO, CoDel, dropping requests
// whose deadline passed) each go in a file of their own behind this interface; one that sheds
// requests while choosing the next will report them through `next` (a verdict beside the request),
// so that the server can answer them.
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
};

class QueueDiscipline {
 public:
  virtual ~QueueDiscipline() = default;
  /// Every worker is busy: keeps `request` waiting (true), or refuses it (false: the server
  /// answers Rejected at once).
  virtual bool admit(const QueuedRequest& request, sim::Time now) = 0;
  /// A worker is free: the request it serves next, or nothing if none waits.
  virtual std::optional<QueuedRequest> next(sim::Time now) = 0;
  /// Requests waiting.
  virtual std::size_t size() const = 0;
  /// The server crashed: everything waiting is lost (volatile). Returns how many were.
  virtual std::size_t clear() = 0;
};

}  // namespace models
