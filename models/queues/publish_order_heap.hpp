// The messages of a queue in publish order: a binary min-heap of (publish sequence, slot) that
// also knows where each slot sits, so that any message can be taken out of the middle (a message
// of a message group delivered ahead of older messages of a blocked group) in O(log n).
//
// The oldest is the top; a message that comes back (visibility expiry, nack) is pushed with its
// original sequence and so takes its original place. A slot is in the heap at most once.
// Storage grows to the peak number of entries and slots, then nothing allocates.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "sim/assert.hpp"

namespace models {

class PublishOrderHeap {
 public:
  static constexpr std::uint32_t kAbsent = std::numeric_limits<std::uint32_t>::max();

  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  bool contains(std::uint32_t slot) const {
    return slot < position_.size() && position_[slot] != kAbsent;
  }
  /// The oldest entry's slot and sequence (not empty).
  std::uint32_t top_slot() const { return items_.front().slot; }
  std::uint64_t top_sequence() const { return items_.front().sequence; }

  void push(std::uint64_t sequence, std::uint32_t slot) {
    if (slot >= position_.size()) position_.resize(slot + 1, kAbsent);
    DSIM_ASSERT(position_[slot] == kAbsent, "a slot is in the publish-order heap once");
    items_.push_back({sequence, slot});
    position_[slot] = static_cast<std::uint32_t>(items_.size() - 1);
    sift_up(items_.size() - 1);
  }

  /// Removes `slot` wherever it is; false if it was not there.
  bool erase(std::uint32_t slot) {
    if (!contains(slot)) return false;
    const std::size_t at = position_[slot];
    position_[slot] = kAbsent;
    const Item last = items_.back();
    items_.pop_back();
    if (at == items_.size()) return true;  // it was the last
    put(at, last);
    sift_up(at);
    sift_down(position_[last.slot]);
    return true;
  }

  void clear() {
    for (const Item& item : items_) position_[item.slot] = kAbsent;
    items_.clear();
  }

 private:
  struct Item {
    std::uint64_t sequence;
    std::uint32_t slot;
  };

  void put(std::size_t at, Item item) {
    items_[at] = item;
    position_[item.slot] = static_cast<std::uint32_t>(at);
  }
  void sift_up(std::size_t at) {
    const Item item = items_[at];
    while (at > 0) {
      const std::size_t parent = (at - 1) / 2;
      if (items_[parent].sequence <= item.sequence) break;
      put(at, items_[parent]);
      at = parent;
    }
    put(at, item);
  }
  void sift_down(std::size_t at) {
    const Item item = items_[at];
    for (;;) {
      std::size_t child = 2 * at + 1;
      if (child >= items_.size()) break;
      if (child + 1 < items_.size() && items_[child + 1].sequence < items_[child].sequence) ++child;
      if (item.sequence <= items_[child].sequence) break;
      put(at, items_[child]);
      at = child;
    }
    put(at, item);
  }

  std::vector<Item> items_;
  std::vector<std::uint32_t> position_;  // by slot: index in items_, or kAbsent
};

}  // namespace models
