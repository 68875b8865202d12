#include "models/election/lease_owner.hpp"

#include <stdexcept>
#include <string>

#include "models/election/lease_protocol.hpp"
#include "models/shared/health.hpp"
#include "sim/assert.hpp"
#include "sim/node.hpp"

namespace models {

Wiring LeaseOwner::wiring(const Config& c) {
  Wiring w{.serves = {Protocol::Health}, .calls = {{"service", c.service, {Protocol::Lease}}}};
  if (!c.store.empty()) w.calls.push_back({"store", c.store, {Protocol::Fenced}});
  return w;
}

FigureDocs LeaseOwner::figure_docs() {
  return {
      {"acquisitions", "leases", Combine::Sum, "times a node became the owner"},
      {"expired_beliefs", "leases", Combine::Sum,
       "ownerships that ended because the belief ran out on the owner's clock"},
      {"lost_leases", "leases", Combine::Sum,
       "ownerships that ended because the service refused a keep-alive (expired there)"},
      {"writes_sent", "writes", Combine::Sum, "writes sent to the store while owning"},
      {"writes_rejected", "writes", Combine::Sum, "writes the store rejected (fencing)"},
      {"watchdog_crashes", "crashes", Combine::Sum, "processes killed by the watchdog"},
      {"overlap_s", "s", Combine::Max,
       "time with two or more nodes believing they own the key (a safety violation)"},
      {"overlaps", "overlaps", Combine::Max, "times a second owner appeared"},
      {"unowned_s", "s", Combine::Max, "time with no node believing it owns the key"},
      {"unowned_fraction", "fraction", Combine::Max,
       "unowned_s over the measured interval: the resource's unavailability"},
  };
}

std::vector<ConfigProblem> LeaseOwner::check(const Config& c) {
  std::vector<ConfigProblem> problems;
  if (c.renew_interval >= c.ttl)
    problems.push_back({"renew_interval",
                        "expected less than the ttl (a lease would expire "
                        "between two keep-alives)"});
  if (c.safety_margin >= c.ttl) problems.push_back({"safety_margin", "expected less than the ttl"});
  return problems;
}

std::vector<ConfigProblem> LeaseOwner::check_targets(
    const Config& config, const std::function<std::size_t(const ComponentRef&)>& nodes) {
  if (config.store.empty() || nodes(config.store) == 1) return {};
  return {{"store", "expected a component of one node (the resource written), got '" +
                        config.store.name + "' of " + std::to_string(nodes(config.store)) +
                        " nodes"}};
}

std::unique_ptr<Model> LeaseOwner::make(const Config& config, BuildContext& ctx,
                                        std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "lease owner replica out of range");
  DSIM_ASSERT(ctx.invariants != nullptr, "a lease owner measures through ghost state");
  std::vector<sim::NodeId> service = ctx.resolve(config.service);
  std::optional<sim::NodeId> store;
  if (!config.store.empty()) {
    const std::vector<sim::NodeId> nodes = ctx.resolve(config.store);
    if (nodes.size() != 1)
      throw std::invalid_argument("store: '" + config.store.name + "' has " +
                                  std::to_string(nodes.size()) + " nodes; expected one");
    store = nodes.front();
  }
  return std::make_unique<LeaseOwner>(config, ctx, replica, std::move(service), store);
}

LeaseOwner::LeaseOwner(const Config& config, BuildContext& ctx, std::size_t replica,
                       std::vector<sim::NodeId> service, std::optional<sim::NodeId> store)
    : config_(config),
      faults_(ctx.faults),
      recorder_(ctx.recorder),
      group_(ctx.group("")),
      ledger_(ctx.invariants->ghost<OwnershipLedger>(ctx.component + "/ownership")),
      service_(std::move(service)),
      store_(store),
      replica_(replica),
      rng_(ctx.cluster.node(ctx.nodes[replica]).stream("lease")),
      measure_from_(ctx.warmup_end),
      measure_to_(ctx.end) {
  ledger_.measure(measure_from_, measure_to_);
}

sim::Time LeaseOwner::clock_now(const sim::Node& node) const {
  return config_.lease_clock == LeaseClock::Wall ? node.clock().wall(node.true_now())
                                                 : node.clock().monotonic(node.true_now());
}

