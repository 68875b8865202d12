// A replica's log of writes, as a leader-follower store keeps it: entries numbered 1, 2, 3, ...,
// each a write of one key stamped with the term of the leader that appended it (Raft's log,
// Ongaro and Ousterhout 2014, section 5.3, without its state machine: the store applies entries
// itself).
//
// What it holds:
// - the term of every index, ever, as runs of equal terms (a few words per leadership), so that
//   two logs can be compared at any index (the Log Matching property: equal term at an index
//   means equal entries up to it);
// - the entries themselves for the last `backlog` indices only (a ring): older ones are in the
//   store's table and reach a lagging follower as a snapshot, as MySQL's binary log and Redis's
//   replication backlog do.
// A version names an entry: version = term x 2^40 + index (kIndexBits), so versions grow in log
// order and a new leader's writes outrank every earlier term's, lost or not.
#pragma once

#include <cstdint>
#include <vector>

namespace models {

class ReplicationLog {
 public:
  static constexpr int kIndexBits = 40;
  static constexpr std::uint64_t kNoKey = ~std::uint64_t{0};  // a leader's no-op entry

  struct Entry {
    std::uint64_t key = kNoKey;
    std::uint64_t version = 0;
  };

  static std::uint64_t version(std::uint64_t term, std::uint64_t index) {
    return (term << kIndexBits) | index;
  }
  static std::uint64_t term_of(std::uint64_t version) { return version >> kIndexBits; }
  static std::uint64_t index_of(std::uint64_t version) {
    return version & ((std::uint64_t{1} << kIndexBits) - 1);
  }

  /// `backlog` entries kept (rounded up to a power of two).
  explicit ReplicationLog(std::size_t backlog);

  std::uint64_t last_index() const { return last_; }
  std::uint64_t last_term() const { return term_at(last_); }
  /// The term of entry `index` (0 for index 0 and beyond the last).
  std::uint64_t term_at(std::uint64_t index) const;
  /// Whether entry `index` is still in the backlog.
  bool holds(std::uint64_t index) const { return index >= first_held() && index <= last_; }
  std::uint64_t first_held() const;
  const Entry& at(std::uint64_t index) const { return ring_[index & mask_]; }

  /// Appends the entry for `key` at last_index() + 1 in `term`; returns its version.
  std::uint64_t append(std::uint64_t term, std::uint64_t key);
  /// Appends an entry received from a leader (its version names its index and term).
  void append_received(const Entry& entry);
  /// Becomes `other`'s log up to `upto` (a snapshot): its terms, no entries held before upto.
  void reset_to(const ReplicationLog& other, std::uint64_t upto);

  /// Raft's "at least as up-to-date" order as one number: last term, then last index.
  std::uint64_t up_to_date_rank() const { return version(last_term(), last_); }

 private:
  struct Run {
    std::uint64_t first_index;
    std::uint64_t term;
  };
  void note_term(std::uint64_t index, std::uint64_t term);

  std::vector<Entry> ring_;
  std::uint64_t mask_;
  std::vector<Run> runs_;   // increasing first_index; each run's term holds to the next's
  std::uint64_t last_ = 0;  // the last index
  std::uint64_t base_ = 0;  // the last index of the snapshot the log starts from
};

}  // namespace models
