#include "models/replication/leader_follower_store.hpp"

#include <algorithm>

#include "models/shared/health.hpp"
#include "sim/assert.hpp"
#include "sim/node.hpp"

namespace models {

FigureDocs LeaderFollowerStore::figure_docs() {
  return FigureDocs{
             {"writes_failed", "writes", Combine::Sum,
              "writes answered with a failure: no leader known, not acknowledged within "
              "ack_timeout, or pending when their leader was deposed"},
             {"follower_reads", "reads", Combine::Sum,
              "reads answered by a replica that was not leading (read_from any)"},
             {"forwards", "requests", Combine::Sum,
              "client requests a replica forwarded to the leader it knew"},
             {"entries_resent", "entries", Combine::Sum,
              "log entries a leader sent again to a follower that had not advanced"},
             {"snapshots", "transfers", Combine::Sum,
              "full resyncs: followers rebuilt from the leader's committed state (too far "
              "behind, or with entries the leader's log lacks)"},
         } +
         ConsistencyChecker::figure_docs() + RaftElection::figure_docs();
}

std::vector<ConfigProblem> LeaderFollowerStore::check(const Config& c, std::size_t count) {
  std::vector<ConfigProblem> problems = RaftElection::check(c.election);
  if (c.replication == ReplicationMode::SemiSync && static_cast<std::size_t>(c.sync_acks) >= count)
    problems.push_back({"sync_acks", "expected fewer than the store's " + std::to_string(count) +
                                         " replicas (the followers that can acknowledge), got " +
                                         std::to_string(c.sync_acks)});
  return problems;
}

std::unique_ptr<Model> LeaderFollowerStore::make(const Config& config, BuildContext& ctx,
                                                 std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "store replica out of range");
  DSIM_ASSERT(ctx.invariants != nullptr, "a replicated store reports to the run's checks");
  auto& group = ctx.invariants->ghost<LeaderFollowerGroup>(ctx.component + "/store");
  if (!group.checker) {
    group.replicas.assign(ctx.nodes.size(), nullptr);
    group.checker.emplace(config.checker, ctx.warmup_end, ctx.end);
  }
  RaftGhost* ghost = ctx.nodes.size() > 1 ? &raft_group_ghost(ctx, config.election) : nullptr;
  auto store = std::make_unique<LeaderFollowerStore>(config, ctx, replica, group, ghost);
  group.replicas[replica] = store.get();
  return store;
}

LeaderFollowerStore::LeaderFollowerStore(const Config& config, BuildContext& ctx,
                                         std::size_t replica, LeaderFollowerGroup& group,
                                         RaftGhost* ghost)
    : config_(config),
      nodes_(ctx.nodes),
      self_(static_cast<std::uint32_t>(replica)),
      group_(group),
      measure_from_(ctx.warmup_end),
      measure_to_(ctx.end),
      table_(static_cast<std::size_t>(config.keys), 0),
      log_(static_cast<std::size_t>(config.backlog)),
      window_(kReorderWindow),
      pending_(1024),
      followers_(ctx.nodes.size()) {
  match_scratch_.reserve(ctx.nodes.size());
  if (ghost != nullptr)
    election_.emplace(config.election, nodes_, self_, kElection, *ghost,
                      ctx.cluster.node(nodes_[replica]).stream("election"), measure_from_,
                      measure_to_, static_cast<RaftListener*>(this));
}

std::vector<const StateTimeline*> LeaderFollowerStore::state_timelines() const {
  if (!election_) return {};
  return {&election_->timeline()};
}

std::int32_t LeaderFollowerStore::member_of(sim::NodeId node) const {
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i] == node) return static_cast<std::int32_t>(i);
  return -1;
}

// ---- life cycle ------------------------------------------------------------------------------

void LeaderFollowerStore::on_start(sim::Node& node) {
  std::fill(window_.begin(), window_.end(), ReplEntry{});
  agreed_term_ = agreed_index_ = 0;
  if (election_) {
    election_->set_log_length(log_.up_to_date_rank());
    election_->start(node);
  } else {
    on_role_changed(node, RaftRole::Leader, 1);  // alone: it leads
  }
}

