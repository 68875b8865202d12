#include "sim/simulator.hpp"

#include <algorithm>

#include "sim/assert.hpp"

namespace sim {

Simulator::Simulator(std::uint64_t seed) : seed_(seed) {
  reserve(1024);
}

void Simulator::reserve(std::size_t events) {
  heap_.reserve(events * 2);  // room for as many stale (cancelled) entries as live ones
  slots_.reserve(events);
  free_slots_.reserve(events);
}

std::size_t Simulator::memory_bytes() const {
  std::size_t bytes = heap_.capacity() * sizeof(HeapEntry) + slots_.capacity() * sizeof(Slot) +
                      free_slots_.capacity() * sizeof(std::uint32_t) +
                      lanes_.capacity() * sizeof(Lane) +
                      lane_lasts_.capacity() * sizeof(std::int64_t) +
                      lane_order_.capacity() * sizeof(std::uint32_t);
  for (const Lane& lane : lanes_) bytes += lane.events.capacity() * sizeof(HeapEntry);
  return bytes;
}

// take_free_slot, take_slot and run_event have several callers, and run_event is on every
// event's path: forced inline, else GCC calls them (M/M/1 about 10 % slower, bench/run).
[[gnu::always_inline]] inline std::uint32_t Simulator::take_free_slot() {
  if (!free_slots_.empty()) {
    const std::uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  DSIM_ASSERT(slots_.size() <= kSlotMask, "too many pending events");
  slots_.emplace_back();
  return static_cast<std::uint32_t>(slots_.size() - 1);
}

[[gnu::always_inline]] inline EventId Simulator::take_slot(Callback callback) {
  DSIM_ASSERT(static_cast<bool>(callback), "empty callback");
  DSIM_ASSERT(next_sequence_ < kMaxSequence, "event sequence exhausted");
  const std::uint32_t slot = take_free_slot();
  const std::uint64_t sequence = next_sequence_++;
  slots_[slot].callback = callback;
  slots_[slot].sequence = sequence;
  return {slot, sequence};
}

// The steps of take_slot, written out: through it, GCC spends 10 more instructions on each
// event (callgrind, bench/run mm1), the kernel's hottest path.
EventId Simulator::schedule_at(Time at, Callback callback) {
  DSIM_ASSERT(at >= now_, "cannot schedule an event in the past");
  DSIM_ASSERT(static_cast<bool>(callback), "empty callback");
  DSIM_ASSERT(next_sequence_ < kMaxSequence, "event sequence exhausted");
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    DSIM_ASSERT(slots_.size() <= kSlotMask, "too many pending events");
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  const std::uint64_t sequence = next_sequence_++;
  slots_[slot].callback = callback;
  slots_[slot].sequence = sequence;
  push({at.ns(), sequence << kSlotBits | slot});
  ++live_;
  return {slot, sequence};
}

Simulator::Lane* Simulator::lane_for(std::int64_t time) {
  // The lane whose last time is the latest at or before `time`. Appending keeps both the lane
  // and lane_lasts_ in order: `time` is below the next lane's last.
  const auto after = std::upper_bound(lane_lasts_.begin(), lane_lasts_.end(), time);
  if (after != lane_lasts_.begin()) {
    const auto at = after - 1;
    *at = time;
    return &lanes_[lane_order_[static_cast<std::size_t>(at - lane_lasts_.begin())]];
  }
  if (lanes_.size() == kMaxLanes) return nullptr;
  // Earlier than every lane's last: a new lane, first in the order.
  const std::uint32_t slot = take_free_slot();
  slots_[slot].sequence = kLaneSlot | lanes_.size();
  lane_lasts_.insert(lane_lasts_.begin(), time);
  lane_order_.insert(lane_order_.begin(), static_cast<std::uint32_t>(lanes_.size()));
  return &lanes_.emplace_back(Lane{slot});
}

EventId Simulator::schedule_timeout(Duration delay, Callback callback) {
  DSIM_ASSERT(delay >= Duration::zero(), "a timeout's delay is >= 0");
  const Time at = now_ + delay;
  Lane* lane = lane_for(at.ns());
  if (lane == nullptr) return schedule_at(at, callback);
  const EventId id = take_slot(callback);
  const HeapEntry event{at.ns(), id.sequence << kSlotBits | id.slot};
  lane->events.push_back(event);  // its time >= the lane's last, its sequence above
  ++lane_events_;
  if (!lane->in_heap) {
    lane->in_heap = true;
    push(lane_entry(*lane, event));
  }
  ++live_;
  return id;
}

bool Simulator::is_pending(EventId id) const {
  return id.valid() && id.slot < slots_.size() && slots_[id.slot].sequence == id.sequence;
}

bool Simulator::cancel(EventId id) {
  if (!is_pending(id)) return false;
  slots_[id.slot].sequence = 0;  // a lane drops its entry when it reaches it
  free_slots_.push_back(id.slot);
  --live_;
  // Stale heap entries cost memory and pops; rebuild once they are the majority.
  if (heap_.size() > 4096 && heap_.size() > 2 * live_) compact();
  // Likewise the lanes, where a cancelled timeout waits as long as its delay (an hour, say).
  if (lane_events_ > 4096 && lane_events_ > 2 * live_) compact_lanes();
  return true;
}

void Simulator::drop_cancelled_front(Lane& lane) {
  while (!lane.events.empty() && !is_live(lane.events.front().key)) {
    lane.events.pop_front();
    --lane_events_;
  }
}

void Simulator::compact_lanes() {
  // Each lane keeps its live events, in order; its heap entry is fixed when it reaches the top.
  lane_events_ = 0;
  for (Lane& lane : lanes_) {
    for (std::size_t i = lane.events.size(); i > 0; --i) {
      const HeapEntry event = lane.events.pop_front();
      if (is_live(event.key)) lane.events.push_back(event);
    }
    lane_events_ += lane.events.size();
  }
}

void Simulator::compact() {
  if (top_is_done_) {  // its slot may be a lane's by now: it must not pass for the lane's entry
    top_is_done_ = false;
    pop_top();
  }
  std::erase_if(heap_, [this](const HeapEntry& e) {
    if (is_live(e.key)) return false;
    const std::uint64_t mark = slots_[e.key & kSlotMask].sequence;
    if ((mark & kLaneSlot) == 0) return true;
    const Lane& lane = lanes_[mark & ~kLaneSlot];
    return !lane.in_heap || e.key >> kSlotBits != lane.heap_sequence;
  });
  // Restore the heap property bottom-up (Floyd), with the same d-ary layout as push/pop.
  for (std::size_t i = heap_.size(); i-- > 0;) sift_down(i);
}

void Simulator::push(HeapEntry entry) {
  if (top_is_done_) {  // replace-top
    top_is_done_ = false;
    heap_.front() = entry;
    sift_down(0);
    return;
  }
  std::size_t index = heap_.size();
  heap_.push_back(entry);
  while (index > 0) {
    const std::size_t parent = (index - 1) / kArity;
    if (!earlier(entry, heap_[parent])) break;
    heap_[index] = heap_[parent];
    index = parent;
  }
  heap_[index] = entry;
}

void Simulator::sift_down(std::size_t index) {
  const std::size_t size = heap_.size();
  const HeapEntry entry = heap_[index];
  while (true) {
    const std::size_t first = index * kArity + 1;
    if (first >= size) break;
    std::size_t best = first;
    const std::size_t last = std::min(first + kArity, size);
    for (std::size_t child = first + 1; child < last; ++child)
      if (earlier(heap_[child], heap_[best])) best = child;
    if (!earlier(heap_[best], entry)) break;
    heap_[index] = heap_[best];
    index = best;
  }
  heap_[index] = entry;
}

void Simulator::pop_top() {
  heap_.front() = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) sift_down(0);
}

bool Simulator::dispatch_next(Time limit) {
  if (top_is_done_) {  // nothing replaced it: the last callback scheduled nothing
    top_is_done_ = false;
    pop_top();
  }
  while (!heap_.empty()) {
    const HeapEntry top = heap_.front();
    if (!is_live(top.key)) {  // cancelled (skipped lazily), or a lane's first event
      const StaleTop outcome = dispatch_stale_top(limit);
      if (outcome == StaleTop::Skipped) continue;
      return outcome == StaleTop::Ran;
    }
    if (top.time > limit.ns()) return false;
    top_is_done_ = true;  // popped before the next event, unless an event replaces it first
    run_event(top);
    return true;
  }
  return false;
}

Simulator::StaleTop Simulator::dispatch_stale_top(Time limit) {
  const HeapEntry top = heap_.front();
  const std::uint64_t mark = slots_[top.key & kSlotMask].sequence;
  if ((mark & kLaneSlot) == 0) {  // a cancelled event
    pop_top();
    return StaleTop::Skipped;
  }
  Lane& lane = lanes_[mark & ~kLaneSlot];
  if (!lane.in_heap || top.key >> kSlotBits != lane.heap_sequence) {
    pop_top();  // a cancelled event's entry, whose slot a lane has taken since
    return StaleTop::Skipped;
  }
  // Its first event, unless cancelled: then the first live one behind it takes the top's place.
  drop_cancelled_front(lane);
  if (lane.events.empty()) {
    lane.in_heap = false;
    pop_top();
    return StaleTop::Skipped;
  }
  const HeapEntry first = lane.events.front();
  if (first.key >> kSlotBits != lane.heap_sequence) {
    heap_.front() = lane_entry(lane, first);
    sift_down(0);
    return StaleTop::Skipped;
  }
  if (first.time > limit.ns()) return StaleTop::BeyondLimit;
  lane.events.pop_front();
  --lane_events_;
  drop_cancelled_front(lane);
  if (lane.events.empty()) {
    // Stale like any dispatched event's entry (its slot is freed below): replaced or popped.
    lane.in_heap = false;
    heap_.front().key = first.key;
    top_is_done_ = true;
  } else {
    heap_.front() = lane_entry(lane, lane.events.front());
    sift_down(0);
  }
  run_event(first);
  return StaleTop::Ran;
}

[[gnu::always_inline]] inline void Simulator::run_event(HeapEntry event) {
  const auto slot = static_cast<std::uint32_t>(event.key & kSlotMask);
  // Free the slot before running, so the callback may reuse it and cancel(own id) is a no-op.
  Callback callback = slots_[slot].callback;
  slots_[slot].sequence = 0;
  free_slots_.push_back(slot);
  --live_;
  now_ = Time::from_ns(event.time);
  ++processed_;
  fingerprint_ = (fingerprint_ ^ static_cast<std::uint64_t>(event.time)) * 0x100000001b3ull;
  fingerprint_ = (fingerprint_ ^ (event.key >> kSlotBits)) * 0x100000001b3ull;
  callback();
}

std::uint64_t Simulator::run() {
  const std::uint64_t before = processed_;
  stopped_ = false;
  while (!stopped_ && dispatch_next(Time::max())) {
  }
  return processed_ - before;
}

std::uint64_t Simulator::run_until(Time limit) {
  DSIM_ASSERT(limit >= now_, "run_until a time in the past");
  const std::uint64_t before = processed_;
  stopped_ = false;
  while (!stopped_ && dispatch_next(limit)) {
  }
  if (!stopped_) now_ = limit;
  return processed_ - before;
}

std::uint64_t Simulator::run_until(Time limit, std::uint64_t max_events) {
  DSIM_ASSERT(limit >= now_, "run_until a time in the past");
  const std::uint64_t before = processed_;
  stopped_ = false;
  bool drained = false;
  while (!stopped_ && processed_ - before < max_events) {
    if (!dispatch_next(limit)) {
      drained = true;
      break;
    }
  }
  if (drained) now_ = limit;
  return processed_ - before;
}

}  // namespace sim
