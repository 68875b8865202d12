#include "models/replication/quorum_store.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <string>

#include "models/shared/health.hpp"
#include "sim/assert.hpp"
#include "sim/node.hpp"

namespace models {

// ---- ghost -----------------------------------------------------------------------------------

void QuorumStoreGhost::set_up(std::size_t replica, bool is_up, sim::Time now) {
  if ((up.at(replica) != 0) == is_up) return;
  up[replica] = is_up ? 1 : 0;
  up_count = is_up ? up_count + 1 : up_count - 1;
  majority_up->set(now, up_count >= up.size() / 2 + 1 ? 1.0 : 0.0);
}

void QuorumStoreGhost::finish() {
  if (finished) return;
  finished = true;
  std::map<std::uint64_t, std::uint64_t> hinted;  // key -> the highest hinted version anywhere
  for (QuorumStore* r : replicas) r->collect_hints(hinted);
  checker.finish([&](std::uint64_t key, std::uint64_t version) {
    for (const QuorumStore* r : replicas)
      if (r->version_of(key) >= version) return true;
    const auto it = hinted.find(key);
    return it != hinted.end() && it->second >= version;
  });
}

// ---- configuration ---------------------------------------------------------------------------

std::vector<ConfigProblem> QuorumStore::check(const Config& c, std::size_t count) {
  std::vector<ConfigProblem> problems;
  const std::string n = std::to_string(c.replication_factor);
  if (static_cast<std::int64_t>(count) > Config::kMaxNodes)
    problems.push_back({"count",
                        "expected at most 256 nodes (a version keeps the coordinator's "
                        "index in 8 bits), got " +
                            std::to_string(count)});
  if (c.replication_factor > static_cast<std::int64_t>(count))
    problems.push_back({"replication_factor", "expected at most the component's count (" +
                                                  std::to_string(count) + " nodes), got " + n});
  if (c.read_quorum > c.replication_factor)
    problems.push_back({"read_quorum", "expected at most replication_factor (" + n + "), got " +
                                           std::to_string(c.read_quorum)});
  if (c.write_quorum > c.replication_factor)
    problems.push_back({"write_quorum", "expected at most replication_factor (" + n + "), got " +
                                            std::to_string(c.write_quorum)});
  if (c.sloppy_quorum && c.hint_after >= c.quorum_timeout)
    problems.push_back({"hint_after",
                        "expected less than quorum_timeout (hints are written "
                        "while the write still waits for its quorum)"});
  return problems;
}

FigureDocs QuorumStore::figure_docs() {
  return FigureDocs{
             {"read_requests", "requests", Combine::Sum, "client reads coordinated"},
             {"write_requests", "requests", Combine::Sum, "client writes coordinated"},
             {"read_quorum_failures", "requests", Combine::Sum,
              "reads answered Error: fewer than R replies by the quorum timeout"},
             {"write_quorum_failures", "requests", Combine::Sum,
              "writes answered Error: fewer than W acknowledgements by the quorum timeout"},
             {"rejected", "requests", Combine::Sum,
              "requests answered Rejected: the coordinator held max_in_flight already"},
             {"bad_keys", "requests", Combine::Sum, "requests for a key >= keys, answered Error"},
             {"read_repairs", "writes", Combine::Sum,
              "newest versions written back to replicas that replied older to a read"},
             {"hints_stored", "hints", Combine::Sum,
              "sloppy quorum: writes a fallback node stored as a hint for a missing replica"},
             {"hints_delivered", "hints", Combine::Sum,
              "sloppy quorum: hints handed off to their replica (and dropped)"},
             {"hints_refused", "hints", Combine::Sum,
              "sloppy quorum: hints refused by a fallback whose table was full (max_hints)"},
             {"replicas_contacted_mean", "replicas", Combine::Max,
              "mean nodes a client request was sent to (the coordinator's own copy and "
              "fallbacks included; repairs not)"},
             {"quorum_up_fraction", "fraction", Combine::Max,
              "ground truth: the fraction of the measured time during which a majority of the "
              "component's nodes were up (not crashed)"},
         } +
         ConsistencyChecker::figure_docs();
}

// ---- building --------------------------------------------------------------------------------

std::unique_ptr<Model> QuorumStore::make(const Config& config, BuildContext& ctx,
                                         std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "quorum store replica out of range");
  DSIM_ASSERT(check(config, ctx.nodes.size()).empty(), "a quorum store's checked configuration");
  DSIM_ASSERT(ctx.invariants != nullptr, "a quorum store needs the run's invariant checks");
  QuorumStoreGhost& ghost = ctx.invariants->ghost<QuorumStoreGhost>(ctx.component);
  if (!ghost.configured) {
    ghost.configured = true;
    ghost.checker.configure(config.checker, ctx.warmup_end, ctx.end);
    ghost.replicas.assign(ctx.nodes.size(), nullptr);
    ghost.up.assign(ctx.nodes.size(), 0);
    ghost.majority_up.emplace(ctx.warmup_end, ctx.end);
  }
  auto store = std::make_unique<QuorumStore>(config, ctx, replica, ghost);
  ghost.replicas.at(replica) = store.get();
  return store;
}

