// A table of in-flight things (requests, forwarded calls) addressed by ids that encode their
// slot: lookup is an index, not a hash, and a stale id (of an entry since removed) finds
// nothing because the slot's generation moved on. Grows to the peak count, then allocates
// nothing. Free slots are reused last freed first, through a list threaded in the entries (no
// second vector: a table is part of every client node).
#pragma once

#include <cstdint>
#include <vector>

namespace models {

template <class T>
class SlotTable {
 public:
  using Id = std::uint64_t;  // generation << 32 | slot; never 0

  Id insert(const T& value) {
    std::uint32_t slot;
    if (free_head_ != kNone) {
      slot = free_head_;
      free_head_ = entries_[slot].next_free;
    } else {
      slot = static_cast<std::uint32_t>(entries_.size());
      entries_.push_back({});
    }
    Entry& e = entries_[slot];
    e.value = value;
    e.next_free = kLive;
    ++size_;
    return (static_cast<Id>(e.generation) << 32) | slot;
  }

  /// The entry with this id, or nullptr if it was removed (or never existed).
  T* find(Id id) {
    const auto slot = static_cast<std::uint32_t>(id & 0xffffffffu);
    if (slot >= entries_.size()) return nullptr;
    Entry& e = entries_[slot];
    return e.live() && e.generation == static_cast<std::uint32_t>(id >> 32) ? &e.value : nullptr;
  }

  bool erase(Id id) {
    if (find(id) == nullptr) return false;
    const auto slot = static_cast<std::uint32_t>(id & 0xffffffffu);
    Entry& e = entries_[slot];
    e.next_free = free_head_;
    ++e.generation;
    free_head_ = slot;
    --size_;
    return true;
  }

  /// Calls f(id, value) for every live entry, in slot order (deterministic).
  template <class F>
  void for_each(F&& f) {
    for (std::uint32_t slot = 0; slot < entries_.size(); ++slot) {
      Entry& e = entries_[slot];
      if (e.live()) f((static_cast<Id>(e.generation) << 32) | slot, e.value);
    }
  }

  void clear() {
    for (std::uint32_t slot = 0; slot < entries_.size(); ++slot)
      if (entries_[slot].live()) erase((static_cast<Id>(entries_[slot].generation) << 32) | slot);
  }

  std::size_t size() const { return size_; }

 private:
  static constexpr std::uint32_t kNone = 0xffffffffu;  // the end of the free list
  static constexpr std::uint32_t kLive = 0xfffffffeu;  // the slot holds an entry
  struct Entry {
    T value{};
    std::uint32_t generation = 1;
    std::uint32_t next_free = kNone;  // kLive, or the next free slot (kNone: none)
    bool live() const { return next_free == kLive; }
  };
  std::vector<Entry> entries_;
  std::uint32_t free_head_ = kNone;  // the slot freed last
  std::uint32_t size_ = 0;
};

}  // namespace models
