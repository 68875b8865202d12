// CoDel ("Controlled Delay", Nichols & Jacobson, ACM Queue 10(5), 2012; RFC 8289) on a server's
// request queue: FIFO order, and shedding at dequeue when the queueing delay has stood above
// `target` for at least `interval`.
//
// The algorithm, as in RFC 8289's pseudocode, with requests for packets:
// - At each dequeue, the request's sojourn (now - arrival) is compared with `target`. Below it,
//   or if the queue is empty once the request has left (RFC 8289's "bytes() <= MAXPACKET": no
//   standing queue), the clock resets. Above it, the first time, a clock starts: if the sojourn
//   is still above target at a dequeue `interval` later (the minimum sojourn over the interval
//   stayed above target), the request is "ok to drop".
// - Not yet dropping and ok to drop: the request is shed, CoDel enters the dropping state with
//   count = 1 (or the count of the last dropping episode, if it ended less than 16 intervals ago
//   and dropped more than one), and schedules the next drop at now + interval / sqrt(count).
// - Dropping: a dequeue whose request is not ok to drop leaves the dropping state. Otherwise,
//   while now >= drop_next, the request is shed, ++count and drop_next += interval / sqrt(count)
//   (the control law: drops come closer together as sqrt(count) grows until the delay falls).
// Shed requests come out of `next` with the verdict Shed (the server answers them Rejected:
// "I shed this, try elsewhere or later", which a client can tell from a timeout at once).
// The drop spacing is computed with an exact square root (the Linux code uses Newton steps).
// A full queue (`limit`) refuses the arriving request, as FIFO does.
#pragma once

#include <cstdint>

#include "models/services/queue_discipline.hpp"
#include "sim/ring_buffer.hpp"

namespace models {

class CodelQueue final : public QueueDiscipline {
 public:
  /// `limit` < 0: unbounded; 0: no waiting room. `target`, `interval` > 0.
  CodelQueue(std::int64_t limit, sim::Duration target, sim::Duration interval);

  bool admit(const QueuedRequest& request, sim::Time now) override;
  std::optional<Dequeued> next(sim::Time now) override;
  std::size_t size() const override { return waiting_.size(); }
  std::size_t clear() override;
  std::optional<QueuedRequest> cancel(sim::NodeId from, std::uint64_t call_id) override {
    return waiting_.remove_first(SameCall{from, call_id});
  }

  bool dropping() const { return dropping_; }
  std::uint32_t count() const { return count_; }
  /// When the next drop falls due (meaningful while dropping()).
  sim::Time drop_next() const { return drop_next_; }

  /// The control law: the time of the drop after one at `t`, the count-th of an episode.
  sim::Time control_law(sim::Time t, std::uint32_t count) const;

 private:
  struct Taken {
    QueuedRequest request;
    bool ok_to_drop = false;
  };
  /// RFC 8289's dodequeue: takes the oldest request and says whether it may be dropped.
  Taken take(sim::Time now);

  std::int64_t limit_;
  sim::Duration target_, interval_;
  sim::RingBuffer<QueuedRequest> waiting_;
  bool above_ = false;     // the sojourn has been above target since first_above_ - interval
  sim::Time first_above_;  // when a dequeue above target may drop (meaningful if above_)
  /// RFC 8289's dequeue loops at one instant (take, shed, take again, ...); here each turn is
  /// one call of next(), and this says which turn of which loop the next call continues.
  enum class Turn : std::uint8_t {
    Fresh,          // a new dequeue
    AfterEntry,     // just shed on entering the dropping state: serve the next request
    AfterLoopDrop,  // just shed in the dropping loop: update drop_next if the next may drop
  };
  bool dropping_ = false;  // in the dropping state
  Turn turn_ = Turn::Fresh;
  std::uint32_t count_ = 0;  // drops in the current (or last) dropping episode
  std::uint32_t lastcount_ = 0;
  sim::Time drop_next_;
};

}  // namespace models
