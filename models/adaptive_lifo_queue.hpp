// Adaptive LIFO, as Facebook describes it (Maurer, "Fail at Scale", ACM Queue 13(8), 2015):
// FIFO in normal operation, LIFO once a standing queue has formed.
//
// "Standing" means the queue has not been empty at any moment of the last `switch_after`
// (Facebook's N, 100ms): short bursts are served in arrival order (fair, and nobody waits long
// anyway), while a sustained overload is served newest first, like lifo_queue.hpp, so that the
// requests served are those whose clients still wait. As soon as the queue drains, the next
// burst is FIFO again. A full queue (`limit`) refuses the arriving request.
#pragma once

#include "models/queue_discipline.hpp"
#include "models/ring_buffer.hpp"

namespace models {

class AdaptiveLifoQueue final : public QueueDiscipline {
 public:
  /// `limit` < 0: unbounded; 0: no waiting room. `switch_after` > 0.
  AdaptiveLifoQueue(std::int64_t limit, sim::Duration switch_after)
      : limit_(limit), switch_after_(switch_after), waiting_(initial_queue_capacity(limit)) {}

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
  /// True while the queue has stayed non-empty for longer than `switch_after`.
  bool lifo_mode(sim::Time now) const {
    return !waiting_.empty() && now - nonempty_since_ > switch_after_;
  }
  std::size_t size() const override { return waiting_.size(); }
  std::size_t clear() override {
    const std::size_t lost = waiting_.size();
    waiting_.clear();
    return lost;
  }

 private:
  std::int64_t limit_;
  sim::Duration switch_after_;
  RingBuffer<QueuedRequest> waiting_;
  sim::Time nonempty_since_;  // when the queue last went from empty to non-empty
};

}  // namespace models