QuorumStore::QuorumStore(const Config& config, BuildContext& ctx, std::size_t replica,
                         QuorumStoreGhost& ghost)
    : config_(config),
      index_(static_cast<std::uint32_t>(replica)),
      nodes_(ctx.nodes),
      placement_(ShardFunction::make(config.function, static_cast<std::uint32_t>(nodes_.size()),
                                     static_cast<std::uint32_t>(config.virtual_nodes), {})),
      ghost_(ghost),
      data_(static_cast<std::size_t>(config.keys), 0),
      measure_from_(ctx.warmup_end),
      measure_to_(ctx.end) {}

// ---- lifecycle -------------------------------------------------------------------------------

void QuorumStore::on_start(sim::Node& node) {
  DSIM_ASSERT(pending_.size() == 0, "a store starts with no request in flight");
  ghost_.set_up(index_, true, node.true_now());
  if (config_.sloppy_quorum) node.set_timer(config_.handoff_interval, {kHandoff, 0});
}

void QuorumStore::on_crash(sim::Node& node) {
  ghost_.set_up(index_, false, node.true_now());
  pending_.clear();  // the timers die with the incarnation; the clients time out
  if (!config_.durable) {
    std::fill(data_.begin(), data_.end(), 0);
    hints_.clear();
  }
}

void QuorumStore::on_message(sim::Node& node, const sim::Message& message) {
  if (answer_health_probe(node, message)) return;
  if (message.holds<QuorumWrite>()) {
    on_replica_write(node, message.from, message.as<QuorumWrite>());
  } else if (message.holds<QuorumWriteAck>()) {
    const auto ack = message.as<QuorumWriteAck>();
    if (ack.kind == QuorumWrite::kHandoff) {
      if (hints_.erase(ack.request) && measured(node.true_now())) ++hints_delivered_;
    } else {
      on_write_ack(node, ack.request, ack.position);
    }
  } else if (message.holds<QuorumRead>()) {
    const auto r = message.as<QuorumRead>();
    node.send(
        message.from,
        QuorumReadReply{.request = r.request, .version = data_.at(r.key), .position = r.position});
  } else if (message.holds<QuorumReadReply>()) {
    const auto r = message.as<QuorumReadReply>();
    on_read_reply(node, r.request, r.position, r.version);
  } else {
    on_client_request(node, message);
  }
}

void QuorumStore::on_timer(sim::Node& node, sim::TimerTag tag) {
  switch (tag.kind) {
    case kHandoff:
      hand_off(node);
      node.set_timer(config_.handoff_interval, {kHandoff, 0});
      return;
    case kQuorumTimeout: {
      Pending* p = pending_.find(tag.value);
      if (p == nullptr) return;
      if (!p->answered) {
        if (p->counted) ++(p->is_write ? write_failures_ : read_failures_);
        answer(node, *p, Outcome::Error);
      }
      end(node, tag.value);  // a read's repairs listen no longer
      return;
    }
    case kHintAfter: {
      const Pending* p = pending_.find(tag.value);
      if (p == nullptr || p->answered) return;
      write_hints(node, tag.value);
      return;
    }
    default:
      DSIM_ASSERT(false, "unknown quorum store timer");
  }
}