void LeaseOwner::on_start(sim::Node& node) {
  // First start: replica i waits i x stagger; a restart seeks at once (it lost everything).
  const sim::Duration first = node.incarnation() == 0
                                  ? config_.stagger * static_cast<std::int64_t>(replica_)
                                  : sim::Duration::zero();
  node.set_timer(first, {kSeek, epoch_});
}

void LeaseOwner::seek(sim::Node& node) {
  request_ = next_request_++;
  waiting_ = Waiting::Grant;
  sent_at_ = clock_now(node);
  node.send(service_[ask_], LeaseAcquire{.request = request_,
                                         .key = static_cast<std::uint64_t>(config_.key),
                                         .ttl = config_.ttl});
  node.set_timer(config_.request_timeout, {kTimeout, request_});
}

void LeaseOwner::send_keep_alive(sim::Node& node) {
  request_ = next_request_++;
  waiting_ = Waiting::Renewal;
  sent_at_ = clock_now(node);
  node.send(service_[ask_], LeaseKeepAlive{.request = request_,
                                           .lease = lease_,
                                           .key = static_cast<std::uint64_t>(config_.key),
                                           .revision = token_,
                                           .ttl = config_.ttl});
  node.set_timer(config_.request_timeout, {kTimeout, request_});
}

void LeaseOwner::ask_elsewhere(sim::NodeId leader) {
  for (std::size_t i = 0; i < service_.size(); ++i)
    if (service_[i] == leader) {
      ask_ = i;
      return;
    }
  ask_ = (ask_ + 1) % service_.size();
}

void LeaseOwner::retry_later(sim::Node& node) {
  waiting_ = Waiting::Nothing;
  const auto jitter = static_cast<std::int64_t>(rng_.uniform01() * 0.1 *
                                                static_cast<double>(config_.retry_interval.ns()));
  node.set_timer(config_.retry_interval + sim::Duration::nanoseconds(jitter), {kSeek, epoch_});
}

void LeaseOwner::become_owner(sim::Node& node, std::uint64_t lease, std::uint64_t token,
                              sim::Duration ttl) {
  const sim::Time now = node.true_now();
  owner_ = true;
  ++epoch_;
  lease_ = lease;
  token_ = token;
  belief_end_ = sent_at_ + ttl - config_.safety_margin;
  ledger_.enter(now);
  timeline_.set(now, "owner");
  if (measured(now)) ++acquisitions_;
  arm_expiry(node);
  node.set_timer(config_.renew_interval, {kRenew, epoch_});
  if (store_) node.set_timer(sim::Duration::zero(), {kWrite, epoch_});
}

void LeaseOwner::extend_belief(sim::Node& node, sim::Duration ttl) {
  belief_end_ = std::max(belief_end_, sent_at_ + ttl - config_.safety_margin);
  arm_expiry(node);
}

void LeaseOwner::arm_expiry(sim::Node& node) {
  // A timer at the belief's end on the lease clock; when it fires the clock is read again (a
  // wall clock may have stepped since), so a stale timer is harmless.
  if (config_.lease_clock == LeaseClock::Wall) {
    node.set_timer_at(belief_end_, {kExpire, epoch_});
  } else {
    const sim::Duration left = belief_end_ - clock_now(node);
    node.set_timer(std::max(left, sim::Duration::zero()), {kExpire, epoch_});
  }
}

void LeaseOwner::step_down(sim::Node& node) {
  const sim::Time now = node.true_now();
  owner_ = false;
  ++epoch_;
  ledger_.leave(now);
  timeline_.set(now, "seeking");
  retry_later(node);
}

bool LeaseOwner::check_belief(sim::Node& node) {
  if (!owner_) return false;
  if (believes(node)) return true;
  const sim::Time now = node.true_now();
  if (measured(now)) ++expired_;
  if (config_.watchdog) {  // the process is killed: nothing it started goes out
    if (measured(now)) ++watchdog_crashes_;
    faults_.crash(now, node.id(), config_.watchdog_restart);
  }
  step_down(node);
  return false;
}

