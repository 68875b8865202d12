// The network: topology (Boost.Graph), per-hop decisions, routing caches, cuts, partitions and
// degradations. See network.hpp for the contract; the notes here are about how.
//
// Draw order (fixed; the pinned-draw and common-random-numbers tests depend on it). For every
// hop that gets past the route, cut and partition checks, from the hop's stream:
//   1. loss:       one uniform, always (rng.bernoulli(effective loss)); if lost, stop here;
//   2. latency:    the latency distribution's draw for the message;
//   3. duplicate:  one uniform, always (rng.bernoulli(duplicate));
//   4. the copy's latency, only if duplicated.
// Route, cut and partition drops draw nothing. Loopback (at == destination, or both on one
// machine) draws nothing.
//
// Bandwidth: a message that is lost on a link was still serialized onto it (it occupies the link
// like any other); a duplicate copy does not occupy the link a second time. FIFO applies to the
// copy as well: it never overtakes a message sent before it, nor the original.
//
// Degradations: for a link hop a->b the latency factor is global x link x node(a) x node(b), and
// the survival probability (1 - loss) is the product of the link's own and each degradation's
// (1 - extra_loss) over the same four scopes. Zone and default hops take global x node(sender) x
// node(destination). Routing weights use the same factor.
//
// In-flight losses: every cut and every partition start takes the next number of one fault
// sequence; a hop records the sequence number current when it was decided (HopDecision::cut_epoch).
// On arrival, a link whose latest cut has a larger number, or a partition that started with a
// larger number and separates origin and destination, loses the message. This orders faults and
// sends exactly even when they happen at the same simulated instant.
#include "sim/network.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <utility>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <boost/graph/filtered_graph.hpp>
#include <boost/property_map/property_map.hpp>

#include "sim/assert.hpp"

namespace sim {

const char* to_string(DropReason reason) {
  switch (reason) {
    case DropReason::Lost:
      return "lost";
    case DropReason::LinkCut:
      return "link_cut";
    case DropReason::Partitioned:
      return "partitioned";
    case DropReason::NoRoute:
      return "no_route";
    case DropReason::DestinationCrashed:
      return "destination_crashed";
    case DropReason::RouterCrashed:
      return "router_crashed";
    case DropReason::kCount:
      break;
  }
  return "unknown";
}

namespace {

struct EdgeProps {
  LinkId id = kNoLink;
  double weight = 0;  // routing weight in ns, refreshed when the route epoch changes
};

// vecS everywhere: vertex i is node i and out-edges keep insertion order, so Dijkstra's tie
// breaking (and with it every route) is a function of the order the topology was built in.
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                                    EdgeProps>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
using Edge = boost::graph_traits<Graph>::edge_descriptor;

// A routing weight must be finite and non-negative (Dijkstra); heavy-tailed distributions
// without a mean are weighted by their median, or failing that by a large constant.
double routing_latency_ns(const Distribution& latency) {
  double m = latency.mean();
  if (!std::isfinite(m)) {
    const std::optional<double> median = latency.quantile(0.5);
    m = median && std::isfinite(*median) ? *median : 1e15;
  }
  return std::max(0.0, m);
}

void check_spec(const LinkSpec& spec, const char* what) {
  DSIM_ASSERT(spec.loss >= 0 && spec.loss <= 1, std::string(what) + ": loss must be in [0, 1]");
  DSIM_ASSERT(spec.duplicate >= 0 && spec.duplicate <= 1,
              std::string(what) + ": duplicate must be in [0, 1]");
  DSIM_ASSERT(spec.bandwidth_bps >= 0 && std::isfinite(spec.bandwidth_bps),
              std::string(what) + ": bandwidth must be >= 0 and finite");
}

}  // namespace

struct Network::Impl {
  static constexpr std::uint32_t kAlone = std::numeric_limits<std::uint32_t>::max();

  struct NodeState {
    NodeId id = kNoNode;             // its own id, so that machine_of() can view a lone node
    std::uint32_t machine = kAlone;  // index into `machines`; kAlone: on a machine of its own
    int zone = -1;
    std::uint32_t link_degree = 0;  // directed links into or out of this node
    Rng rng;                        // "net:<name>", for zone and default hops it sends
    double latency_factor = 1;      // combined degrade_node factors
    double survival = 1;            // combined degrade_node (1 - extra_loss)
  };

