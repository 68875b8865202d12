// One bounded waiting line, three orders of service:
//
// - fifo: first come, first served.
// - lifo: a free worker takes the newest waiting request. Under overload a FIFO queue serves
//   requests in the order they came, so once the wait exceeds the clients' timeout every request
//   it serves is one whose client has already given up. LIFO serves the newest request first,
//   whose client still waits: goodput stays near capacity while the oldest requests starve at
//   the bottom (their clients time out; they are served when the overload ends, or dropped
//   unserved with drop_expired). The price is fairness: a request's chance depends on luck.
// - adaptive_lifo, as Facebook describes it (Maurer, "Fail at Scale", ACM Queue 13(8), 2015):
//   FIFO while the queue keeps emptying, LIFO once it has not been empty for `lifo_after`
//   (Facebook's N, 100ms): short bursts are served in arrival order, a sustained overload newest
//   first. As soon as the queue drains, the next burst is FIFO again.
//
// A full queue (`limit`) refuses the arriving request, whatever the order.
#pragma once

#include "models/services/queue_discipline.hpp"
#include "sim/ring_buffer.hpp"

namespace models {

class OrderedQueue final : public QueueDiscipline {
 public:
  enum class Order { Fifo, Lifo, AdaptiveLifo };

  /// `limit` < 0: unbounded; 0: no waiting room (a request finding every worker busy is refused).
  /// `lifo_after` (> 0) is used by AdaptiveLifo only.
  OrderedQueue(std::int64_t limit, Order order, sim::Duration lifo_after = sim::Duration::zero())
      : limit_(limit),
        order_(order),
        lifo_after_(lifo_after),
        waiting_(initial_queue_capacity(limit)) {}

  bool admit(const QueuedRequest& request, sim::Time now) override {
    if (queue_full(limit_, waiting_.size())) return false;
    if (waiting_.empty()) nonempty_since_ = now;  // empty until this moment
    waiting_.push_back(request);
    return true;
  }
  std::optional<Dequeued> next(sim::Time now) override {
    if (waiting_.empty()) return std::nullopt;
    return Dequeued{lifo_mode(now) ? waiting_.pop_back() : waiting_.pop_front()};
  }
  /// True when the next request served is the newest one.
  bool lifo_mode(sim::Time now) const {
    switch (order_) {
      case Order::Fifo:
        return false;
      case Order::Lifo:
        return true;
      case Order::AdaptiveLifo:
        return !waiting_.empty() && now - nonempty_since_ > lifo_after_;
    }
    return false;
  }
  std::size_t size() const override { return waiting_.size(); }
  std::optional<QueuedRequest> cancel(sim::NodeId from, std::uint64_t call_id) override {
    return waiting_.remove_first(SameCall{from, call_id});
  }
  std::size_t clear() override {
    const std::size_t lost = waiting_.size();
    waiting_.clear();
    return lost;
  }

 private:
  std::int64_t limit_;
  Order order_;
  sim::Duration lifo_after_;
  sim::RingBuffer<QueuedRequest> waiting_;
  sim::Time nonempty_since_;  // when the queue last went from empty to non-empty
};

}  // namespace models
