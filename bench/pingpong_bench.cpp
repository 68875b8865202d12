// Ping-pong over a sim::Cluster, against a plain-loop baseline of the same workload.
//
// The kernel run goes through everything a model's message goes through: Node::send, the
// message pool, Network::transmit (default link: partition check, loss, latency, duplication
// draws), an arrival event, the in-flight check, delivery to a Process, and node timers. The
// plain loop is a std::priority_queue of POD events with the same model logic and the same
// random streams in the same order ("node:<name>" for intervals and peers, "net:<name>" for
// the network's three draws per hop), so both process the same events, to the nanosecond: the
// ratio of their event rates is what the kernel's generality costs.
#include "bench/pingpong_bench.hpp"

#include <cstdio>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "bench/figures.hpp"
#include "sim/cluster.hpp"
#include "sim/distribution.hpp"

namespace bench {
namespace {

constexpr std::uint64_t kSeed = 1;
constexpr std::uint32_t kMessageBytes = 64;

struct Workload {
  sim::Distribution interval = sim::Distribution::exponential(1e6);      // ns between requests
  sim::Distribution latency = sim::Distribution::uniform(0.5e6, 1.5e6);  // ns, one way
  std::uint32_t nodes;
  std::uint64_t deliveries;

  // A uniformly random peer other than `self`.
  sim::NodeId peer(sim::Rng& rng, sim::NodeId self) const {
    auto p = static_cast<sim::NodeId>(rng.below(nodes - 1));
    return p >= self ? p + 1 : p;
  }
};

// Appends rather than "n" + std::to_string(i): GCC 12 at -O3 warns falsely (-Wrestrict) there.
std::string node_name(std::uint32_t i, const char* prefix = "") {
  std::string name(prefix);
  name += 'n';
  name += std::to_string(i);
  return name;
}

struct RunResult {
  std::uint64_t events = 0;
  std::uint64_t deliveries = 0;
  std::int64_t end_ns = 0;
  double seconds = 0;
};

// ---- on the kernel ----

struct Request {
  std::uint32_t unused = 0;
};
struct Reply {
  std::uint32_t unused = 0;
};

class PingPongNode : public sim::Process {
 public:
  explicit PingPongNode(const Workload& w) : w_(w) {}
  void on_start(sim::Node& n) override { n.set_timer(w_.interval.sample_duration(n.rng()), {}); }
  void on_timer(sim::Node& n, sim::TimerTag) override {
    n.send(w_.peer(n.rng(), n.id()), Request{}, kMessageBytes);
    n.set_timer(w_.interval.sample_duration(n.rng()), {});
  }
  void on_message(sim::Node& n, const sim::Message& m) override {
    if (m.holds<Request>()) n.send(m.from, Reply{}, kMessageBytes);
  }