  struct LinkState {
    NodeId from = kNoNode;
    NodeId to = kNoNode;
    LinkSpec spec;
    double routing_latency_ns = 0;
    Rng rng;  // "link:<from>-><to>"
    bool cut = false;
    std::uint64_t last_cut_seq = 0;  // fault sequence number of the latest cut, 0: never cut
    Time busy_until;                 // bandwidth: the link serializes until then
    Time last_arrival;               // FIFO: the latest arrival handed out on this link
    double latency_factor = 1;       // combined degrade_link factors
    double survival = 1;
  };

  enum class Scope : std::uint8_t { Global, Link, Node };
  struct Degradation {
    Scope scope;
    std::uint32_t target;
    double latency_factor;
    double extra_loss;
    bool active;
  };

  struct PartitionRecord {
    std::vector<std::int32_t> group_of;  // per node known at the start; -1: in no group
    bool one_way = false;
    Time start;
    Time end = Time::max();  // Time::max() while active
    std::uint64_t start_seq = 0;
    bool active = true;

    std::int32_t group(NodeId node) const { return node < group_of.size() ? group_of[node] : -1; }
    bool separates(NodeId from, NodeId to) const {
      const std::int32_t gf = group(from);
      const std::int32_t gt = group(to);
      if (gf < 0 || gt < 0 || gf == gt) return false;
      return one_way ? gf == 0 : true;
    }
  };

  // Keeps Dijkstra on links that are not cut.
  struct UncutLinks {
    const Graph* graph = nullptr;
    const std::vector<LinkState>* links = nullptr;
    bool operator()(const Edge& e) const { return !(*links)[(*graph)[e].id].cut; }
  };

  // Records the link each vertex was last reached by, and the order vertices are finished in
  // (non-decreasing distance: a vertex's predecessor always finishes before it).
  struct RouteRecorder : boost::default_dijkstra_visitor {
    std::vector<LinkId>* pred_link = nullptr;
    std::vector<Vertex>* finished = nullptr;
    template <class G>
    void edge_relaxed(const Edge& e, const G& g) const {
      (*pred_link)[boost::target(e, g)] = g[e].id;
    }
    template <class G>
    void finish_vertex(Vertex v, const G&) const {
      finished->push_back(v);
    }
  };

  explicit Impl(std::uint64_t seed) : root_seed(seed) {}

  std::uint64_t root_seed;
  std::vector<NodeState> nodes;
  std::deque<std::string> names;  // by node id; a deque, so that a name never moves
  std::vector<LinkState> links;
  Graph graph;
  LinkSpec default_link;
  std::vector<std::string> zone_names;
  std::vector<std::vector<LinkSpec>> zone_matrix;

  std::vector<Degradation> degradations;
  double global_latency_factor = 1;
  double global_survival = 1;

  std::vector<std::vector<NodeId>> machines;  // nodes of each shared machine, in id order

  std::vector<PartitionRecord> partitions;
  std::vector<PartitionId> active_partitions;  // in creation order
  std::uint64_t fault_seq = 1;                 // hops decided before any fault carry 1

  // Routing caches: next_link[s][d] is the first link on the path s -> d (kNoLink: none), valid
  // while table_epoch[s] == route_epoch. Rebuilt lazily, one source at a time, and only for
  // sources with more than one link out (next_hop).
  std::uint64_t route_epoch = 1;
  std::uint64_t weights_epoch = 0;
  std::vector<std::vector<LinkId>> next_link;
  std::vector<std::uint64_t> table_epoch;
  std::vector<LinkId> scratch_pred;
  std::vector<double> scratch_dist;
  std::vector<Vertex> scratch_finished;

  NetworkCounters counters;

  void check_node(NodeId node, const char* what) const {
    DSIM_ASSERT(node < nodes.size(), std::string(what) + ": unknown node " + std::to_string(node));
  }
  void check_link(LinkId link, const char* what) const {
    DSIM_ASSERT(link < links.size(), std::string(what) + ": unknown link " + std::to_string(link));
  }

  void invalidate_routes() { ++route_epoch; }

  void refresh_weights() {
    if (weights_epoch == route_epoch) return;
    auto [it, end] = boost::edges(graph);
    for (; it != end; ++it) {
      EdgeProps& props = graph[*it];
      const LinkState& link = links[props.id];
      // One extra nanosecond per hop: among equally fast paths, the one with fewer hops wins.
      props.weight = link.routing_latency_ns * hop_latency_factor(link) + 1.0;
    }
    weights_epoch = route_epoch;
  }

