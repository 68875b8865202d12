// The storage of a cache node: at most `capacity` entries addressed by key, with
// least-recently-used order for eviction. Every array is allocated by the constructor
// (capacity entries, and an open-addressing index of the next power of two >= 2 x capacity
// buckets, linear probing, backward-shift deletion, so no tombstones); nothing allocates
// afterwards.
//
// An entry may exist without a value (a key whose first fetch is in flight) and may hold an
// expired value: the cache decides what counts as a hit. An entry with a fetch in flight
// (in_flight > 0) is pinned: eviction skips it, so the fetch finds its entry again when it
// completes.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "sim/time.hpp"

namespace models {

struct CacheEntry {
  std::uint64_t key = 0;
  std::uint64_t value = 0;
  bool has_value = false;
  sim::Time expiry;             // on the cache node's clock: a hit before, a miss from then on
  sim::Duration recompute;      // how long the last fetch of this key took (XFetch's delta)
  std::uint64_t leader = 0;     // the latest fetch of this key in flight (0: none)
  std::uint32_t in_flight = 0;  // fetches of this key in flight
  std::uint32_t writes = 0;     // writes of this key answered: a fetch that saw fewer is stale
};

class CacheTable {
 public:
  static constexpr std::uint32_t kNil = std::numeric_limits<std::uint32_t>::max();
  static constexpr std::uint64_t kMaxCapacity = 10'000'000;

  /// 1 <= capacity <= kMaxCapacity.
  explicit CacheTable(std::uint64_t capacity);

  /// The entry of `key`, or nullptr. Does not change the LRU order.
  CacheEntry* find(std::uint64_t key);
  /// Makes `entry` (one of this table's) the most recently used.
  void touch(CacheEntry& entry);
  /// The entry of `key`, created (without a value, most recently used) if absent. When the table
  /// is full, the least recently used entry without a fetch in flight makes room (`evicted` is
  /// set to true if it held a value); if every entry has a fetch in flight, returns nullptr.
  CacheEntry* acquire(std::uint64_t key, bool& evicted);
  /// Forgets every entry (a crash).
  void clear();

  std::uint64_t size() const { return size_; }
  std::uint64_t capacity() const { return entries_.size(); }

 private:
  struct Link {
    std::uint32_t newer = kNil, older = kNil;  // LRU list; the free list uses `older`
  };

  std::uint64_t home(std::uint64_t key) const;
  /// The bucket holding `key`, or the empty bucket where it would go.
  std::uint64_t bucket_of(std::uint64_t key) const;
  void remove_from_index(std::uint64_t key);
  void unlink(std::uint32_t slot);
  void push_newest(std::uint32_t slot);
  std::uint32_t evict_one(bool& evicted);

  std::vector<CacheEntry> entries_;     // by slot
  std::vector<Link> links_;             // by slot
  std::vector<std::uint32_t> buckets_;  // entry slot + 1; 0: empty
  std::uint64_t mask_ = 0;
  std::uint32_t newest_ = kNil, oldest_ = kNil;
  std::uint32_t free_ = kNil;
  std::uint64_t size_ = 0;
};

}  // namespace models
