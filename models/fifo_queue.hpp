// First come, first served, with an optional limit on how many may wait.
#pragma once

#include "models/queue_discipline.hpp"
#include "models/ring_buffer.hpp"

namespace models {

class FifoQueue final : public QueueDiscipline {
 public:
  /// `limit` < 0: unbounded; 0: no waiting room (a request finding every worker busy is refused).
  explicit FifoQueue(std::int64_t limit) : limit_(limit), waiting_(initial_queue_capacity(limit)) {}

  bool admit(const QueuedRequest& request, sim::Time /*now*/) override {
    if (queue_full(limit_, waiting_.size())) return false;
    waiting_.push_back(request);
    return true;
  }
  std::optional<Dequeued> next(sim::Time /*now*/) override {
    if (waiting_.empty()) return std::nullopt;
    return Dequeued{waiting_.pop_front()};
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
