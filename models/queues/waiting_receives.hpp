// The receives a queue holds while it has no message to give (long polling), longest-waiting
// first. A receive leaves from the front when a message becomes deliverable, or from anywhere
// when its wait runs out: a doubly linked list through a SlotTable, so both are O(1) and nothing
// allocates once the table has grown to its peak.
#pragma once

#include <cstdint>
#include <optional>

#include "models/shared/slot_table.hpp"
#include "sim/ids.hpp"
#include "sim/node.hpp"

namespace models {

struct WaitingReceive {
  sim::NodeId caller = sim::kNoNode;
  std::uint64_t call_id = 0;  // the receive's, echoed in the delivery
  sim::TimerId wait_over;     // fires when its wait runs out
};

class WaitingReceives {
 public:
  using Id = SlotTable<int>::Id;  // never 0

  std::size_t size() const { return table_.size(); }
  bool empty() const { return table_.size() == 0; }

  Id push_back(const WaitingReceive& receive) {
    const Id id = table_.insert({.receive = receive, .prev = back_, .next = 0});
    if (back_ != 0) table_.find(back_)->next = id;
    if (front_ == 0) front_ = id;
    back_ = id;
    return id;
  }
  /// Sets the timer of the receive `id` (it is known only after push_back gave the id).
  void set_timer(Id id, sim::TimerId timer) { table_.find(id)->receive.wait_over = timer; }

  /// The longest-waiting receive, removed (none when empty).
  std::optional<WaitingReceive> pop_front() {
    if (front_ == 0) return std::nullopt;
    return remove(front_);
  }

  /// Removes the receive `id` (none if it is no longer held).
  std::optional<WaitingReceive> remove(Id id) {
    const Entry* e = table_.find(id);
    if (e == nullptr) return std::nullopt;
    const Entry entry = *e;
    if (entry.prev != 0) table_.find(entry.prev)->next = entry.next;
    if (entry.next != 0) table_.find(entry.next)->prev = entry.prev;
    if (front_ == id) front_ = entry.next;
    if (back_ == id) back_ = entry.prev;
    table_.erase(id);
    return entry.receive;
  }

  void clear() {
    table_.clear();
    front_ = back_ = 0;
  }

 private:
  struct Entry {
    WaitingReceive receive;
    Id prev = 0, next = 0;
  };
  SlotTable<Entry> table_;
  Id front_ = 0, back_ = 0;
};

}  // namespace models