  void build_routes(NodeId source) {
    refresh_weights();
    const std::size_t n = nodes.size();
    std::vector<LinkId>& table = next_link[source];
    table.assign(n, kNoLink);
    scratch_pred.assign(n, kNoLink);
    scratch_dist.assign(n, std::numeric_limits<double>::max());
    scratch_finished.clear();
    scratch_finished.reserve(n);

    const boost::filtered_graph<Graph, UncutLinks> uncut(graph, UncutLinks{&graph, &links});
    RouteRecorder recorder;
    recorder.pred_link = &scratch_pred;
    recorder.finished = &scratch_finished;
    const auto index = boost::get(boost::vertex_index, graph);
    boost::dijkstra_shortest_paths(
        uncut, static_cast<Vertex>(source),
        boost::weight_map(boost::get(&EdgeProps::weight, graph))
            .distance_map(boost::make_iterator_property_map(scratch_dist.begin(), index))
            .visitor(recorder));

    for (const Vertex v : scratch_finished) {
      if (v == source) continue;
      const LinkId via = scratch_pred[v];
      const NodeId prev = links[via].from;
      table[v] = prev == source ? via : table[prev];
    }
    table_epoch[source] = route_epoch;
  }

  // The link graph and the routing caches cover the nodes added before the last add_link: a
  // scenario without links (most, and every 10^6-node one) spends nothing per node on them.
  void grow_graph() {
    while (boost::num_vertices(graph) < nodes.size()) boost::add_vertex(graph);
    next_link.resize(nodes.size());
    table_epoch.resize(nodes.size(), 0);
  }

  LinkId next_hop(NodeId at, NodeId destination) {
    // A node with one link out (a host under its switch) sends everything over it, to what
    // its neighbour can reach (a path back through a dead end is never shortest): the
    // neighbour's table answers, and hosts keep none, so that tables cost switches x nodes
    // rather than nodes x nodes.
    if (boost::out_degree(at, graph) == 1 && destination != at) {
      const LinkId only = graph[*boost::out_edges(at, graph).first].id;
      if (links[only].cut) return kNoLink;
      const NodeId neighbour = links[only].to;
      return neighbour == destination || table_next_hop(neighbour, destination) != kNoLink
                 ? only
                 : kNoLink;
    }
    return table_next_hop(at, destination);
  }
  LinkId table_next_hop(NodeId at, NodeId destination) {
    if (table_epoch[at] != route_epoch) build_routes(at);
    return next_link[at][destination];
  }

  bool uses_links(NodeId a, NodeId b) const {
    return nodes[a].link_degree > 0 && nodes[b].link_degree > 0;
  }
  bool uses_zones(NodeId a, NodeId b) const { return nodes[a].zone >= 0 && nodes[b].zone >= 0; }

  const LinkSpec& zone_spec(NodeId a, NodeId b) const {
    const auto za = static_cast<std::size_t>(nodes[a].zone);
    const auto zb = static_cast<std::size_t>(nodes[b].zone);
    DSIM_ASSERT(za < zone_matrix.size() && zb < zone_matrix.size(),
                "a node's zone has no row in the zone latency matrix (set_zones)");
    return zone_matrix[za][zb];
  }

  bool same_machine(NodeId a, NodeId b) const {
    return a == b || (nodes[a].machine != kAlone && nodes[a].machine == nodes[b].machine);
  }

  std::span<const NodeId> machine_of(NodeId node) const {
    const NodeState& n = nodes[node];
    if (n.machine == kAlone) return {&n.id, 1};
    return machines[n.machine];
  }

  bool partitioned(NodeId origin, NodeId destination) const {
    for (const PartitionId id : active_partitions)
      if (partitions[id].separates(origin, destination)) return true;
    return false;
  }

  double hop_latency_factor(const LinkState& link) const {
    return global_latency_factor * link.latency_factor * nodes[link.from].latency_factor *
           nodes[link.to].latency_factor;
  }
  double hop_survival(const LinkState& link) const {
    return global_survival * link.survival * nodes[link.from].survival * nodes[link.to].survival;
  }

