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
  return heap_.capacity() * sizeof(HeapEntry) + slots_.capacity() * sizeof(Slot) +
         free_slots_.capacity() * sizeof(std::uint32_t);
}

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

bool Simulator::is_pending(EventId id) const {
  return id.valid() && id.slot < slots_.size() && slots_[id.slot].sequence == id.sequence;
}

bool Simulator::cancel(EventId id) {
  if (!is_pending(id)) return false;
  slots_[id.slot].sequence = 0;
  free_slots_.push_back(id.slot);
  --live_;
  // Stale heap entries cost memory and pops; rebuild once they are the majority.
  if (heap_.size() > 4096 && heap_.size() > 2 * live_) compact();
  return true;
}

void Simulator::compact() {
  top_is_done_ = false;  // erased with the other stale entries
  std::erase_if(heap_, [this](const HeapEntry& e) {
    return slots_[e.key & kSlotMask].sequence != (e.key >> kSlotBits);
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
    const auto slot = static_cast<std::uint32_t>(top.key & kSlotMask);
    const std::uint64_t sequence = top.key >> kSlotBits;
    if (slots_[slot].sequence != sequence) {  // cancelled: skip lazily
      pop_top();
      continue;
    }
    if (top.time > limit.ns()) return false;
    top_is_done_ = true;  // popped before the next event, unless an event replaces it first
    // Free the slot before running, so the callback may reuse it and cancel(own id) is a no-op.
    Callback callback = slots_[slot].callback;
    slots_[slot].sequence = 0;
    free_slots_.push_back(slot);
    --live_;
    now_ = Time::from_ns(top.time);
    ++processed_;
    fingerprint_ = (fingerprint_ ^ static_cast<std::uint64_t>(top.time)) * 0x100000001b3ull;
    fingerprint_ = (fingerprint_ ^ sequence) * 0x100000001b3ull;
    callback();
    return true;
  }
  return false;
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
