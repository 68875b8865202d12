#include "models/services/codel_queue.hpp"

#include <cmath>

#include "sim/assert.hpp"

namespace models {

CodelQueue::CodelQueue(std::int64_t limit, sim::Duration target, sim::Duration interval)
    : limit_(limit), target_(target), interval_(interval), waiting_(initial_queue_capacity(limit)) {
  DSIM_ASSERT(target > sim::Duration::zero() && interval > sim::Duration::zero(),
              "CoDel needs a positive target and interval");
}

bool CodelQueue::admit(const QueuedRequest& request, sim::Time /*now*/) {
  if (queue_full(limit_, waiting_.size())) return false;
  waiting_.push_back(request);
  return true;
}

sim::Time CodelQueue::control_law(sim::Time t, std::uint32_t count) const {
  DSIM_ASSERT(count >= 1, "the control law counts drops from 1");
  return t + sim::duration_from_ns(static_cast<double>(interval_.ns()) /
                                   std::sqrt(static_cast<double>(count)));
}

CodelQueue::Taken CodelQueue::take(sim::Time now) {
  Taken taken{waiting_.pop_front()};
  const sim::Duration sojourn = now - taken.request.arrived;
  if (sojourn < target_ || waiting_.empty()) {
    above_ = false;  // below target, or no standing queue: the clock resets
  } else if (!above_) {
    above_ = true;
    first_above_ = now + interval_;
  } else if (now >= first_above_) {
    taken.ok_to_drop = true;
  }
  return taken;
}

std::optional<Dequeued> CodelQueue::next(sim::Time now) {
  const Turn turn = turn_;
  turn_ = Turn::Fresh;
  if (waiting_.empty()) {
    above_ = false;  // RFC 8289: an empty queue resets the clock and ends the dropping state
    dropping_ = false;
    return std::nullopt;
  }
  const Taken taken = take(now);
  if (turn == Turn::AfterEntry) return Dequeued{taken.request, Verdict::Serve};
  if (dropping_) {
    if (!taken.ok_to_drop) {
      dropping_ = false;
      return Dequeued{taken.request, Verdict::Serve};
    }
    if (turn == Turn::AfterLoopDrop) drop_next_ = control_law(drop_next_, count_);
    if (now < drop_next_) return Dequeued{taken.request, Verdict::Serve};
    ++count_;
    turn_ = Turn::AfterLoopDrop;
    return Dequeued{taken.request, Verdict::Shed};
  }
  if (!taken.ok_to_drop) return Dequeued{taken.request, Verdict::Serve};
  dropping_ = true;
  // If the delay went back above target soon after the last episode, its drop rate is a good
  // starting point (RFC 8289, section 5.5).
  const std::uint32_t delta = count_ - lastcount_;
  count_ = delta > 1 && now - drop_next_ < interval_ * 16 ? delta : 1;
  drop_next_ = control_law(now, count_);
  lastcount_ = count_;
  turn_ = Turn::AfterEntry;
  return Dequeued{taken.request, Verdict::Shed};
}

std::size_t CodelQueue::clear() {
  const std::size_t lost = waiting_.size();
  waiting_.clear();
  above_ = dropping_ = false;
  turn_ = Turn::Fresh;
  count_ = lastcount_ = 0;
  drop_next_ = sim::Time::zero();
  return lost;
}

}  // namespace models
