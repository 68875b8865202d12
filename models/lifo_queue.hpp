// Last come, first served: a free worker takes the newest waiting request.
//
// Under overload a FIFO queue serves requests in the order they came, so once the wait exceeds
// the clients' timeout every request it serves is one whose client has already given up. LIFO
// serves the newest request first, whose client still waits: goodput stays near capacity while
// the oldest requests starve at the bottom of the stack (their clients time out; they are served
// only when the overload ends, or dropped unserved with drop_expired). The price is fairness:
// the latency of the requests that succeed is low, but a request's chance depends on luck.
// A full queue (`limit`) refuses the arriving request, as FIFO does.
#pragma once

#include "models/queue_discipline.hpp"
#include "models/ring_buffer.hpp"

namespace models {

class LifoQueue final : public QueueDiscipline {
 public:
  /// `limit` < 0: unbounded; 0: no waiting room.
  explicit LifoQueue(std::int64_t limit) : limit_(limit), waiting_(initial_queue_capacity(limit)) {}

  bool admit(const QueuedRequest& request, sim::Time /*now*/) override {
    if (queue_full(limit_, waiting_.size())) return false;
    waiting_.push_back(request);
    return true;
  }
  std::optional<Dequeued> next(sim::Time /*now*/) override {
    if (waiting_.empty()) return std::nullopt;
    return Dequeued{waiting_.pop_back()};
  }
  std::size_t size() const override { return waiting_.size(); }
  std::size_t clear() override {
    const std::size_t lost = waiting_.size();
    waiting_.clear();
    return lost;
  }

 private:
  std::int64_t limit_;
  RingBuffer<QueuedRequest> waiting_;
};

}  // namespace models
