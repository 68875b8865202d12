#include "models/replication/replication_log.hpp"

#include <algorithm>

#include "sim/assert.hpp"

namespace models {

ReplicationLog::ReplicationLog(std::size_t backlog) {
  std::size_t capacity = 1;
  while (capacity < std::max<std::size_t>(backlog, 1)) capacity *= 2;
  ring_.assign(capacity, {});
  mask_ = capacity - 1;
  runs_.reserve(64);
}

std::uint64_t ReplicationLog::first_held() const {
  const std::uint64_t from_ring = last_ >= ring_.size() ? last_ - ring_.size() + 1 : 1;
  return std::max(from_ring, base_ + 1);
}

std::uint64_t ReplicationLog::term_at(std::uint64_t index) const {
  if (index == 0 || index > last_ || runs_.empty()) return 0;
  // The last run starting at or before index.
  auto it = std::upper_bound(runs_.begin(), runs_.end(), index,
                             [](std::uint64_t i, const Run& r) { return i < r.first_index; });
  return it == runs_.begin() ? 0 : std::prev(it)->term;
}

void ReplicationLog::note_term(std::uint64_t index, std::uint64_t term) {
  if (!runs_.empty() && runs_.back().term == term) return;
  DSIM_ASSERT(runs_.empty() || runs_.back().term < term, "a log's terms only grow");
  runs_.push_back({index, term});
}

std::uint64_t ReplicationLog::append(std::uint64_t term, std::uint64_t key) {
  const std::uint64_t index = last_ + 1;
  DSIM_ASSERT(index < (std::uint64_t{1} << kIndexBits), "a log of fewer than 2^40 entries");
  const std::uint64_t v = version(term, index);
  append_received({key, v});
  return v;
}

void ReplicationLog::append_received(const Entry& entry) {
  const std::uint64_t index = index_of(entry.version);
  DSIM_ASSERT(index == last_ + 1, "log entries are appended in order");
  note_term(index, term_of(entry.version));
  ring_[index & mask_] = entry;
  last_ = index;
}

void ReplicationLog::reset_to(const ReplicationLog& other, std::uint64_t upto) {
  DSIM_ASSERT(upto <= other.last_, "a snapshot of what the log holds");
  runs_.clear();
  for (const Run& r : other.runs_)
    if (r.first_index <= upto) runs_.push_back(r);
  last_ = upto;
  base_ = upto;
}

}  // namespace models