  void recompute_degradations() {
    global_latency_factor = 1;
    global_survival = 1;
    for (NodeState& node : nodes) node.latency_factor = node.survival = 1;
    for (LinkState& link : links) link.latency_factor = link.survival = 1;
    for (const Degradation& d : degradations) {
      if (!d.active) continue;
      double* factor = &global_latency_factor;
      double* survival = &global_survival;
      if (d.scope == Scope::Link) {
        factor = &links[d.target].latency_factor;
        survival = &links[d.target].survival;
      } else if (d.scope == Scope::Node) {  // the machine's interface: all its nodes
        for (const NodeId n : machine_of(d.target)) {
          nodes[n].latency_factor *= d.latency_factor;
          nodes[n].survival *= 1 - d.extra_loss;
        }
        continue;
      }
      *factor *= d.latency_factor;
      *survival *= 1 - d.extra_loss;
    }
    invalidate_routes();  // routing weights include the factors
  }

  std::uint32_t add_degradation(Scope scope, std::uint32_t target, double factor, double loss) {
    DSIM_ASSERT(factor > 0 && std::isfinite(factor), "degrade: latency factor must be > 0");
    DSIM_ASSERT(loss >= 0 && loss <= 1, "degrade: extra loss must be in [0, 1]");
    degradations.push_back(Degradation{scope, target, factor, loss, true});
    recompute_degradations();
    return static_cast<std::uint32_t>(degradations.size() - 1);
  }

  HopDecision drop(HopDecision decision, DropReason reason) {
    decision.delivered = false;
    decision.drop_reason = reason;
    ++counters.dropped[static_cast<int>(reason)];
    return decision;
  }

  // Steps 2 and 4 of the draw order: a latency draw scaled by the degradation factor.
  static Duration draw_latency(const Distribution& latency, Rng& rng, double factor) {
    const double ns = latency.sample(rng);
    return duration_from_ns(factor == 1 ? ns : ns * factor);
  }