void LeaseOwner::on_message(sim::Node& node, const sim::Message& message) {
  if (answer_health_probe(node, message)) return;
  if (message.holds<FencedWriteReply>()) {
    const auto reply = message.as<FencedWriteReply>();
    const sim::Time* sent = writes_in_flight_.find(reply.request);
    if (sent == nullptr) return;  // sent before a crash
    recorder_.record(*sent, node.true_now(), reply.accepted ? Outcome::Ok : Outcome::Rejected, 1,
                     group_);
    writes_in_flight_.erase(reply.request);
    if (!reply.accepted && measured(node.true_now())) ++rejected_;
    return;
  }
  const auto reply = message.as<LeaseReply>();
  if (reply.request != request_ || waiting_ == Waiting::Nothing) return;  // late: timed out
  const Waiting was = waiting_;
  waiting_ = Waiting::Nothing;
  if (reply.not_leader) {  // a follower of a replicated service: ask the leader it names
    ask_elsewhere(reply.leader);
    if (reply.leader == sim::kNoNode) {  // no leader yet: as a refusal
      if (was == Waiting::Grant) retry_later(node);
    } else if (was == Waiting::Grant) {
      seek(node);
    } else if (owner_) {
      send_keep_alive(node);
    }
    return;
  }
  if (was == Waiting::Grant) {
    if (reply.ok)
      become_owner(node, reply.lease, reply.revision, reply.ttl);
    else
      retry_later(node);
    return;
  }
  if (!owner_) return;  // the belief ran out meanwhile
  if (reply.ok) {
    extend_belief(node, reply.ttl);
  } else {
    if (measured(node.true_now())) ++lost_;
    step_down(node);
  }
}

void LeaseOwner::on_timer(sim::Node& node, sim::TimerTag tag) {
  const sim::Time now = node.true_now();
  switch (tag.kind) {
    case kSeek:
      if (tag.value == epoch_ && !owner_) seek(node);
      return;
    case kTimeout:  // no answer: seek again, or keep the belief (it runs out by itself)
      if (tag.value != request_ || waiting_ == Waiting::Nothing) return;
      ask_elsewhere(sim::kNoNode);  // that node may be down: the next one
      if (waiting_ == Waiting::Grant)
        retry_later(node);
      else
        waiting_ = Waiting::Nothing;
      return;
    case kRenew:
      if (tag.value != epoch_ || !owner_) return;
      if (waiting_ == Waiting::Nothing) send_keep_alive(node);
      node.set_timer(config_.renew_interval, {kRenew, epoch_});
      return;
    case kExpire:
      if (tag.value != epoch_ || !owner_) return;
      if (check_belief(node)) arm_expiry(node);  // the wall clock stepped back: not yet
      return;
    case kWrite:
      if (tag.value != epoch_ || !check_belief(node)) return;
      if (config_.action_time == sim::Duration::zero()) {
        on_timer(node, {kAction, token_});
      } else {
        node.set_timer(config_.action_time, {kAction, token_});
      }
      node.set_timer(config_.write_interval, {kWrite, epoch_});
      return;
    case kAction:  // checked, then acted: sent whatever the belief is now
      node.send(*store_, FencedWrite{.request = writes_in_flight_.insert(now),
                                     .key = static_cast<std::uint64_t>(config_.key),
                                     .token = tag.value});
      if (measured(now)) ++writes_;
      return;
    default:
      DSIM_ASSERT(false, "unknown lease owner timer");
  }
}

void LeaseOwner::on_crash(sim::Node& node) {
  if (owner_) {
    ledger_.leave(node.true_now());
    timeline_.set(node.true_now(), "seeking");
  }
  owner_ = false;
  ++epoch_;
  waiting_ = Waiting::Nothing;
  writes_in_flight_.for_each([&](auto /*id*/, sim::Time& sent) { recorder_.abandoned(sent); });
  writes_in_flight_.clear();
}

void LeaseOwner::figures(Figures& out) const {
  out.sum("acquisitions", static_cast<double>(acquisitions_));
  out.sum("expired_beliefs", static_cast<double>(expired_));
  out.sum("lost_leases", static_cast<double>(lost_));
  out.sum("writes_sent", static_cast<double>(writes_));
  out.sum("writes_rejected", static_cast<double>(rejected_));
  out.sum("watchdog_crashes", static_cast<double>(watchdog_crashes_));
  out.max("overlap_s", ledger_.overlap_s());
  out.max("overlaps", static_cast<double>(ledger_.overlaps()));
  out.max("unowned_s", ledger_.unowned_s());
  const double span = ledger_.measured_s();
  out.max("unowned_fraction", span > 0 ? ledger_.unowned_s() / span : 0.0);
}

}  // namespace models
