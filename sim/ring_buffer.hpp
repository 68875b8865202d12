// A double-ended ring buffer of trivially copyable values: the storage of request queues and of
// the kernel's timeout lanes (simulator.hpp).
//
// Nothing is allocated until the first push, since most nodes hold a buffer (a server's queue)
// and many never use it: 10^6 idle servers cost nothing here. The first push allocates the
// initial capacity (64 unless asked otherwise; a power of two), which then doubles only when
// full (the copy keeps order), so a queue allocates while it grows to its peak length and never
// again: nothing per request.
// Both ends are O(1), so FIFO (pop_front) and LIFO (pop_back) disciplines share it.
#pragma once

#include <cstddef>
#include <optional>
#include <type_traits>
#include <vector>

#include "sim/assert.hpp"

namespace sim {

template <class T>
class RingBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "queued entries are plain values");

 public:
  explicit RingBuffer(std::size_t initial_capacity = 64) {
    while (first_capacity_ < initial_capacity) first_capacity_ *= 2;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t capacity() const { return slots_.size(); }

  void push_back(const T& value) {
    if (size_ == slots_.size()) grow();
    slots_[(head_ + size_) & mask()] = value;
    ++size_;
  }

  T& front() {
    DSIM_ASSERT(size_ > 0, "front() of an empty ring buffer");
    return slots_[head_];
  }
  T& back() {
    DSIM_ASSERT(size_ > 0, "back() of an empty ring buffer");
    return slots_[(head_ + size_ - 1) & mask()];
  }
  /// The i-th entry from the front (0 = front).
  const T& at(std::size_t i) const {
    DSIM_ASSERT(i < size_, "ring buffer index out of range");
    return slots_[(head_ + i) & mask()];
  }

  T pop_front() {
    const T value = front();
    head_ = (head_ + 1) & mask();
    --size_;
    return value;
  }
  T pop_back() {
    const T value = back();
    --size_;
    return value;
  }

  /// Removes and returns the first entry (from the front) that `matches`, keeping the others
  /// in order. O(size): for rare removals from the middle (a cancelled request).
  template <class Pred>
  std::optional<T> remove_first(Pred matches) {
    for (std::size_t i = 0; i < size_; ++i) {
      const T value = slots_[(head_ + i) & mask()];
      if (!matches(value)) continue;
      for (std::size_t j = i; j + 1 < size_; ++j)
        slots_[(head_ + j) & mask()] = slots_[(head_ + j + 1) & mask()];
      --size_;
      return value;
    }
    return std::nullopt;
  }

  /// Empties the buffer; keeps its capacity.
  void clear() {
    head_ = 0;
    size_ = 0;
  }

 private:
  std::size_t mask() const { return slots_.size() - 1; }
  void grow() {
    std::vector<T> bigger(slots_.empty() ? first_capacity_ : slots_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = slots_[(head_ + i) & mask()];
    slots_.swap(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;
  std::size_t first_capacity_ = 1;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace sim