  // Loss probability given the spec's own loss and the degradations' combined survival; exact
  // spec.loss when nothing is degraded (1 - (1 - p) is not always p in floating point).
  static double effective_loss(double spec_loss, double degradation_survival) {
    if (degradation_survival == 1) return spec_loss;
    return 1 - (1 - spec_loss) * degradation_survival;
  }
};

Network::Network(std::uint64_t root_seed) : impl_(std::make_unique<Impl>(root_seed)) {}
Network::~Network() = default;
Network::Network(Network&&) noexcept = default;
Network& Network::operator=(Network&&) noexcept = default;

// ---- topology ----

void Network::add_node(NodeId id, std::string name, int zone) {
  Impl& m = *impl_;
  DSIM_ASSERT(id == m.nodes.size(), "add_node: node ids must be added in order 0, 1, 2, ...");
  Impl::NodeState node;
  node.id = id;
  node.rng = Rng::stream(m.root_seed, "net:" + name);
  node.zone = zone < 0 ? -1 : zone;
  m.nodes.push_back(std::move(node));
  m.names.push_back(std::move(name));
  m.invalidate_routes();
}

LinkId Network::add_link(NodeId a, NodeId b, LinkSpec spec, bool bidirectional) {
  Impl& m = *impl_;
  m.check_node(a, "add_link");
  m.check_node(b, "add_link");
  DSIM_ASSERT(a != b, "add_link: a link needs two different nodes");
  check_spec(spec, "add_link");
  DSIM_ASSERT(!find_link(a, b),
              "add_link: there is already a link from " + m.names[a] + " to " + m.names[b]);
  DSIM_ASSERT(!bidirectional || !find_link(b, a),
              "add_link: there is already a link from " + m.names[b] + " to " + m.names[a]);
  m.grow_graph();
  const auto add_one = [&m](NodeId from, NodeId to, const LinkSpec& s) {
    const auto id = static_cast<LinkId>(m.links.size());
    Impl::LinkState link;
    link.from = from;
    link.to = to;
    link.spec = s;
    link.routing_latency_ns = routing_latency_ns(s.latency);
    link.rng = Rng::stream(m.root_seed, "link:" + m.names[from] + "->" + m.names[to]);
    m.links.push_back(std::move(link));
    boost::add_edge(from, to, EdgeProps{id, 0}, m.graph);
    ++m.nodes[from].link_degree;
    ++m.nodes[to].link_degree;
    return id;
  };
  const LinkId id = add_one(a, b, spec);
  if (bidirectional) add_one(b, a, spec);
  m.invalidate_routes();
  return id;
}

void Network::set_default_link(LinkSpec spec) {
  check_spec(spec, "set_default_link");
  impl_->default_link = std::move(spec);
}

void Network::set_zones(std::vector<std::string> names, std::vector<std::vector<LinkSpec>> matrix) {
  DSIM_ASSERT(matrix.size() == names.size(), "set_zones: the matrix needs one row per zone");
  for (const auto& row : matrix) {
    DSIM_ASSERT(row.size() == names.size(), "set_zones: the matrix needs one column per zone");
    for (const LinkSpec& spec : row) check_spec(spec, "set_zones");
  }
  impl_->zone_names = std::move(names);
  impl_->zone_matrix = std::move(matrix);
}

int Network::zone_of(NodeId node) const {
  impl_->check_node(node, "zone_of");
  return impl_->nodes[node].zone;
}

const std::string& Network::node_name(NodeId id) const {
  impl_->check_node(id, "node_name");
  return impl_->names[id];
}

std::size_t Network::node_count() const {
  return impl_->nodes.size();
}
std::size_t Network::link_count() const {
  return impl_->links.size();
}

std::optional<LinkId> Network::find_link(NodeId a, NodeId b) const {
  const Impl& m = *impl_;
  m.check_node(a, "find_link");
  m.check_node(b, "find_link");
  if (a >= boost::num_vertices(m.graph)) return std::nullopt;  // no link yet (grow_graph)
  auto [it, end] = boost::out_edges(a, m.graph);
  for (; it != end; ++it)
    if (boost::target(*it, m.graph) == b) return m.graph[*it].id;
  return std::nullopt;
}

std::pair<NodeId, NodeId> Network::link_ends(LinkId link) const {
  const Impl& m = *impl_;
  DSIM_ASSERT(link < m.links.size(), "link_ends: unknown link");
  return {m.links[link].from, m.links[link].to};
}

LinkId Network::reverse_link(LinkId link) const {
  const auto [from, to] = link_ends(link);
  return find_link(to, from).value_or(kNoLink);
}

// ---- machines ----

void Network::colocate(NodeId a, NodeId b) {
  Impl& m = *impl_;
  m.check_node(a, "colocate");
  m.check_node(b, "colocate");
  DSIM_ASSERT(a != b, "colocate: a machine needs two different nodes");
  if (m.same_machine(a, b)) return;
  if (m.nodes[a].machine == Impl::kAlone) std::swap(a, b);  // a has a machine, if either has
  if (m.nodes[a].machine == Impl::kAlone) {
    m.nodes[a].machine = static_cast<std::uint32_t>(m.machines.size());
    m.machines.push_back({a});
  }
  const std::uint32_t into = m.nodes[a].machine;
  std::vector<NodeId> moving{b};
  if (m.nodes[b].machine != Impl::kAlone)
    moving = std::exchange(m.machines[m.nodes[b].machine], {});
  for (const NodeId n : moving) {
    m.nodes[n].machine = into;
    m.machines[into].push_back(n);
  }
  std::sort(m.machines[into].begin(), m.machines[into].end());
}

bool Network::same_machine(NodeId a, NodeId b) const {
  impl_->check_node(a, "same_machine");
  impl_->check_node(b, "same_machine");
  return impl_->same_machine(a, b);
}

std::span<const NodeId> Network::machine_of(NodeId node) const {
  impl_->check_node(node, "machine_of");
  return impl_->machine_of(node);
}

// ---- faults ----

void Network::cut_link(LinkId link) {
  Impl& m = *impl_;
  m.check_link(link, "cut_link");
  Impl::LinkState& l = m.links[link];
  if (l.cut) return;
  l.cut = true;
  l.last_cut_seq = ++m.fault_seq;
  m.invalidate_routes();
}

void Network::heal_link(LinkId link) {
  Impl& m = *impl_;
  m.check_link(link, "heal_link");
  if (!m.links[link].cut) return;
  m.links[link].cut = false;
  m.invalidate_routes();
}

bool Network::is_cut(LinkId link) const {
  impl_->check_link(link, "is_cut");
  return impl_->links[link].cut;
}

PartitionId Network::partition(std::vector<std::vector<NodeId>> groups, bool one_way, Time now) {
  Impl& m = *impl_;
  DSIM_ASSERT(groups.size() >= 2, "partition: needs at least two groups");
  Impl::PartitionRecord p;
  p.group_of.assign(m.nodes.size(), -1);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (const NodeId node : groups[g]) {
      m.check_node(node, "partition");
      DSIM_ASSERT(p.group_of[node] < 0,
                  "partition: node " + m.names[node] + " is in more than one group");
      p.group_of[node] = static_cast<std::int32_t>(g);
    }
  }
  // A machine goes with the first of its nodes that is named (its id order).
  for (const auto& machine : m.machines) {
    const auto named =
        std::find_if(machine.begin(), machine.end(), [&p](NodeId n) { return p.group_of[n] >= 0; });
    if (named == machine.end()) continue;
    for (const NodeId n : machine)
      if (p.group_of[n] < 0) p.group_of[n] = p.group_of[*named];
  }
  p.one_way = one_way;
  p.start = now;
  p.start_seq = ++m.fault_seq;
  const auto id = static_cast<PartitionId>(m.partitions.size());
  m.partitions.push_back(std::move(p));
  m.active_partitions.push_back(id);
  return id;
}

