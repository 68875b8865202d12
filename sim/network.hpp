// The network's physics: topology, per-link behaviour, routing, cuts and partitions.
//
// Network decides, for a message leaving a node, where it goes next, when it arrives there and
// whether it survives. It schedules nothing itself: the Cluster turns each decision into an
// event and asks again at every hop. Three ways two nodes are connected, in this order:
//   1. explicit links (a Boost.Graph graph): if both nodes have links, the message follows the
//      latency-weighted shortest path (Dijkstra over links not cut; recomputed after every
//      cut, heal or degradation), one hop at a time;
//   2. zones (racks, regions): if both nodes are in zones, one hop with the zone pair's LinkSpec
//      from the latency matrix, so 10,000 nodes need no 10^8 links;
//   3. otherwise the default LinkSpec, one hop.
// Bandwidth and FIFO state is kept per directed explicit link; zone and default paths are
// stateless (latency, loss and duplication only).
//
// Partitions split nodes into groups: symmetric (no group reaches another) or one-way (the
// first group cannot send to the others, the others can still send to it). A link cut
// removes one directed link (or both directions). Messages in flight on a link that is cut, or
// between nodes that a partition separates, are lost when they arrive (`still_deliverable`).
//
// Machines (co-location): nodes put on one machine with colocate() (a sidecar and its
// application, containers of one pod) talk over the machine's loopback: a message between two
// of them takes one hop with no delay, no loss and no duplication, draws nothing, and no link
// cut or partition affects it. A partition separates machines, not nodes: a partition that
// names a node puts the peers on its machine that it does not name into the same group (two
// nodes of one machine named in different groups keep their groups, and are still never
// separated from each other). A node degradation (degrade_node) applies to every node of its
// machine: they share its network interface. Each node keeps its own links, zone and stream for
// traffic that leaves the machine. The Cluster adds the shared fate (cluster.hpp).
//
// Randomness: each directed explicit link draws from stream "link:<from>-><to>"; zone and
// default hops from stream "net:<sender name>". Adding a node or a link does not change the
// draws of the others.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sim/ids.hpp"
#include "sim/link_spec.hpp"
#include "sim/rng.hpp"
#include "sim/time.hpp"

namespace sim {

/// Why a message did not arrive. Counted per reason in NetworkCounters.
enum class DropReason : std::uint8_t {
  Lost,
  LinkCut,
  Partitioned,
  NoRoute,
  DestinationCrashed,
  RouterCrashed,  // an intermediate node of a multi-hop route was down
  kCount
};
const char* to_string(DropReason reason);

using PartitionId = std::uint32_t;

/// The network's decision for one hop of one message.
struct HopDecision {
  bool delivered = false;  // false: dropped for `drop_reason`
  DropReason drop_reason = DropReason::Lost;
  NodeId next = kNoNode;                  // the node at the end of this hop
  LinkId link = kNoLink;                  // kNoLink for zone/default hops
  Time arrival;                           // when it reaches `next`
  std::optional<Time> duplicate_arrival;  // a second copy, if duplicated
  std::uint64_t cut_epoch = 0;            // pass back to still_deliverable on arrival
};

struct NetworkCounters {
  std::uint64_t hops = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t dropped[static_cast<int>(DropReason::kCount)] = {};
};

class Network {
 public:
  explicit Network(std::uint64_t root_seed);
  ~Network();
  Network(Network&&) noexcept;
  Network& operator=(Network&&) noexcept;

  // ---- topology (set up before the run; nodes and links may also be added later) ----
  /// Registers node `id` (ids must be added in order 0, 1, 2, ...). `zone` < 0: no zone.
  void add_node(NodeId id, std::string name, int zone = -1);
  /// The name a node was added with: the one copy of it (Node::name), never moved.
  const std::string& node_name(NodeId id) const;
  /// A link a->b, and b->a too when `bidirectional`. Returns the id of a->b (b->a is id+1).
  LinkId add_link(NodeId a, NodeId b, LinkSpec spec, bool bidirectional = true);
  void set_default_link(LinkSpec spec);
  /// Zone names and the zone-to-zone LinkSpec matrix (matrix[i][j]: from zone i to zone j).
  void set_zones(std::vector<std::string> names, std::vector<std::vector<LinkSpec>> matrix);
  int zone_of(NodeId node) const;
  std::size_t node_count() const;
  std::size_t link_count() const;
  /// The directed link from a to b, if there is one.
  std::optional<LinkId> find_link(NodeId a, NodeId b) const;
  /// The (from, to) nodes of a directed link.
  std::pair<NodeId, NodeId> link_ends(LinkId link) const;
  /// The link in the opposite direction (kNoLink if the link is one-way).
  LinkId reverse_link(LinkId link) const;

  // ---- machines (co-location; set up before the run) ----
  /// Puts `a` and `b`, and every node already on either one's machine, on one machine.
  void colocate(NodeId a, NodeId b);
  /// Whether `a` and `b` are one node or on one machine.
  bool same_machine(NodeId a, NodeId b) const;
  /// The nodes on `node`'s machine, `node` included, in id order (just `node` when alone).
  /// Valid until the next add_node or colocate.
  std::span<const NodeId> machine_of(NodeId node) const;

  // ---- faults ----
  void cut_link(LinkId link);
  void heal_link(LinkId link);
  bool is_cut(LinkId link) const;
  /// Splits nodes into groups (nodes in no group are unaffected). Returns an id for heal().
  PartitionId partition(std::vector<std::vector<NodeId>> groups, bool one_way, Time now);
  void heal_partition(PartitionId id, Time now);
  /// Multiplies latency by `latency_factor` and adds `extra_loss` on a link (kNoLink: on every
  /// path, zone and default ones included). Factors and losses of overlapping degradations
  /// combine: factors multiply, survival probabilities multiply. Returns an id for restore().
  std::uint32_t degrade_link(LinkId link, double latency_factor, double extra_loss);
  /// The same for every message sent or received by `node`.
  std::uint32_t degrade_node(NodeId node, double latency_factor, double extra_loss);
  void restore(std::uint32_t degradation_id);

  // ---- queries ----
  /// Whether a message sent now from a could reach b: a route over links not cut (Boost.Graph
  /// breadth-first search) and no active partition separating them.
  bool can_reach(NodeId a, NodeId b) const;
  /// The nodes a message from a to b visits now, a and b included; empty if unreachable.
  std::vector<NodeId> route(NodeId a, NodeId b) const;

  // ---- transmission ----
  /// Decides the next hop of a message of `size_bytes` now at `at`, headed for `destination`,
  /// sent originally by `origin` (partitions apply between origin and destination).
  HopDecision transmit(NodeId origin, NodeId at, NodeId destination, std::uint32_t size_bytes,
                       Time now);
  /// On arrival: false if the hop's link was cut, or a partition separating origin and
  /// destination began, since the hop started (the message is then lost in flight).
  bool still_deliverable(const HopDecision& hop, NodeId origin, NodeId destination,
                         Time sent_at) const;
  /// The same check, saying why: LinkCut or Partitioned (for count_drop), nullopt if deliverable.
  std::optional<DropReason> in_flight_loss(const HopDecision& hop, NodeId origin,
                                           NodeId destination, Time sent_at) const;

  const NetworkCounters& counters() const;
  void count_drop(DropReason reason);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sim