 private:
  const Workload& w_;
};

RunResult run_kernel(const Workload& w) {
  sim::Simulator sim(kSeed);
  sim::Cluster cluster(sim);
  sim::LinkSpec link;
  link.latency = w.latency;
  cluster.network().set_default_link(link);
  for (std::uint32_t i = 0; i < w.nodes; ++i) {
    const sim::NodeId id = cluster.add_node(node_name(i));
    cluster.attach(id, std::make_unique<PingPongNode>(w));
  }
  sim.reserve(4 * w.nodes);  // timers plus messages in flight, with room to spare
  cluster.reserve_messages(4 * w.nodes);
  Stopwatch watch;
  cluster.start();
  const sim::ClusterCounters& counters = cluster.counters();
  sim.run_while([&] { return counters.messages_delivered < w.deliveries; });
  return {sim.events_processed(), counters.messages_delivered, sim.now().ns(), watch.seconds()};
}

// ---- the plain loop ----

enum class Kind : std::uint8_t { Send, RequestArrives, ReplyArrives };

struct PlainEvent {
  std::int64_t time;
  std::uint64_t sequence;
  std::uint32_t node;  // where it happens
  std::uint32_t from;  // arrivals: the sender
  Kind kind;
  bool operator>(const PlainEvent& o) const {
    return time > o.time || (time == o.time && sequence > o.sequence);
  }
};

RunResult run_plain(const Workload& w) {
  std::vector<sim::Rng> node_rng, net_rng;
  for (std::uint32_t i = 0; i < w.nodes; ++i) {
    node_rng.push_back(sim::Rng::stream(kSeed, node_name(i, "node:")));
    net_rng.push_back(sim::Rng::stream(kSeed, node_name(i, "net:")));
  }
  std::vector<PlainEvent> storage;
  storage.reserve(4 * w.nodes);
  std::priority_queue<PlainEvent, std::vector<PlainEvent>, std::greater<>> queue(
      std::greater<>{}, std::move(storage));
  std::uint64_t sequence = 1, events = 0, deliveries = 0;
  // The network's draws for one default-link hop: loss (always drawn), latency, duplicate.
  const auto hop = [&w](sim::Rng& rng) {
    (void)rng.bernoulli(0);
    const std::int64_t latency = w.latency.sample_duration(rng).ns();
    (void)rng.bernoulli(0);
    return latency;
  };
  Stopwatch watch;
  for (std::uint32_t i = 0; i < w.nodes; ++i)
    queue.push({w.interval.sample_duration(node_rng[i]).ns(), sequence++, i, 0, Kind::Send});
  std::int64_t now = 0;
  while (deliveries < w.deliveries && !queue.empty()) {
    const PlainEvent e = queue.top();
    queue.pop();
    ++events;
    now = e.time;
    switch (e.kind) {
      case Kind::Send: {
        const sim::NodeId to = w.peer(node_rng[e.node], e.node);
        queue.push({now + hop(net_rng[e.node]), sequence++, to, e.node, Kind::RequestArrives});
        queue.push({now + w.interval.sample_duration(node_rng[e.node]).ns(), sequence++, e.node, 0,
                    Kind::Send});
        break;
      }
      case Kind::RequestArrives:
        ++deliveries;
        queue.push({now + hop(net_rng[e.node]), sequence++, e.from, e.node, Kind::ReplyArrives});
        break;
      case Kind::ReplyArrives:
        ++deliveries;
        break;
    }
  }
  return {events, deliveries, now, watch.seconds()};
}

}  // namespace

PlainLoopRate run_plain_pingpong(std::uint32_t nodes, std::uint64_t deliveries) {
  const RunResult plain = run_plain({.nodes = nodes, .deliveries = deliveries});
  return {plain.events, static_cast<double>(plain.events) / plain.seconds};
}

void run_pingpong_benchmark(std::uint32_t nodes, std::uint64_t deliveries) {
  const Workload w{.nodes = nodes, .deliveries = deliveries};
  reset_peak_memory();
  const double rss_before = peak_memory_bytes();  // right after the reset: the current RSS
  const RunResult kernel = run_kernel(w);
  const double kernel_peak = peak_memory_bytes();
  const RunResult plain = run_plain(w);
  if (kernel.events != plain.events || kernel.deliveries != plain.deliveries ||
      kernel.end_ns != plain.end_ns)
    std::fprintf(stderr,
                 "pingpong: the plain loop did not replay the kernel run (events %llu vs %llu)\n",
                 static_cast<unsigned long long>(kernel.events),
                 static_cast<unsigned long long>(plain.events));
  const double kernel_rate = static_cast<double>(kernel.events) / kernel.seconds;
  const double plain_rate = static_cast<double>(plain.events) / plain.seconds;
  print_figure("pingpong_kernel_events_per_s", kernel_rate, "events/s");
  print_figure("pingpong_plain_events_per_s", plain_rate, "events/s");
  print_figure("pingpong_kernel_vs_plain_ratio", kernel_rate / plain_rate, "ratio");
  print_figure("pingpong_deliveries", static_cast<double>(kernel.deliveries), "messages");
  print_figure("pingpong_events", static_cast<double>(kernel.events), "events");
  print_figure("pingpong_peak_memory", kernel_peak / (1 << 20), "MiB");
  // Peak RSS during the kernel phase (simulator, cluster, nodes, processes, network, queue,
  // message pool) minus the RSS just before it, shared out over the nodes.
  print_figure("pingpong_bytes_per_node", (kernel_peak - rss_before) / nodes, "bytes");
}

}  // namespace bench