void LeaderFollowerStore::on_crash(sim::Node& node) {
  leader_term_ = 0;
  ++beat_epoch_;
  while (!pending_.empty()) pending_.pop_front();  // their clients time out
  if (election_) election_->on_crash(node);
}

void LeaderFollowerStore::on_role_changed(sim::Node& node, RaftRole role, std::uint64_t term) {
  if (role != RaftRole::Leader) {
    if (leader_term_ != 0) fail_pending(node, Outcome::Error);  // deposed
    leader_term_ = 0;
    ++beat_epoch_;
    return;
  }
  leader_term_ = term;
  shipped_ = 0;
  for (Follower& f : followers_) f = Follower{};
  // Raft's no-op: commits the entries of earlier terms with this term's first, and makes this
  // log outrank every log of an earlier term.
  const std::uint64_t index = ReplicationLog::index_of(log_.append(term, ReplicationLog::kNoKey));
  if (election_) election_->set_log_length(log_.up_to_date_rank());
  ship(node, index);
  advance_commit(node);
  ++beat_epoch_;
  node.set_timer(election_ ? config_.election.heartbeat_interval : config_.ack_timeout,
                 {kBeat, beat_epoch_});
}

// ---- requests --------------------------------------------------------------------------------

void LeaderFollowerStore::on_message(sim::Node& node, const sim::Message& message) {
  if (answer_health_probe(node, message)) return;
  if (election_ && election_->on_message(node, message)) return;
  if (message.holds<RpcRequest>()) {
    on_client_request(node, message.as<RpcRequest>(), message.from, node.true_now());
    return;
  }
  if (message.holds<ReplForward>()) {
    const auto f = message.as<ReplForward>();
    on_client_request(node, f.rpc, f.reply_to, f.invoked);
    return;
  }
  const std::int32_t from = member_of(message.from);
  if (from < 0) return;  // not one of the store's replicas
  const auto peer = static_cast<std::uint32_t>(from);
  if (message.holds<ReplEntry>())
    on_entry(node, peer, message.as<ReplEntry>());
  else if (message.holds<ReplBeat>())
    on_beat(node, peer, message.as<ReplBeat>());
  else if (message.holds<ReplAck>())
    on_ack(node, peer, message.as<ReplAck>());
  else if (message.holds<ReplSnapshot>())
    on_snapshot(node, peer, message.as<ReplSnapshot>());
}

void LeaderFollowerStore::answer(sim::Node& node, sim::NodeId to, std::uint64_t call_id,
                                 Outcome outcome, std::uint64_t value) {
  node.send(to, RpcResponse{.call_id = call_id, .outcome = outcome, .value = value});
}

void LeaderFollowerStore::on_client_request(sim::Node& node, const RpcRequest& rpc,
                                            sim::NodeId reply_to, sim::Time invoked) {
  const bool write = rpc.operation == kOpWrite;
  if (rpc.key >= table_.size() || (rpc.operation != kOpRead && !write)) {
    answer(node, reply_to, rpc.call_id, Outcome::Error);  // a bad request
    return;
  }
  const bool here = leader_term_ != 0 || (!write && config_.read_from == ReadFrom::Any);
  if (!here) {
    forward(node, rpc, reply_to, invoked);
    return;
  }
  if (write)
    serve_write(node, rpc, reply_to, invoked);
  else
    serve_read(node, rpc, reply_to, invoked);
}

void LeaderFollowerStore::forward(sim::Node& node, const RpcRequest& rpc, sim::NodeId reply_to,
                                  sim::Time invoked) {
  const std::uint32_t leader = election_ ? election_->leader() : RaftElection::kNone;
  if (leader == RaftElection::kNone || leader == self_ || rpc.hops >= kMaxHops) {
    if (rpc.operation == kOpWrite && measured(node.true_now())) ++writes_failed_;
    answer(node, reply_to, rpc.call_id, Outcome::Error);  // no leader to take it
    return;
  }
  RpcRequest onward = rpc;
  ++onward.hops;
  if (measured(node.true_now())) ++forwards_;
  node.send(nodes_[leader], ReplForward{.rpc = onward, .invoked = invoked, .reply_to = reply_to});
}