void Network::heal_partition(PartitionId id, Time now) {
  Impl& m = *impl_;
  DSIM_ASSERT(id < m.partitions.size(), "heal_partition: unknown partition");
  Impl::PartitionRecord& p = m.partitions[id];
  DSIM_ASSERT(p.active, "heal_partition: partition already healed");
  p.active = false;
  p.end = now;
  m.active_partitions.erase(std::find(m.active_partitions.begin(), m.active_partitions.end(), id));
}

std::uint32_t Network::degrade_link(LinkId link, double latency_factor, double extra_loss) {
  if (link == kNoLink)
    return impl_->add_degradation(Impl::Scope::Global, 0, latency_factor, extra_loss);
  impl_->check_link(link, "degrade_link");
  return impl_->add_degradation(Impl::Scope::Link, link, latency_factor, extra_loss);
}

std::uint32_t Network::degrade_node(NodeId node, double latency_factor, double extra_loss) {
  impl_->check_node(node, "degrade_node");
  return impl_->add_degradation(Impl::Scope::Node, node, latency_factor, extra_loss);
}

void Network::restore(std::uint32_t degradation_id) {
  Impl& m = *impl_;
  DSIM_ASSERT(degradation_id < m.degradations.size(), "restore: unknown degradation");
  DSIM_ASSERT(m.degradations[degradation_id].active, "restore: degradation already restored");
  m.degradations[degradation_id].active = false;
  m.recompute_degradations();
}

// ---- queries ----

bool Network::can_reach(NodeId a, NodeId b) const {
  Impl& m = *impl_;  // the route cache is filled on demand
  m.check_node(a, "can_reach");
  m.check_node(b, "can_reach");
  if (m.same_machine(a, b)) return true;
  if (m.partitioned(a, b)) return false;
  if (m.uses_links(a, b)) return m.next_hop(a, b) != kNoLink;
  return true;
}

std::vector<NodeId> Network::route(NodeId a, NodeId b) const {
  Impl& m = *impl_;
  if (!can_reach(a, b)) return {};
  std::vector<NodeId> path{a};
  if (a == b) return path;
  if (m.same_machine(a, b) || !m.uses_links(a, b)) {
    path.push_back(b);
    return path;
  }
  for (NodeId at = a; at != b;) {
    at = m.links[m.next_hop(at, b)].to;
    path.push_back(at);
  }
  return path;
}

// ---- transmission ----

