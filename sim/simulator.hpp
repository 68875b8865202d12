// The discrete-event kernel: a clock of true time and a queue of scheduled callbacks.
//
// Contract:
// - Events run in order of (time, insertion sequence): two events at the same time run in the
//   order they were scheduled, always (FIFO ties, as ns-3's (timestamp, uid) key).
// - An event may schedule and cancel others, including ones at the current time (they run
//   after every event already scheduled for that time).
// - cancel() is O(1): the slot is freed at once and its heap entry is skipped when reached
//   (lazy deletion); stale entries are compacted away when they outnumber live ones.
// - A dispatched event's heap entry stays at the top until the next event is dispatched: the
//   first event its callback schedules replaces it there (one sift-down instead of a pop and a
//   push), as a follow-up usually is. Order is (time, sequence) however the heap is laid out.
// - Timeouts (schedule_timeout) wait in lanes, out of the heap. A lane is a FIFO of timeouts
//   in (time, sequence) order, and only its first event is in the heap: a timeout that is
//   cancelled, as most are (the answer came first), is never pushed into or popped from the
//   heap; its lane drops it on reaching it. A timeout joins the lane whose last time is the
//   latest at or before its own (patience sorting), so one lane holds every timeout of a
//   constant delay, and a few hold deadlines that arrive almost in order. A timeout earlier
//   than every lane's last opens a lane, up to kMaxLanes; beyond, it is an ordinary event.
//   Either way, events run in the same order. Lanes are compacted as the heap is.
// - Steady state allocates nothing: heap, slots and lanes grow to the peak number of pending
//   events and are reused from then on (reserve() sets that peak ahead of time).
// - Every dispatched event is folded into a 64-bit fingerprint of (time, sequence): two runs
//   that dispatched the same events in the same order have equal fingerprints.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "sim/callback.hpp"
#include "sim/ring_buffer.hpp"
#include "sim/rng.hpp"
#include "sim/time.hpp"

namespace sim {

/// Names one scheduled event, to cancel it. Stays valid (and harmless) after the event ran
/// or was cancelled: cancelling it again is a no-op that returns false.
struct EventId {
  std::uint32_t slot = std::numeric_limits<std::uint32_t>::max();
  std::uint64_t sequence = 0;  // 0: never scheduled
  bool valid() const { return sequence != 0; }
  friend bool operator==(const EventId&, const EventId&) = default;
};

class Simulator {
 public:
  /// Events pending at once, at most (2^26, the slot bits of a heap key); the loader refuses
  /// inputs that would need about as many (models' check()), the kernel asserts beyond.
  static constexpr std::size_t kMaxPendingEvents = std::size_t{1} << 26;
  /// Timeout lanes, at most (each holds a slot; choosing one is a binary search among them).
  static constexpr std::size_t kMaxLanes = 64;

  /// `seed` is the run's root seed: every random stream derives from it (see rng.hpp).
  explicit Simulator(std::uint64_t seed = 1);
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  Time now() const { return now_; }
  std::uint64_t seed() const { return seed_; }

  /// The random stream named `name` under this run's seed.
  Rng rng(std::string_view name) const { return Rng::stream(seed_, name); }

  /// Runs `callback` at `at` (>= now()).
  EventId schedule_at(Time at, Callback callback);
  /// Runs `callback` after `delay` (>= 0).
  EventId schedule_after(Duration delay, Callback callback) {
    return schedule_at(now_ + delay, callback);
  }

  /// As schedule_after, for an event that is usually cancelled before it runs (a try's
  /// timeout): it waits in a lane, out of the heap.
  EventId schedule_timeout(Duration delay, Callback callback);

  /// Cancels a pending event. Returns true if it was pending (and will now never run).
  bool cancel(EventId id);
  bool is_pending(EventId id) const;

  /// Runs until no event is pending or stop() is called. Returns events processed by this call.
  std::uint64_t run();
  /// Runs every event with time <= `limit`, then sets now() to `limit` (unless stopped early).
  std::uint64_t run_until(Time limit);
  /// As run_until(limit), but returns after at most `max_events` events: now() reaches `limit`
  /// only when no event up to it is left. Slices of one run_until(limit) run the same events in
  /// the same order (the caller may look at the clock or a budget in between).
  std::uint64_t run_until(Time limit, std::uint64_t max_events);
  /// Runs while `keep_going()` holds, checked before each event.
  template <class Predicate>
  std::uint64_t run_while(Predicate keep_going) {
    const std::uint64_t before = processed_;
    stopped_ = false;
    while (!stopped_ && keep_going() && dispatch_next(Time::max())) {
    }
    return processed_ - before;
  }
  /// From inside an event: return from run*() once the current event finishes.
  void stop() { stopped_ = true; }