// ---- coordinating ----------------------------------------------------------------------------

std::uint64_t QuorumStore::next_version(sim::Node& node) {
  const std::int64_t wall = node.now().ns();
  const std::uint64_t stamp =
      std::max<std::uint64_t>(wall > 0 ? static_cast<std::uint64_t>(wall) : 0, last_stamp_ + 1);
  DSIM_ASSERT(stamp < (std::uint64_t{1} << 56), "a wall clock beyond 2^56 ns (833 days)");
  last_stamp_ = stamp;
  return make_version(stamp, index_);
}

void QuorumStore::on_client_request(sim::Node& node, const sim::Message& message) {
  const auto r = message.as<RpcRequest>();
  const sim::Time now = node.true_now();
  const bool counted = measured(now);
  const bool is_write = r.operation == kOpWrite;
  if (counted) ++(is_write ? write_requests_ : read_requests_);
  if (r.key >= data_.size() || pending_.size() >= static_cast<std::size_t>(config_.max_in_flight)) {
    const bool bad = r.key >= data_.size();
    if (counted) ++(bad ? bad_keys_ : rejected_);
    node.send(message.from, RpcResponse{.call_id = r.call_id,
                                        .outcome = bad ? Outcome::Error : Outcome::Rejected});
    return;
  }
  const auto n = static_cast<std::uint8_t>(config_.replication_factor);
  Pending p{
      .is_write = is_write,
      .counted = counted,
      .key = r.key,
      .client = message.from,
      .call_id = r.call_id,
      .session = static_cast<std::uint32_t>(r.origin != sim::kNoNode ? r.origin : message.from),
      .invoked = now,
      .targets = n};
  placement_.preference_list(r.key, std::span<std::uint32_t>(p.target.data(), n));
  if (is_write) {
    p.version = next_version(node);
    ghost_.checker.write_versioned(r.key, p.version, now);
  }
  const std::uint64_t id = pending_.insert(p);
  Pending& e = *pending_.find(id);
  // The quorum timeout, or the caller's deadline (true time) if that comes first.
  sim::Duration wait = config_.quorum_timeout;
  if (r.deadline != sim::Time::max()) {
    const sim::Time deadline = std::max(r.deadline, now);
    wait = std::min(wait, node.clock().monotonic(deadline) - node.clock().monotonic(now));
  }
  e.timeout = node.set_timer(wait, {kQuorumTimeout, id});
  if (is_write && config_.sloppy_quorum)
    e.hint_timer = node.set_timer(config_.hint_after, {kHintAfter, id});
  if (counted) {
    ++ghost_.contacted_requests;
    ghost_.contacted += n;
  }
  // The others first: the local copy may complete the quorum and end the request.
  int self = -1;
  for (std::uint8_t pos = 0; pos < n; ++pos) {
    if (e.target[pos] == index_) {
      self = pos;
      continue;
    }
    const sim::NodeId to = nodes_[e.target[pos]];
    if (is_write) {
      node.send(to,
                QuorumWrite{.request = id, .key = r.key, .version = e.version, .position = pos});
    } else {
      node.send(to, QuorumRead{.request = id, .key = r.key, .position = pos});
    }
  }
  if (self < 0) return;
  const auto pos = static_cast<std::uint8_t>(self);
  if (is_write) {
    data_[r.key] = std::max(data_[r.key], e.version);
    on_write_ack(node, id, pos);
  } else {
    on_read_reply(node, id, pos, data_[r.key]);
  }
}