HopDecision Network::transmit(NodeId origin, NodeId at, NodeId destination,
                              std::uint32_t size_bytes, Time now) {
  Impl& m = *impl_;
  m.check_node(origin, "transmit");
  m.check_node(at, "transmit");
  m.check_node(destination, "transmit");
  HopDecision d;
  d.cut_epoch = m.fault_seq;

  if (m.same_machine(at, destination)) {  // loopback: no network, no draws, not a hop
    d.delivered = true;
    d.next = destination;
    d.arrival = now;
    return d;
  }

  if (m.uses_links(at, destination)) {
    const LinkId id = m.next_hop(at, destination);
    if (id == kNoLink) return m.drop(d, DropReason::NoRoute);
    Impl::LinkState& link = m.links[id];
    d.link = id;
    d.next = link.to;
    if (link.cut) return m.drop(d, DropReason::LinkCut);
    if (m.partitioned(origin, destination)) return m.drop(d, DropReason::Partitioned);

    Time sent = now;  // when the last bit is on the wire
    if (link.spec.bandwidth_bps > 0) {
      const Duration serialization =
          duration_from_ns(static_cast<double>(size_bytes) * 8.0 * 1e9 / link.spec.bandwidth_bps);
      sent = std::max(now, link.busy_until) + serialization;
      link.busy_until = sent;
    }
    const double factor = m.hop_latency_factor(link);
    if (link.rng.bernoulli(Impl::effective_loss(link.spec.loss, m.hop_survival(link))))
      return m.drop(d, DropReason::Lost);
    d.arrival = sent + Impl::draw_latency(link.spec.latency, link.rng, factor);
    const bool duplicated = link.rng.bernoulli(link.spec.duplicate);
    if (link.spec.fifo) {
      d.arrival = std::max(d.arrival, link.last_arrival);
      link.last_arrival = d.arrival;
    }
    if (duplicated) {
      Time copy = sent + Impl::draw_latency(link.spec.latency, link.rng, factor);
      if (link.spec.fifo) {
        copy = std::max(copy, link.last_arrival);
        link.last_arrival = copy;
      }
      d.duplicate_arrival = copy;
      ++m.counters.duplicated;
    }
    d.delivered = true;
    ++m.counters.hops;
    return d;
  }

  // Zone or default path: one stateless hop straight to the destination.
  const LinkSpec& spec =
      m.uses_zones(at, destination) ? m.zone_spec(at, destination) : m.default_link;
  d.next = destination;
  if (m.partitioned(origin, destination)) return m.drop(d, DropReason::Partitioned);
  const Impl::NodeState& sender = m.nodes[at];
  const Impl::NodeState& receiver = m.nodes[destination];
  const double factor = m.global_latency_factor * sender.latency_factor * receiver.latency_factor;
  const double survival = m.global_survival * sender.survival * receiver.survival;
  Rng& rng = m.nodes[at].rng;
  if (rng.bernoulli(Impl::effective_loss(spec.loss, survival))) return m.drop(d, DropReason::Lost);
  d.arrival = now + Impl::draw_latency(spec.latency, rng, factor);
  if (rng.bernoulli(spec.duplicate)) {
    d.duplicate_arrival = now + Impl::draw_latency(spec.latency, rng, factor);
    ++m.counters.duplicated;
  }
  d.delivered = true;
  ++m.counters.hops;
  return d;
}

std::optional<DropReason> Network::in_flight_loss(const HopDecision& hop, NodeId origin,
                                                  NodeId destination, Time sent_at) const {
  // `sent_at` is not needed: the fault sequence number in hop.cut_epoch orders the hop against
  // every cut and partition exactly, even at equal times. It stays for callers' clarity.
  (void)sent_at;
  const Impl& m = *impl_;
  DSIM_ASSERT(hop.delivered, "still_deliverable: the hop was dropped when it was decided");
  DSIM_ASSERT(hop.cut_epoch != 0, "still_deliverable: the hop did not come from transmit()");
  if (hop.link != kNoLink) {
    m.check_link(hop.link, "still_deliverable");
    if (m.links[hop.link].last_cut_seq > hop.cut_epoch) return DropReason::LinkCut;
  }
  // Partitions are logged in start order; only those that started after the hop matter (one
  // active when the hop was decided would have dropped it then), healed ones included. None
  // separates two nodes of one machine.
  if (m.same_machine(origin, destination)) return std::nullopt;
  for (std::size_t i = m.partitions.size(); i-- > 0;) {
    const Impl::PartitionRecord& p = m.partitions[i];
    if (p.start_seq <= hop.cut_epoch) break;
    if (p.separates(origin, destination)) return DropReason::Partitioned;
  }
  return std::nullopt;
}

bool Network::still_deliverable(const HopDecision& hop, NodeId origin, NodeId destination,
                                Time sent_at) const {
  return !in_flight_loss(hop, origin, destination, sent_at).has_value();
}

const NetworkCounters& Network::counters() const {
  return impl_->counters;
}

void Network::count_drop(DropReason reason) {
  DSIM_ASSERT(reason < DropReason::kCount, "count_drop: not a drop reason");
  ++impl_->counters.dropped[static_cast<int>(reason)];
}

}  // namespace sim
