#include "models/caching/cache_table.hpp"

#include "sim/assert.hpp"
#include "sim/rng.hpp"

namespace models {

CacheTable::CacheTable(std::uint64_t capacity) {
  DSIM_ASSERT(capacity >= 1 && capacity <= kMaxCapacity, "cache capacity out of range");
  std::uint64_t buckets = 2;
  while (buckets < 2 * capacity) buckets *= 2;
  entries_.resize(capacity);
  links_.resize(capacity);
  buckets_.resize(buckets);
  mask_ = buckets - 1;
  clear();
}

void CacheTable::clear() {
  for (auto& b : buckets_) b = 0;
  // Free list in slot order: slot 0 is used first.
  for (std::uint32_t s = 0; s < entries_.size(); ++s) {
    entries_[s] = CacheEntry{};
    links_[s] = Link{.newer = kNil, .older = s + 1 < entries_.size() ? s + 1 : kNil};
  }
  free_ = 0;
  newest_ = oldest_ = kNil;
  size_ = 0;
}

std::uint64_t CacheTable::home(std::uint64_t key) const {
  return sim::splitmix64_mix(key) & mask_;
}

std::uint64_t CacheTable::bucket_of(std::uint64_t key) const {
  // The index is at most half full, so an empty bucket ends every probe sequence.
  std::uint64_t b = home(key);
  while (buckets_[b] != 0 && entries_[buckets_[b] - 1].key != key) b = (b + 1) & mask_;
  return b;
}

CacheEntry* CacheTable::find(std::uint64_t key) {
  const std::uint32_t b = buckets_[bucket_of(key)];
  return b == 0 ? nullptr : &entries_[b - 1];
}

void CacheTable::unlink(std::uint32_t slot) {
  Link& s = links_[slot];
  if (s.newer != kNil)
    links_[s.newer].older = s.older;
  else
    newest_ = s.older;
  if (s.older != kNil)
    links_[s.older].newer = s.newer;
  else
    oldest_ = s.newer;
  s.newer = s.older = kNil;
}

void CacheTable::push_newest(std::uint32_t slot) {
  Link& s = links_[slot];
  s.newer = kNil;
  s.older = newest_;
  if (newest_ != kNil) links_[newest_].newer = slot;
  newest_ = slot;
  if (oldest_ == kNil) oldest_ = slot;
}

void CacheTable::touch(CacheEntry& entry) {
  DSIM_ASSERT(&entry >= entries_.data() && &entry < entries_.data() + entries_.size(),
              "touch of an entry of another table");
  const auto slot = static_cast<std::uint32_t>(&entry - entries_.data());
  if (newest_ == slot) return;
  unlink(slot);
  push_newest(slot);
}

void CacheTable::remove_from_index(std::uint64_t key) {
  std::uint64_t hole = bucket_of(key);
  DSIM_ASSERT(buckets_[hole] != 0, "removing a key that is not in the index");
  buckets_[hole] = 0;
  // Backward-shift deletion: move up every later entry of the probe run whose home bucket does
  // not lie cyclically in (hole, j], so that no probe sequence is broken by the hole.
  for (std::uint64_t j = (hole + 1) & mask_; buckets_[j] != 0; j = (j + 1) & mask_) {
    const std::uint64_t h = home(entries_[buckets_[j] - 1].key);
    const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
    if (stays) continue;
    buckets_[hole] = buckets_[j];
    buckets_[j] = 0;
    hole = j;
  }
}

std::uint32_t CacheTable::evict_one(bool& evicted) {
  // The least recently used entry that no fetch is waiting to fill.
  std::uint32_t victim = oldest_;
  while (victim != kNil && entries_[victim].in_flight > 0) victim = links_[victim].newer;
  if (victim == kNil) return kNil;
  evicted = entries_[victim].has_value;
  remove_from_index(entries_[victim].key);
  unlink(victim);
  --size_;
  return victim;
}

CacheEntry* CacheTable::acquire(std::uint64_t key, bool& evicted) {
  evicted = false;
  if (CacheEntry* e = find(key)) {
    touch(*e);
    return e;
  }
  std::uint32_t slot = free_;
  if (slot != kNil) {
    free_ = links_[slot].older;
  } else {
    slot = evict_one(evicted);
    if (slot == kNil) return nullptr;
  }
  entries_[slot] = CacheEntry{.key = key};
  buckets_[bucket_of(key)] = slot + 1;
  push_newest(slot);
  ++size_;
  return &entries_[slot];
}

}  // namespace models
