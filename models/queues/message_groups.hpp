// The message groups of an ordered queue (SQS FIFO's MessageGroupId; here the message's key):
// each group is a FIFO of message slots in publish order, and a group is busy while its head is
// delivered and not yet acknowledged, returned or dead-lettered. Only an idle group's head may be
// delivered, so the messages of one key are processed one at a time and in order while other
// keys go on.
//
// The FIFOs are linked through the slots (next_), so a group costs one map node, and map nodes
// of emptied groups are kept and reused: once the queue has reached its peak number of groups
// (at most its capacity), a new key allocates nothing.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "sim/assert.hpp"

namespace models {

class MessageGroups {
 public:
  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

  /// Appends `slot` to `key`'s group. True if it is the head of an idle group: deliverable now.
  bool append(std::uint64_t key, std::uint32_t slot) {
    if (slot >= next_.size()) next_.resize(slot + 1, kNone);
    next_[slot] = kNone;
    auto it = groups_.find(key);
    if (it == groups_.end()) {
      it = add(key);
      it->second = {.head = slot, .tail = slot, .busy = false};
      return true;
    }
    next_[it->second.tail] = slot;
    it->second.tail = slot;
    return false;
  }

  /// The group's head `slot` was delivered: the group waits for it.
  void deliver_head(std::uint64_t key, std::uint32_t slot) {
    Group& g = group(key);
    DSIM_ASSERT(g.head == slot && !g.busy, "only an idle group's head is delivered");
    g.busy = true;
  }

  /// The delivered head came back (nack, visibility expiry, restart): the group is idle again,
  /// with the same head, which is deliverable.
  void return_head(std::uint64_t key, std::uint32_t slot) {
    Group& g = group(key);
    DSIM_ASSERT(g.head == slot && g.busy, "only the delivered head comes back");
    g.busy = false;
  }

  /// The delivered head `slot` is gone (acknowledged, dead-lettered). Returns the group's new
  /// head, deliverable now, or kNone if the group is empty (and forgotten).
  std::uint32_t remove_head(std::uint64_t key, std::uint32_t slot) {
    const auto it = groups_.find(key);
    DSIM_ASSERT(it != groups_.end() && it->second.head == slot && it->second.busy,
                "only the delivered head is removed");
    const std::uint32_t next = next_[slot];
    if (next == kNone) {
      spare_.push_back(groups_.extract(it));
      return kNone;
    }
    it->second.head = next;
    it->second.busy = false;
    return next;
  }

  /// Groups with at least one message.
  std::size_t size() const { return groups_.size(); }

  void clear() {
    while (!groups_.empty()) spare_.push_back(groups_.extract(groups_.begin()));
  }

 private:
  struct Group {
    std::uint32_t head = kNone;  // oldest message (the one delivered, while busy)
    std::uint32_t tail = kNone;  // newest message
    bool busy = false;
  };
  using Map = std::map<std::uint64_t, Group>;

  Map::iterator add(std::uint64_t key) {
    if (spare_.empty()) return groups_.emplace(key, Group{}).first;
    Map::node_type node = std::move(spare_.back());
    spare_.pop_back();
    node.key() = key;
    return groups_.insert(std::move(node)).position;
  }
  Group& group(std::uint64_t key) {
    const auto it = groups_.find(key);
    DSIM_ASSERT(it != groups_.end(), "a delivered message's group exists");
    return it->second;
  }

  Map groups_;
  std::vector<Map::node_type> spare_;  // emptied groups' nodes, for reuse
  std::vector<std::uint32_t> next_;    // by slot: the next message of the same group
};

}  // namespace models
