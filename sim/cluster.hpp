// The cluster: nodes, their processes, the network between them, and the message pool,
// on top of one Simulator. It turns the Network's per-hop decisions into events and enforces
// the node lifecycle (see process.hpp for what a crash or a pause does to a model).
//
// Order of things, for a message sent at true time t:
//   send -> Network::transmit decides the hop (loss, latency, duplication) -> an event at the
//   hop's arrival -> Network::still_deliverable (a cut or partition in flight loses it) ->
//   the next hop, or delivery: dropped if the destination is crashed, held if it is paused,
//   else on_message. Messages live in a pool of fixed-size slots: no allocation per message.
//
// Machines: nodes put on one machine (colocate: a sidecar and its application) talk over
// loopback (network.hpp) and share their fate: a crash, restart, pause, resume or slowdown of
// any of them applies to every node of the machine, in id order. A sidecar does not survive its
// application, nor the application its sidecar.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/network.hpp"
#include "sim/node.hpp"
#include "sim/simulator.hpp"

namespace sim {

struct ClusterCounters {
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_delivered = 0;
  std::uint64_t timers_lost_to_crash = 0;
  std::uint64_t crashes = 0;
  std::uint64_t restarts = 0;
};

class Cluster {
 public:
  /// The network draws from streams under the simulator's seed.
  explicit Cluster(Simulator& sim);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  Simulator& sim() { return sim_; }
  Network& network() { return network_; }
  const Network& network() const { return network_; }

  /// Adds a node (up, clock in sync). Names must be unique. `zone` < 0: no zone.
  NodeId add_node(std::string name, int zone = -1);
  /// Gives a node its behaviour. Once per node, before start().
  void attach(NodeId node, std::unique_ptr<Process> process);
  Node& node(NodeId id) { return *nodes_[id]; }
  const Node& node(NodeId id) const { return *nodes_[id]; }
  std::size_t size() const { return nodes_.size(); }
  /// The node named `name`, in constant time once the name index is built: the first find
  /// indexes every node (and checks that names are unique), later ones the nodes added since.
  /// Built on demand, as a run that never looks nodes up by name (most) needs no index.
  std::optional<NodeId> find(std::string_view name) const;
  /// Puts `a` and `b` on one machine (Network::colocate): loopback between them, one fate.
  void colocate(NodeId a, NodeId b) { network_.colocate(a, b); }
  /// The nodes sharing `id`'s fate, `id` included, in id order.
  std::span<const NodeId> machine_of(NodeId id) const { return network_.machine_of(id); }

  /// Runs on_start of every node that has a process, at now(), in node order.
  void start();

  // ---- lifecycle faults (each applies to every node of the node's machine) ----
  /// Up or paused -> crashed: on_crash, pending timers and held events lost. No-op if crashed.
  void crash(NodeId id);
  /// Crashed -> up: on_start runs at once. No-op otherwise.
  void restart(NodeId id);
  /// Up -> paused: events for the node wait. No-op otherwise.
  void pause(NodeId id);
  /// Paused -> up: held events run now, in arrival order. No-op otherwise.
  void resume(NodeId id);
  /// Gray failure: the node works `factor` (>= 1) times slower; 1 restores it.
  void set_slowdown(NodeId id, double factor);

  const ClusterCounters& counters() const { return counters_; }
  /// Pre-sizes the message pool for `messages` simultaneously in flight.
  void reserve_messages(std::size_t messages);
  std::size_t messages_in_flight() const { return pool_.size() - free_slots_.size(); }

 private:
  friend class Node;
  struct Arrival;
  struct TimerFired;
  struct DrainDeferred;

  std::uint32_t acquire_slot();
  void release_slot(std::uint32_t slot);
  void forward(std::uint32_t slot, NodeId at);
  void schedule_arrival(std::uint32_t slot, const HopDecision& hop, Time at);
  void on_arrival(std::uint32_t slot, NodeId next, LinkId link, std::uint64_t cut_epoch);
  void deliver(std::uint32_t slot);
  void hand_over(Node& node, std::uint32_t slot);
  /// `timeout`: through Simulator::schedule_timeout (a lane) rather than schedule_after.
  EventId schedule_timer(Node& node, Duration true_delay, TimerTag tag, std::uint64_t serial,
                         bool timeout);
  void fire_timer(NodeId id, std::uint32_t incarnation, TimerTag tag, std::uint64_t serial);
  void drain_deferred(NodeId id);
  void crash_one(NodeId id);
  void restart_one(NodeId id);
  void pause_one(NodeId id);
  void resume_one(NodeId id);

  Simulator& sim_;
  Network network_;
  std::vector<std::unique_ptr<Node>> nodes_;
  // Name -> id, for lookup only (never iterated: its order must not decide anything). The keys
  // view the nodes' own names, which live as long as the nodes and never change.
  mutable std::unordered_map<std::string_view, NodeId> ids_by_name_;  // nodes_[0, indexed_)
  mutable std::size_t indexed_ = 0;
  std::vector<Message> pool_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<Time> hop_started_;  // per slot: when the current hop began (for cuts in flight)
  std::uint64_t next_message_id_ = 1;
  ClusterCounters counters_;
};

}  // namespace sim
