#include "sim/cluster.hpp"

#include <utility>

#include <algorithm>
#include <limits>

#include "sim/assert.hpp"

namespace sim {

namespace {
// Node::Deferred::message_slot of a held message that has already been handed over.
constexpr std::uint32_t kConsumedSlot = std::numeric_limits<std::uint32_t>::max();
}  // namespace

// Events are small trivially copyable structs (see callback.hpp): no allocation per event.
struct Cluster::Arrival {
  Cluster* cluster;
  std::uint32_t slot;
  NodeId next;
  LinkId link;
  std::uint64_t cut_epoch;
  void operator()() const { cluster->on_arrival(slot, next, link, cut_epoch); }
};

struct Cluster::TimerFired {
  Cluster* cluster;
  NodeId node;
  std::uint32_t incarnation;
  TimerTag tag;
  std::uint64_t serial;
  void operator()() const { cluster->fire_timer(node, incarnation, tag, serial); }
};

struct Cluster::DrainDeferred {
  Cluster* cluster;
  NodeId node;
  void operator()() const { cluster->drain_deferred(node); }
};

Cluster::Cluster(Simulator& sim) : sim_(sim), network_(sim.seed()) {
  reserve_messages(1024);
}
Cluster::~Cluster() = default;

NodeId Cluster::add_node(std::string name, int zone) {
  const auto id = static_cast<NodeId>(nodes_.size());
  network_.add_node(id, std::move(name), zone);
  nodes_.push_back(std::make_unique<Node>(*this, id));
  return id;
}

void Cluster::attach(NodeId id, std::unique_ptr<Process> process) {
  DSIM_ASSERT(id < nodes_.size(), "attach to an unknown node");
  DSIM_ASSERT(nodes_[id]->process_ == nullptr, "a node runs one process");
  nodes_[id]->process_ = std::move(process);
}

std::optional<NodeId> Cluster::find(std::string_view name) const {
  for (; indexed_ < nodes_.size(); ++indexed_) {
    const std::string& indexed = nodes_[indexed_]->name();  // never moves: a stable key
    const bool unique = ids_by_name_.emplace(indexed, static_cast<NodeId>(indexed_)).second;
    DSIM_ASSERT(unique, "node names must be unique: " + indexed);
  }
  const auto it = ids_by_name_.find(name);
  if (it == ids_by_name_.end()) return std::nullopt;
  return it->second;
}

void Cluster::start() {
  for (auto& n : nodes_) {
    if (!n->process_) continue;
    if (n->is_up())
      n->process_->on_start(*n);
    else
      n->start_on_resume_ = n->state_ == NodeState::Paused;  // paused before the start
  }
}

void Cluster::reserve_messages(std::size_t messages) {
  const std::size_t old_size = pool_.size();
  if (messages <= old_size) return;
  pool_.resize(messages);
  hop_started_.resize(messages);
  free_slots_.reserve(messages);
  for (std::size_t slot = messages; slot-- > old_size;)
    free_slots_.push_back(static_cast<std::uint32_t>(slot));
}

std::uint32_t Cluster::acquire_slot() {
  if (free_slots_.empty()) reserve_messages(pool_.size() * 2);
  const std::uint32_t slot = free_slots_.back();
  free_slots_.pop_back();
  return slot;
}

void Cluster::release_slot(std::uint32_t slot) {
  free_slots_.push_back(slot);
}

void Cluster::forward(std::uint32_t slot, NodeId at) {
  const Message& m = pool_[slot];
  const HopDecision hop = network_.transmit(m.from, at, m.to, m.size_bytes, sim_.now());
  if (!hop.delivered) {
    release_slot(slot);
    return;  // the network counted the drop
  }
  hop_started_[slot] = sim_.now();
  if (hop.duplicate_arrival) {
    const std::uint32_t copy = acquire_slot();
    pool_[copy] = pool_[slot];  // pool_ may have grown: index again
    hop_started_[copy] = sim_.now();
    schedule_arrival(copy, hop, *hop.duplicate_arrival);
  }
  schedule_arrival(slot, hop, hop.arrival);
}

void Cluster::schedule_arrival(std::uint32_t slot, const HopDecision& hop, Time at) {
  sim_.schedule_at(at, Arrival{this, slot, hop.next, hop.link, hop.cut_epoch});
}

void Cluster::on_arrival(std::uint32_t slot, NodeId next, LinkId link, std::uint64_t cut_epoch) {
  const Message& m = pool_[slot];
  HopDecision hop;
  hop.delivered = true;
  hop.next = next;
  hop.link = link;
  hop.cut_epoch = cut_epoch;
  if (const auto loss = network_.in_flight_loss(hop, m.from, m.to, hop_started_[slot])) {
    network_.count_drop(*loss);
    release_slot(slot);
    return;
  }
  if (next != m.to) {
    if (nodes_[next]->state_ == NodeState::Crashed) {  // a router that is down forwards nothing
      network_.count_drop(DropReason::RouterCrashed);
      release_slot(slot);
      return;
    }
    forward(slot, next);
    return;
  }
  deliver(slot);
}

void Cluster::deliver(std::uint32_t slot) {
  Node& n = *nodes_[pool_[slot].to];
  switch (n.state_) {
    case NodeState::Crashed:
      network_.count_drop(DropReason::DestinationCrashed);
      release_slot(slot);
      return;
    case NodeState::Paused:
      n.deferred_.push_back({false, {}, 0, slot});
      return;
    case NodeState::Up:
      // Resumed, but the held events have not run yet: wait behind them (arrival order).
      if (!n.deferred_.empty()) {
        n.deferred_.push_back({false, {}, 0, slot});
        return;
      }
      hand_over(n, slot);
      return;
  }
}

void Cluster::hand_over(Node& n, std::uint32_t slot) {
  ++counters_.messages_delivered;
  // A copy: the handler may send, and a growing pool would move the slot under its feet.
  const Message message = pool_[slot];
  release_slot(slot);
  if (n.process_) n.process_->on_message(n, message);
}

EventId Cluster::schedule_timer(Node& n, Duration true_delay, TimerTag tag, std::uint64_t serial,
                                bool timeout) {
  const TimerFired fire{this, n.id(), n.incarnation_, tag, serial};
  return timeout ? sim_.schedule_timeout(true_delay, fire) : sim_.schedule_after(true_delay, fire);
}

void Cluster::fire_timer(NodeId id, std::uint32_t incarnation, TimerTag tag, std::uint64_t serial) {
  Node& n = *nodes_[id];
  if (n.incarnation_ != incarnation || n.state_ == NodeState::Crashed) {
    ++counters_.timers_lost_to_crash;
    return;
  }
  if (n.state_ == NodeState::Paused || !n.deferred_.empty()) {  // held, or behind the held
    n.deferred_.push_back({true, tag, serial, 0});
    return;
  }
  if (n.process_) n.process_->on_timer(n, tag);
}

void Cluster::drain_deferred(NodeId id) {
  Node& n = *nodes_[id];
  // Handlers may pause or crash the node again, or append; index-based and re-checked.
  // An entry is marked consumed before its handler runs: a consumed timer can no longer be
  // cancelled, and a crash inside a handler must not drop (or release) what already ran.
  std::size_t i = 0;
  for (; i < n.deferred_.size() && n.state_ == NodeState::Up; ++i) {
    const Node::Deferred d = n.deferred_[i];
    if (d.is_timer) {
      n.deferred_[i].timer_serial = 0;
      if (d.timer_serial != 0 && n.process_) n.process_->on_timer(n, d.tag);
    } else {
      n.deferred_[i].message_slot = kConsumedSlot;
      hand_over(n, d.message_slot);
    }
  }
  i = std::min(i, n.deferred_.size());  // a handler crashed the node: crash() emptied the queue
  n.deferred_.erase(n.deferred_.begin(), n.deferred_.begin() + static_cast<std::ptrdiff_t>(i));
}

void Cluster::crash(NodeId id) {
  for (const NodeId n : machine_of(id)) crash_one(n);
}
void Cluster::restart(NodeId id) {
  for (const NodeId n : machine_of(id)) restart_one(n);
}
void Cluster::pause(NodeId id) {
  for (const NodeId n : machine_of(id)) pause_one(n);
}
void Cluster::resume(NodeId id) {
  for (const NodeId n : machine_of(id)) resume_one(n);
}

void Cluster::crash_one(NodeId id) {
  Node& n = *nodes_[id];
  if (n.state_ == NodeState::Crashed) return;
  n.state_ = NodeState::Crashed;
  n.crashed_at_ = sim_.now();
  ++n.incarnation_;  // every pending timer of the old incarnation is now lost
  ++counters_.crashes;
  for (const auto& d : n.deferred_) {  // consumed entries ran already; cancelled timers are gone
    if (!d.is_timer && d.message_slot != kConsumedSlot) {
      network_.count_drop(DropReason::DestinationCrashed);
      release_slot(d.message_slot);
    } else if (d.is_timer && d.timer_serial != 0) {
      ++counters_.timers_lost_to_crash;
    }
  }
  n.deferred_.clear();
  if (n.process_) n.process_->on_crash(n);
}

void Cluster::restart_one(NodeId id) {
  Node& n = *nodes_[id];
  if (n.state_ != NodeState::Crashed) return;
  n.state_ = NodeState::Up;
  n.crashed_before_ += sim_.now() - n.crashed_at_;
  ++counters_.restarts;
  if (n.process_) n.process_->on_start(n);
}

void Cluster::pause_one(NodeId id) {
  Node& n = *nodes_[id];
  if (n.state_ != NodeState::Up) return;
  n.state_ = NodeState::Paused;
  n.deferred_.reserve(64);  // held events; a fault may allocate, the steady state does not
}

void Cluster::resume_one(NodeId id) {
  Node& n = *nodes_[id];
  if (n.state_ != NodeState::Paused) return;
  n.state_ = NodeState::Up;
  if (std::exchange(n.start_on_resume_, false) && n.process_) n.process_->on_start(n);
  if (!n.deferred_.empty()) sim_.schedule_after(Duration::zero(), DrainDeferred{this, id});
}

void Cluster::set_slowdown(NodeId id, double factor) {
  DSIM_ASSERT(factor >= 1.0, "a slowdown factor is >= 1");
  for (const NodeId n : machine_of(id)) nodes_[n]->slowdown_ = factor;
}

}  // namespace sim