  std::uint64_t events_processed() const { return processed_; }
  std::uint64_t fingerprint() const { return fingerprint_; }
  std::size_t pending_events() const { return live_; }
  /// Pre-sizes for `events` simultaneously pending events, so that even the first growth
  /// does not allocate inside the run.
  void reserve(std::size_t events);
  /// Bytes held by the queue's storage (heap entries, callback slots and lanes).
  std::size_t memory_bytes() const;

 private:
  struct HeapEntry {
    std::int64_t time;
    // sequence << kSlotBits | slot: orders equal times by sequence. The slot may be a lane's:
    // the entry then stands for that lane's first event, whose sequence it has.
    std::uint64_t key;
  };
  struct Lane {
    std::uint32_t slot;                // its own, named by its entry in the heap
    bool in_heap = false;              // its first event's entry is in the heap ...
    std::uint64_t heap_sequence = 0;   // ... with this sequence
    RingBuffer<HeapEntry> events{16};  // (time, sequence << kSlotBits | slot), cancelled too
  };
  struct Slot {
    Callback callback;
    // Of the event occupying the slot; 0 when free; kLaneSlot | index in a lane's slot (no
    // event's sequence, so that its heap entry never looks live).
    std::uint64_t sequence = 0;
  };
  static constexpr int kSlotBits = 26;  // at most 67 million simultaneously pending events
  static_assert(kMaxPendingEvents == std::size_t{1} << kSlotBits);
  static constexpr std::uint64_t kSlotMask = (1ull << kSlotBits) - 1;
  static constexpr std::uint64_t kLaneSlot = 1ull << 63;
  static constexpr std::uint64_t kMaxSequence = (1ull << (64 - kSlotBits)) - 1;
  static constexpr std::size_t kArity = 4;  // a 4-ary heap: shallower, cache-friendlier

  static bool earlier(const HeapEntry& a, const HeapEntry& b) {
    return a.time < b.time || (a.time == b.time && a.key < b.key);
  }
  std::uint32_t take_free_slot();
  /// A free slot holding `callback` under a new sequence (not yet counted as live).
  EventId take_slot(Callback callback);
  bool is_live(std::uint64_t key) const {
    return slots_[key & kSlotMask].sequence == key >> kSlotBits;
  }
  /// The lane a timeout at `time` joins (see the contract); null if it needs a new lane and
  /// there are kMaxLanes.
  Lane* lane_for(std::int64_t time);
  /// The heap entry that stands for `lane` whose first event is `first`.
  static HeapEntry lane_entry(Lane& lane, HeapEntry first) {
    lane.heap_sequence = first.key >> kSlotBits;
    return {first.time, (first.key & ~kSlotMask) | lane.slot};
  }
  bool dispatch_next(Time limit);
  enum class StaleTop : std::uint8_t { Skipped, Ran, BeyondLimit };
  /// The heap's top is not live: a cancelled event's entry (popped: Skipped) or a lane's. A
  /// lane's first event runs if it is live and due by `limit`; if it was cancelled, the lane's
  /// next live event takes the top's place (Skipped: the caller looks at the new top).
  StaleTop dispatch_stale_top(Time limit);
  /// Runs `event`, already taken out of the heap or its lane: frees its slot, then calls it.
  void run_event(HeapEntry event);
  void push(HeapEntry entry);
  void pop_top();
  void sift_down(std::size_t index);
  void compact();
  void drop_cancelled_front(Lane& lane);
  /// Drops every cancelled event from the lanes.
  void compact_lanes();

  std::vector<HeapEntry> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<Lane> lanes_;
  std::vector<std::int64_t> lane_lasts_;   // each lane's last time, ascending ...
  std::vector<std::uint32_t> lane_order_;  // ... and its index in lanes_
  std::size_t lane_events_ = 0;            // in every lane, cancelled ones too
  Time now_ = Time::zero();
  std::uint64_t seed_;
  std::uint64_t next_sequence_ = 1;
  std::uint64_t processed_ = 0;
  std::uint64_t fingerprint_ = 0xcbf29ce484222325ull;
  std::size_t live_ = 0;
  bool stopped_ = false;
  bool top_is_done_ = false;  // heap_[0] is the event dispatched last: stale, to be replaced
};

}  // namespace sim
