// A map from job ids (JobLedger: never 0) to a value, for a barrier stage's open batches: open
// addressing with linear probing over a power-of-two table, at most half full. It grows (doubles)
// only while the open batches grow to their peak, then allocates nothing; erasing shifts the
// following entries back (no tombstones). Only looked up, never iterated: its order decides
// nothing.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/assert.hpp"
#include "sim/rng.hpp"

namespace models {

class JobIndex {
 public:
  explicit JobIndex(std::size_t initial_capacity = 64) : slots_(round_up(initial_capacity)) {}

  /// The value of `job`, or nullptr.
  std::uint64_t* find(std::uint64_t job) {
    for (std::size_t i = home(job);; i = next(i)) {
      if (slots_[i].job == job) return &slots_[i].value;
      if (slots_[i].job == 0) return nullptr;
    }
  }

  /// Sets `job`'s value (a new entry or a replacement).
  void set(std::uint64_t job, std::uint64_t value) {
    DSIM_ASSERT(job != 0, "job ids start at 1");
    if (std::uint64_t* found = find(job)) {
      *found = value;
      return;
    }
    if (2 * (size_ + 1) > slots_.size()) grow();
    place(job, value);
    ++size_;
  }

  /// Removes `job` (if present).
  void erase(std::uint64_t job) {
    std::size_t i = home(job);
    while (slots_[i].job != job) {
      if (slots_[i].job == 0) return;
      i = next(i);
    }
    // Backward-shift deletion: move up every later entry of the run that may sit at i.
    for (std::size_t j = next(i);; j = next(j)) {
      if (slots_[j].job == 0) break;
      const std::size_t h = home(slots_[j].job);
      // Entry j may move to i if its home is not in the cyclic interval (i, j].
      const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i] = {};
    --size_;
  }

  void clear() {
    for (Slot& s : slots_) s = {};
    size_ = 0;
  }
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t job = 0;  // 0: empty
    std::uint64_t value = 0;
  };
  static std::size_t round_up(std::size_t n) {
    std::size_t c = 8;
    while (c < n) c *= 2;
    return c;
  }
  std::size_t home(std::uint64_t job) const {
    return static_cast<std::size_t>(sim::splitmix64_mix(job)) & (slots_.size() - 1);
  }
  std::size_t next(std::size_t i) const { return (i + 1) & (slots_.size() - 1); }
  void place(std::uint64_t job, std::uint64_t value) {
    std::size_t i = home(job);
    while (slots_[i].job != 0) i = next(i);
    slots_[i] = {job, value};
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old)
      if (s.job != 0) place(s.job, s.value);
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace models
