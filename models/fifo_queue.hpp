// First come, first served, with an optional limit on how many may wait.
#pragma once

#include "models/queue_discipline.hpp"
#include "models/ring_buffer.hpp"

namespace models {

class FifoQueue final : public QueueDiscipline {
 public:
  /// `limit` < 0: unbounded; 0: no waiting room (a request finding every worker busy is refused).
  explicit FifoQueue(std::int64_t limit)
      : limit_(limit), waiting_(limit < 0 || limit > 64 ? 64 : static_cast<std::size_t>(limit)) {}

  bool admit(const QueuedRequest& request, sim::Time /*now*/) override {
    if (limit_ >= 0 && waiting_.size() >= static_cast<std::size_t>(limit_)) return false;
    waiting_.push_back(request);
    return true;
  }
  std::optional<QueuedRequest> next(sim::Time /*now*/) override {
    if (waiting_.empty()) return std::nullopt;
    return waiting_.pop_front();
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
