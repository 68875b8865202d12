#include "models/election/lock_service.hpp"

#include <algorithm>

#include "models/shared/health.hpp"
#include "sim/assert.hpp"
#include "sim/node.hpp"

namespace models {

FigureDocs LockService::figure_docs() {
  return FigureDocs{
             {"grants", "leases", Combine::Sum, "keys granted under a new lease (new holders)"},
             {"refusals", "requests", Combine::Sum,
              "acquires refused: the key was held, or its revision was not the one expected"},
             {"renewals", "requests", Combine::Sum, "keep-alives that renewed a lease"},
             {"lost_leases", "requests", Combine::Sum,
              "keep-alives refused: the lease had expired (its holder has lost the key)"},
             {"releases", "leases", Combine::Sum, "leases revoked by their holder"},
             {"expirations", "leases", Combine::Sum, "leases that expired without a keep-alive"},
             {"taken_over", "leases", Combine::Sum,
              "replicated: leases a new leader took over from their holders' keep-alives"},
             {"not_leader", "requests", Combine::Sum,
              "replicated: requests a follower answered not_leader (sent elsewhere)"},
         } +
         RaftElection::figure_docs();
}

std::unique_ptr<Model> LockService::make(const Config& config, BuildContext& ctx,
                                         std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "lock service replica out of range");
  RaftGhost* ghost = ctx.nodes.size() > 1 ? &raft_group_ghost(ctx, config.election) : nullptr;
  return std::make_unique<LockService>(config, ctx, replica, ghost);
}

LockService::LockService(const Config& config, BuildContext& ctx, std::size_t replica,
                         RaftGhost* ghost)
    : config_(config), nodes_(ctx.nodes), measure_from_(ctx.warmup_end), measure_to_(ctx.end) {
  leases_.reserve(16);
  if (ghost != nullptr)
    election_.emplace(config.election, nodes_, static_cast<std::uint32_t>(replica), kElection,
                      *ghost, ctx.cluster.node(nodes_[replica]).stream("election"), measure_from_,
                      measure_to_, static_cast<RaftListener*>(this));
}

std::vector<const StateTimeline*> LockService::state_timelines() const {
  if (!election_) return {};
  return {&election_->timeline()};
}

void LockService::on_role_changed(sim::Node& node, RaftRole role, std::uint64_t term) {
  if (role != RaftRole::Leader) return;
  // A new leader knows nothing of the old one's leases: it waits them out, adopting those kept
  // alive, and numbers its grants above every earlier leader's.
  // The first term's leader is the first ever: nothing was granted before it.
  leases_.clear();
  grace_until_ = node.clock().monotonic(node.true_now()) +
                 (term > 1 ? config_.failover_grace : sim::Duration::zero());
  revision_ = std::max(revision_, term << 32);
  next_lease_ = std::max(next_lease_, (term << 32) + 1);
}

LockService::Lease* LockService::adopt(const LeaseKeepAlive& k, sim::Time local_now) {
  if (!election_ || local_now >= grace_until_ || k.revision == 0) return nullptr;
  if (holder(k.key, local_now) != nullptr) return nullptr;  // someone else's already
  leases_.push_back({k.lease, k.key, k.revision, std::min(k.ttl, config_.max_ttl), local_now});
  if (measured(now_counting_)) ++taken_over_;
  return &leases_.back();
}

void LockService::on_start(sim::Node& node) {
  if (election_) election_->start(node);
  // After a restart: every lease gets its ttl again from now (the holders did not fail, the
  // service did); a non-durable service has forgotten them (on_crash).
  const sim::Time local = node.clock().monotonic(node.true_now());
  for (Lease& l : leases_) l.expires = local + l.ttl;
}

void LockService::on_crash(sim::Node& node) {
  while (!queue_.empty()) queue_.pop_front();
  busy_ = false;
  if (!config_.durable || election_) leases_.clear();  // a replica's leases are its memory
  if (election_) election_->on_crash(node);
}

void LockService::on_message(sim::Node& node, const sim::Message& message) {
  if (answer_health_probe(node, message)) return;
  if (election_ && election_->on_message(node, message)) return;
  queue_.push_back({message.from, message});
  if (busy_) return;
  if (config_.request_time == sim::Duration::zero()) {
    serve(node, queue_.pop_front());
    return;
  }
  busy_ = true;
  node.set_timer(config_.request_time, {kServed, 0});
}

void LockService::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (election_ && election_->on_timer(node, tag)) return;
  DSIM_ASSERT(tag.kind == kServed && busy_ && !queue_.empty(), "a lock service's service timer");
  serve(node, queue_.pop_front());
  if (queue_.empty()) {
    busy_ = false;
  } else {
    node.set_timer(config_.request_time, {kServed, 0});
  }
}