void QuorumStore::on_write_ack(sim::Node& node, std::uint64_t id, std::uint8_t position) {
  Pending* p = pending_.find(id);
  if (p == nullptr || !p->is_write) return;
  const std::uint32_t bit = 1u << position;
  if ((p->replied & bit) != 0) return;  // a duplicated ack
  p->replied |= bit;
  if (std::popcount(p->replied) < config_.write_quorum) return;
  answer(node, *p, Outcome::Ok);
  end(node, id);
}

void QuorumStore::on_read_reply(sim::Node& node, std::uint64_t id, std::uint8_t position,
                                std::uint64_t version) {
  Pending* p = pending_.find(id);
  if (p == nullptr || p->is_write) return;
  DSIM_ASSERT(position < config_.replication_factor, "a read reply from a list position");
  const std::uint32_t bit = 1u << position;
  if ((p->replied & bit) != 0) return;  // a duplicated reply
  p->replied |= bit;
  p->known[position] = version;
  p->version = std::max(p->version, version);
  const int replies = std::popcount(p->replied);
  if (!p->answered && replies >= config_.read_quorum) answer(node, *p, Outcome::Ok);
  if (p->answered && config_.read_repair) repair(node, *p);
  if (p->answered && (!config_.read_repair || replies == config_.replication_factor)) end(node, id);
}

void QuorumStore::repair(sim::Node& node, Pending& p) {
  for (std::uint8_t pos = 0; pos < p.targets && pos < config_.replication_factor; ++pos) {
    if ((p.replied & (1u << pos)) == 0 || p.known[pos] >= p.version) continue;
    p.known[pos] = p.version;
    if (p.counted) ++repairs_;
    if (p.target[pos] == index_) {
      data_[p.key] = std::max(data_[p.key], p.version);
    } else {
      node.send(nodes_[p.target[pos]], QuorumWrite{.request = 0,
                                                   .key = p.key,
                                                   .version = p.version,
                                                   .position = pos,
                                                   .kind = QuorumWrite::kRepair});
    }
  }
}

void QuorumStore::write_hints(sim::Node& node, std::uint64_t id) {
  Pending& p = *pending_.find(id);
  const auto n = static_cast<std::uint32_t>(config_.replication_factor);
  const std::uint32_t missing = n - static_cast<std::uint32_t>(std::popcount(p.replied));
  std::array<std::uint32_t, kMaxTargets> order{};
  const std::uint32_t listed =
      placement_.preference_list(p.key, std::span<std::uint32_t>(order.data(), n + missing));
  std::uint32_t next = n;  // order[n ..]: the nodes beyond the preference list, in ring order
  int self = -1;
  std::uint32_t self_for = 0;  // the replica the coordinator holds a hint for, if it is a fallback
  for (std::uint32_t pos = 0; pos < n && next < listed; ++pos) {
    if ((p.replied & (1u << pos)) != 0) continue;
    const auto fallback_pos = static_cast<std::uint8_t>(p.targets++);
    p.target[fallback_pos] = order[next++];
    p.hinted |= 1u << pos;
    if (p.counted) ++ghost_.contacted;
    if (p.target[fallback_pos] == index_) {
      self = fallback_pos;
      self_for = p.target[pos];
      continue;
    }
    node.send(nodes_[p.target[fallback_pos]], QuorumWrite{.request = id,
                                                          .key = p.key,
                                                          .version = p.version,
                                                          .hint_for = p.target[pos],
                                                          .position = fallback_pos});
  }
  if (self < 0) return;
  const std::uint64_t key = p.key, version = p.version;
  if (store_hint(node, key, version, self_for))
    on_write_ack(node, id, static_cast<std::uint8_t>(self));
}

bool QuorumStore::store_hint(sim::Node& node, std::uint64_t key, std::uint64_t version,
                             std::uint32_t owner) {
  const bool counted = measured(node.true_now());
  if (hints_.size() >= static_cast<std::size_t>(config_.max_hints)) {
    if (counted) ++hints_refused_;
    return false;
  }
  hints_.insert({key, version, owner});
  if (counted) ++hints_stored_;
  return true;
}