void LeaderFollowerStore::serve_read(sim::Node& node, const RpcRequest& rpc, sim::NodeId reply_to,
                                     sim::Time invoked) {
  const sim::Time now = node.true_now();
  if (config_.read_from == ReadFrom::Leader && log_.term_at(commit_) != leader_term_) {
    // A new leader knows what is committed only once an entry of its term is (Raft, section 8).
    answer(node, reply_to, rpc.call_id, Outcome::Error);
    return;
  }
  const std::uint64_t version = table_[rpc.key];
  if (measured(now)) follower_reads_ += leader_term_ == 0;
  group_.checker->read_answered(rpc.key, rpc.origin, invoked, now, version);
  answer(node, reply_to, rpc.call_id, Outcome::Ok, version);
}

void LeaderFollowerStore::serve_write(sim::Node& node, const RpcRequest& rpc, sim::NodeId reply_to,
                                      sim::Time invoked) {
  const std::uint64_t version = log_.append(leader_term_, rpc.key);
  const std::uint64_t index = ReplicationLog::index_of(version);
  if (election_) election_->set_log_length(log_.up_to_date_rank());
  group_.checker->write_versioned(rpc.key, version, invoked);
  pending_.push_back({.index = index,
                      .key = rpc.key,
                      .call_id = rpc.call_id,
                      .reply_to = reply_to,
                      .session = rpc.origin,
                      .invoked = invoked});
  advance_commit(node);  // async: committed at once, and the entry shipped says so
  if (config_.replication_lag == sim::Duration::zero())
    ship(node, index);
  else
    node.set_timer(config_.replication_lag, {kShip, version});
}

// ---- the leader ------------------------------------------------------------------------------

void LeaderFollowerStore::ship(sim::Node& node, std::uint64_t index) {
  if (leader_term_ == 0 || !log_.holds(index)) return;
  shipped_ = std::max(shipped_, index);
  const ReplicationLog::Entry& e = log_.at(index);
  const ReplEntry entry{.term = leader_term_,
                        .key = e.key,
                        .version = e.version,
                        .prev_term = log_.term_at(index - 1),
                        .commit = commit_};
  for (std::uint32_t m = 0; m < nodes_.size(); ++m)
    if (m != self_) node.send(nodes_[m], entry);
}

void LeaderFollowerStore::on_ack(sim::Node& node, std::uint32_t from, const ReplAck& ack) {
  if (leader_term_ == 0 || ack.term != leader_term_) return;
  Follower& f = followers_[from];
  f.heard = true;
  const bool agrees =
      ack.last_index <= log_.last_index() && log_.term_at(ack.last_index) == ack.last_term;
  if (!agrees) {  // entries this log lacks: rebuilt from a snapshot
    f.match = 0;
    send_snapshot(node, from);
    return;
  }
  if (ack.last_index > f.match) {
    f.match = ack.last_index;
    advance_commit(node);
  }
}

void LeaderFollowerStore::send_snapshot(sim::Node& node, std::uint32_t to) {
  Follower& f = followers_[to];
  if (f.snapshot_sent) return;
  f.snapshot_sent = true;
  if (measured(node.true_now())) ++snapshots_;
  node.send(nodes_[to], ReplSnapshot{.term = leader_term_});
}

void LeaderFollowerStore::advance_commit(sim::Node& node) {
  if (leader_term_ == 0) return;
  // The highest index enough followers hold; an entry of an earlier term commits only with one of
  // this term after it (Raft, section 5.4.2: the no-op sees to it).
  std::uint64_t candidate = log_.last_index();
  if (config_.replication != ReplicationMode::Async) {
    const std::size_t needed = config_.replication == ReplicationMode::Sync
                                   ? nodes_.size() - 1
                                   : static_cast<std::size_t>(config_.sync_acks);
    std::vector<std::uint64_t>& matches = match_scratch_;
    matches.clear();
    for (std::uint32_t m = 0; m < nodes_.size(); ++m)
      if (m != self_) matches.push_back(followers_[m].match);
    std::sort(matches.begin(), matches.end(), std::greater<>());
    candidate = needed == 0 ? candidate : std::min(candidate, matches[needed - 1]);
  }
  if (candidate <= commit_ || log_.term_at(candidate) != leader_term_) return;
  commit_ = candidate;
  apply_committed(commit_);
  const sim::Time now = node.true_now();
  while (!pending_.empty() && pending_.front().index <= commit_) {
    const PendingWrite w = pending_.pop_front();
    const std::uint64_t version = ReplicationLog::version(leader_term_, w.index);
    group_.checker->write_acked(w.key, version, w.session, w.invoked, now);
    answer(node, w.reply_to, w.call_id, Outcome::Ok, version);
  }
}