void LockService::expire(std::size_t index) {
  if (measured(now_counting_)) ++expirations_;
  leases_.erase(leases_.begin() + static_cast<std::ptrdiff_t>(index));
}

LockService::Lease* LockService::holder(std::uint64_t key, sim::Time local_now) {
  for (std::size_t i = 0; i < leases_.size(); ++i) {
    if (leases_[i].key != key) continue;
    if (leases_[i].expires <= local_now) {
      expire(i);
      return nullptr;
    }
    return &leases_[i];
  }
  return nullptr;
}

LockService::Lease* LockService::find_lease(std::uint64_t id, sim::Time local_now) {
  for (std::size_t i = 0; i < leases_.size(); ++i) {
    if (leases_[i].id != id) continue;
    if (leases_[i].expires <= local_now) {
      expire(i);
      return nullptr;
    }
    return &leases_[i];
  }
  return nullptr;
}

std::uint64_t LockService::revision_of(std::uint64_t key, sim::Time local_now) {
  const Lease* l = holder(key, local_now);
  return l == nullptr ? 0 : l->revision;
}

void LockService::serve(sim::Node& node, const Pending& p) {
  now_counting_ = node.true_now();
  const bool counted = measured(now_counting_);
  const sim::Time local = node.clock().monotonic(now_counting_);
  const sim::Message& m = p.message;
  const std::uint64_t request = m.holds<LeaseAcquire>()     ? m.as<LeaseAcquire>().request
                                : m.holds<LeaseKeepAlive>() ? m.as<LeaseKeepAlive>().request
                                                            : m.as<LeaseRelease>().request;
  if (!serving()) {
    const std::uint32_t leader = election_->leader();
    if (counted) ++redirected_;
    node.send(p.from,
              LeaseReply{.request = request,
                         .not_leader = 1,
                         .leader = leader == RaftElection::kNone ? sim::kNoNode : nodes_[leader]});
    return;
  }
  if (m.holds<LeaseAcquire>()) {
    const auto a = m.as<LeaseAcquire>();
    const Lease* held = holder(a.key, local);
    const std::uint64_t current = held == nullptr ? 0 : held->revision;
    if (current != a.expect_revision || (election_ && local < grace_until_)) {
      if (counted) ++refusals_;
      node.send(p.from, LeaseReply{.request = a.request, .ok = 0, .revision = current});
      return;
    }
    if (held != nullptr) leases_.erase(leases_.begin() + (held - leases_.data()));  // taken over
    const sim::Duration ttl = std::min(a.ttl, config_.max_ttl);
    leases_.push_back({next_lease_++, a.key, ++revision_, ttl, local + ttl});
    if (counted) ++grants_;
    const Lease& l = leases_.back();
    node.send(
        p.from,
        LeaseReply{
            .request = a.request, .ok = 1, .lease = l.id, .revision = l.revision, .ttl = l.ttl});
  } else if (m.holds<LeaseKeepAlive>()) {
    const auto k = m.as<LeaseKeepAlive>();
    Lease* l = find_lease(k.lease, local);
    if (l == nullptr) l = adopt(k, local);
    if (l == nullptr) {
      if (counted) ++lost_;
      node.send(p.from, LeaseReply{.request = k.request, .ok = 0, .lease = k.lease});
      return;
    }
    l->expires = local + l->ttl;
    if (counted) ++renewals_;
    node.send(
        p.from,
        LeaseReply{
            .request = k.request, .ok = 1, .lease = l->id, .revision = l->revision, .ttl = l->ttl});
  } else {
    const auto r = m.as<LeaseRelease>();
    const Lease* l = find_lease(r.lease, local);
    const bool released = l != nullptr;
    if (released) {
      leases_.erase(leases_.begin() + (l - leases_.data()));
      if (counted) ++releases_;
    }
    node.send(p.from, LeaseReply{.request = r.request, .ok = released, .lease = r.lease});
  }
}

void LockService::figures(Figures& out) const {
  out.sum("grants", static_cast<double>(grants_));
  out.sum("refusals", static_cast<double>(refusals_));
  out.sum("renewals", static_cast<double>(renewals_));
  out.sum("lost_leases", static_cast<double>(lost_));
  out.sum("releases", static_cast<double>(releases_));
  out.sum("expirations", static_cast<double>(expirations_));
  out.sum("taken_over", static_cast<double>(taken_over_));
  out.sum("not_leader", static_cast<double>(redirected_));
  if (election_) {
    election_->figures(out);
  } else {  // one node: the election's figures are declared, and zero
    RaftElection::zero_figures(out);
  }
}

}  // namespace models