void QuorumStore::answer(sim::Node& node, Pending& p, Outcome outcome) {
  DSIM_ASSERT(!p.answered, "a request is answered once");
  p.answered = true;
  const sim::Time now = node.true_now();
  const bool ok = outcome == Outcome::Ok;
  node.send(p.client,
            RpcResponse{.call_id = p.call_id, .outcome = outcome, .value = ok ? p.version : 0});
  if (!ok) return;
  if (p.is_write) {
    ghost_.checker.write_acked(p.key, p.version, p.session, p.invoked, now);
  } else {
    ghost_.checker.read_answered(p.key, p.session, p.invoked, now, p.version);
  }
}

void QuorumStore::end(sim::Node& node, std::uint64_t id) {
  Pending* p = pending_.find(id);
  if (p == nullptr) return;
  node.cancel_timer(p->timeout);
  node.cancel_timer(p->hint_timer);
  pending_.erase(id);
}

// ---- replicas --------------------------------------------------------------------------------

void QuorumStore::on_replica_write(sim::Node& node, sim::NodeId from, const QuorumWrite& w) {
  DSIM_ASSERT(w.key < data_.size(), "a replica write of a key the store does not hold");
  if (w.hint_for != QuorumWrite::kNoHint) {
    if (!store_hint(node, w.key, w.version, w.hint_for)) return;  // no room: no ack
  } else {
    data_[w.key] = std::max(data_[w.key], w.version);
  }
  if (w.kind == QuorumWrite::kRepair) return;  // not acknowledged
  node.send(from, QuorumWriteAck{.request = w.request, .position = w.position, .kind = w.kind});
}

void QuorumStore::hand_off(sim::Node& node) {
  hints_.for_each([&](std::uint64_t id, const Hint& h) {
    node.send(
        nodes_[h.owner],
        QuorumWrite{
            .request = id, .key = h.key, .version = h.version, .kind = QuorumWrite::kHandoff});
  });
}

std::uint64_t QuorumStore::hinted_version_of(std::uint64_t key) {
  std::uint64_t highest = 0;
  hints_.for_each([&](std::uint64_t, const Hint& h) {
    if (h.key == key) highest = std::max(highest, h.version);
  });
  return highest;
}

void QuorumStore::collect_hints(std::map<std::uint64_t, std::uint64_t>& highest) {
  hints_.for_each([&](std::uint64_t, const Hint& h) {
    std::uint64_t& v = highest[h.key];
    v = std::max(v, h.version);
  });
}

// ---- figures ---------------------------------------------------------------------------------

void QuorumStore::figures(Figures& out) const {
  out.sum("read_requests", static_cast<double>(read_requests_));
  out.sum("write_requests", static_cast<double>(write_requests_));
  out.sum("read_quorum_failures", static_cast<double>(read_failures_));
  out.sum("write_quorum_failures", static_cast<double>(write_failures_));
  out.sum("rejected", static_cast<double>(rejected_));
  out.sum("bad_keys", static_cast<double>(bad_keys_));
  out.sum("read_repairs", static_cast<double>(repairs_));
  out.sum("hints_stored", static_cast<double>(hints_stored_));
  out.sum("hints_delivered", static_cast<double>(hints_delivered_));
  out.sum("hints_refused", static_cast<double>(hints_refused_));
  if (index_ != 0) {  // the ghost's figures come from replica 0
    out.max("replicas_contacted_mean", std::nan(""));
    out.max("quorum_up_fraction", std::nan(""));
    ConsistencyChecker::zero_figures(config_.checker, out);
    return;
  }
  ghost_.finish();  // the run is over when its figures are collected
  out.max("replicas_contacted_mean", ghost_.contacted_requests == 0
                                         ? std::nan("")
                                         : static_cast<double>(ghost_.contacted) /
                                               static_cast<double>(ghost_.contacted_requests));
  out.max("quorum_up_fraction", ghost_.majority_up->average());
  ghost_.checker.figures(out);
}

}  // namespace models