void LeaderFollowerStore::fail_pending(sim::Node& node, Outcome outcome) {
  while (!pending_.empty()) {
    const PendingWrite w = pending_.pop_front();
    if (measured(node.true_now())) ++writes_failed_;
    answer(node, w.reply_to, w.call_id, outcome);
  }
}

void LeaderFollowerStore::on_beat_tick(sim::Node& node) {
  const sim::Time now = node.true_now();
  // Writes waiting longer than ack_timeout are answered; their entries stay.
  while (!pending_.empty() && now - pending_.front().invoked >= config_.ack_timeout) {
    const PendingWrite w = pending_.pop_front();
    if (measured(now)) ++writes_failed_;
    answer(node, w.reply_to, w.call_id, Outcome::Timeout);
  }
  for (std::uint32_t m = 0; m < nodes_.size(); ++m) {
    if (m == self_) continue;
    Follower& f = followers_[m];
    const bool stalled = f.heard && f.match == f.match_at_beat && f.match < shipped_;
    f.match_at_beat = f.match;
    f.heard = false;
    f.snapshot_sent = false;  // at most one per beat: one lost or crashed is sent again
    if (stalled) {
      const std::uint64_t from = f.match + 1;
      if (!log_.holds(from)) {
        send_snapshot(node, m);
      } else {
        const std::uint64_t to = std::min(shipped_, f.match + kResendBurst);
        for (std::uint64_t i = from; i <= to; ++i) {
          const ReplicationLog::Entry& e = log_.at(i);
          node.send(nodes_[m], ReplEntry{.term = leader_term_,
                                         .key = e.key,
                                         .version = e.version,
                                         .prev_term = log_.term_at(i - 1),
                                         .commit = commit_});
        }
        if (measured(now)) resent_ += to - from + 1;
      }
    }
    node.send(nodes_[m],
              ReplBeat{.term = leader_term_, .last_index = log_.last_index(), .commit = commit_});
  }
  node.set_timer(election_ ? config_.election.heartbeat_interval : config_.ack_timeout,
                 {kBeat, beat_epoch_});
}

void LeaderFollowerStore::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (election_ && election_->on_timer(node, tag)) return;
  if (tag.kind == kBeat) {
    if (leader_term_ != 0 && tag.value == beat_epoch_) on_beat_tick(node);
    return;
  }
  DSIM_ASSERT(tag.kind == kShip, "a leader-follower store's timer");
  if (ReplicationLog::term_of(tag.value) == leader_term_)
    ship(node, ReplicationLog::index_of(tag.value));
}

// ---- a follower ------------------------------------------------------------------------------

void LeaderFollowerStore::on_entry(sim::Node& node, std::uint32_t from, const ReplEntry& entry) {
  if (leader_term_ != 0 || !election_ || entry.term < election_->term()) return;  // stale
  const std::uint64_t index = ReplicationLog::index_of(entry.version);
  const std::uint64_t last = log_.last_index();
  if (index <= last) {
    // A duplicate if this log has the same entry there (Log Matching); otherwise the logs
    // diverged, and the acknowledgement tells the leader so.
    send_ack(node, from);
    return;
  }
  if (index > last + 1) {  // a gap: wait for the missing ones in the window, if it fits
    if (index - last <= kReorderWindow) window_[index % kReorderWindow] = entry;
    return;
  }
  if (log_.term_at(last) != entry.prev_term) {  // this log diverged before it
    send_ack(node, from);
    return;
  }
  append_agreed(entry);
  drain_window();
  election_->set_log_length(log_.up_to_date_rank());
  apply_agreed(entry.term, entry.commit);
  send_ack(node, from);
}

void LeaderFollowerStore::append_agreed(const ReplEntry& entry) {
  log_.append_received({entry.key, entry.version});
  agreed_term_ = entry.term;
  agreed_index_ = log_.last_index();
}

void LeaderFollowerStore::drain_window() {
  for (;;) {
    const std::uint64_t next = log_.last_index() + 1;
    ReplEntry& slot = window_[next % kReorderWindow];
    const bool fits = slot.version != 0 && ReplicationLog::index_of(slot.version) == next &&
                      slot.prev_term == log_.last_term() && slot.term == agreed_term_;
    if (!fits) return;
    append_agreed(slot);
    slot = {};
  }
}

void LeaderFollowerStore::on_beat(sim::Node& node, std::uint32_t from, const ReplBeat& beat) {
  if (leader_term_ != 0 || !election_ || beat.term < election_->term()) return;
  apply_agreed(beat.term, beat.commit);
  send_ack(node, from);
}

void LeaderFollowerStore::apply_agreed(std::uint64_t term, std::uint64_t commit) {
  if (term == agreed_term_) apply_committed(std::min(commit, agreed_index_));
}

void LeaderFollowerStore::apply_committed(std::uint64_t commit) {
  commit_ = std::max(commit_, std::min(commit, log_.last_index()));
  while (applied_ < commit_) {
    ++applied_;
    if (!log_.holds(applied_)) continue;  // before a snapshot: already in the table
    const ReplicationLog::Entry& e = log_.at(applied_);
    if (e.key != ReplicationLog::kNoKey) table_[e.key] = std::max(table_[e.key], e.version);
  }
}

void LeaderFollowerStore::send_ack(sim::Node& node, std::uint32_t to) {
  node.send(nodes_[to], ReplAck{.term = election_ ? election_->term() : 1,
                                .last_index = log_.last_index(),
                                .last_term = log_.last_term()});
}

void LeaderFollowerStore::on_snapshot(sim::Node& node, std::uint32_t from,
                                      const ReplSnapshot& snapshot) {
  if (leader_term_ != 0 || !election_ || snapshot.term < election_->term()) return;
  const LeaderFollowerStore& leader = *group_.replicas[from];
  if (leader.leader_term_ != snapshot.term) return;  // deposed since: it will not say so
  // The leader's committed state, as of now (the transfer's size is not modelled).
  table_ = leader.table_;
  log_.reset_to(leader.log_, leader.commit_);
  commit_ = applied_ = leader.commit_;
  agreed_term_ = snapshot.term;
  agreed_index_ = leader.commit_;
  std::fill(window_.begin(), window_.end(), ReplEntry{});
  election_->set_log_length(log_.up_to_date_rank());
  send_ack(node, from);
}

// ---- figures ---------------------------------------------------------------------------------

void LeaderFollowerStore::figures(Figures& out) const {
  out.sum("writes_failed", static_cast<double>(writes_failed_));
  out.sum("follower_reads", static_cast<double>(follower_reads_));
  out.sum("forwards", static_cast<double>(forwards_));
  out.sum("entries_resent", static_cast<double>(resent_));
  out.sum("snapshots", static_cast<double>(snapshots_));
  if (self_ == 0) {
    if (!group_.finished) {
      // The surviving history: the most up-to-date log, the one an election would pick.
      const LeaderFollowerStore* best = group_.replicas[0];
      for (const LeaderFollowerStore* r : group_.replicas)
        if (r->log_.up_to_date_rank() > best->log_.up_to_date_rank()) best = r;
      group_.checker->finish([best](std::uint64_t, std::uint64_t version) {
        return best->log_.term_at(ReplicationLog::index_of(version)) ==
               ReplicationLog::term_of(version);
      });
      group_.finished = true;
    }
    group_.checker->figures(out);
  } else {
    ConsistencyChecker::zero_figures(config_.checker, out);
  }
  if (election_)
    election_->figures(out);
  else
    RaftElection::zero_figures(out);
}

}  // namespace models
