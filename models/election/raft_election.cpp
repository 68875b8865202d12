#include "models/election/raft_election.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "sim/assert.hpp"
#include "sim/time.hpp"

namespace models {

namespace {

// What the member's own monotonic clock reads now (durations the protocol measures).
sim::Time monotonic(const sim::Node& node) {
  return node.clock().monotonic(node.true_now());
}

// The length of [a, b] inside [from, to].
sim::Duration overlap(sim::Time a, sim::Time b, sim::Time from, sim::Time to) {
  const sim::Time lo = std::max(a, from), hi = std::min(b, to);
  return hi > lo ? hi - lo : sim::Duration::zero();
}

}  // namespace

const char* to_string(RaftRole role) {
  switch (role) {
    case RaftRole::Follower:
      return "follower";
    case RaftRole::PreCandidate:
      return "pre_candidate";
    case RaftRole::Candidate:
      return "candidate";
    case RaftRole::Leader:
      return "leader";
  }
  return "?";
}

double nearest_rank(const std::vector<double>& sorted, double percent) {
  if (sorted.empty()) return std::nan("");
  const double n = static_cast<double>(sorted.size());
  const double rank = std::ceil(percent / 100.0 * n);
  const auto index = static_cast<std::size_t>(std::clamp(rank, 1.0, n)) - 1;
  return sorted[index];
}

// ---- RaftGhost -------------------------------------------------------------------------------

void RaftGhost::configure(const std::string& component, std::vector<std::string> member_names,
                          Invariants* invariants, sim::Duration heartbeat_interval,
                          sim::Time measure_from, sim::Time measure_to) {
  DSIM_ASSERT(!member_names.empty(), "a raft group has members");
  if (configured()) {
    DSIM_ASSERT(member_names.size() == names_.size(), "the members of a raft group agree on it");
    return;
  }
  component_ = component;
  names_ = std::move(member_names);
  invariants_ = invariants;
  heartbeat_interval_ = heartbeat_interval;
  measure_from_ = measure_from;
  measure_to_ = measure_to;
  terms_.reserve(1024);
  terms_.resize(1);  // term 0: nobody runs for it
  acked_.assign(names_.size(), 0);
  up_.assign(names_.size(), 0);
  leaderless_ms_.reserve(256);
}

RaftGhost::Term& RaftGhost::term_record(std::uint64_t term) {
  if (term >= terms_.size())
    terms_.resize(std::max<std::size_t>(static_cast<std::size_t>(term) + 1, 2 * terms_.size()));
  return terms_[static_cast<std::size_t>(term)];
}

void RaftGhost::election_started(std::uint64_t term, sim::Time at) {
  Term& t = term_record(term);
  if (t.election_at == sim::Time::max()) t.election_at = at;
  highest_election_ = std::max(highest_election_, term);
}

void RaftGhost::won(std::uint64_t term, std::uint32_t member, sim::Time at) {
  Term& t = term_record(term);
  if (t.winner >= 0 && t.winner != static_cast<std::int32_t>(member)) {
    if (invariants_ != nullptr)
      invariants_->violated({kInvariant, component_, at,
                             "term " + std::to_string(term) + ": " +
                                 names_[static_cast<std::size_t>(t.winner)] + " and " +
                                 names_[member] + " both won it"});
    return;  // the first winner stays the term's leader for the measurements
  }
  if (t.winner < 0) {
    t.winner = static_cast<std::int32_t>(member);
    t.won_at = at;
  }
  if (term <= current_term_) return;      // not newer than the leader known
  if (established_) leaderless_from(at);  // superseded: the new one is not established yet
  established_ = false;
  current_ = member;
  current_term_ = term;
  std::fill(acked_.begin(), acked_.end(), std::uint8_t{0});
  acks_ = 0;
  if (majority() == 1) establish(at);
}

void RaftGhost::accepted(std::uint64_t term, std::uint32_t follower, sim::Time at) {
  if (current_ < 0 || term != current_term_ || established_ || acked_[follower] != 0 ||
      static_cast<std::int64_t>(follower) == current_)
    return;
  acked_[follower] = 1;
  if (++acks_ + 1 >= majority()) establish(at);
}

void RaftGhost::leader_lost(std::uint64_t term, std::uint32_t member, sim::Time at) {
  if (current_ != static_cast<std::int64_t>(member) || term != current_term_) return;
  if (established_) leaderless_from(at);
  established_ = false;
  current_ = -1;
}

void RaftGhost::member_down(std::uint32_t member) {
  if (up_[member] != 0) --up_count_;
  up_[member] = 0;
}

void RaftGhost::member_up(std::uint32_t member) {
  if (up_[member] == 0) ++up_count_;
  up_[member] = 1;
}

void RaftGhost::establish(sim::Time at) {
  established_ = true;
  established_at_ = at;
  leaderless_total_ += overlap(leaderless_since_, at, measure_from_, measure_to_);
  if (measured(leaderless_since_)) leaderless_ms_.push_back((at - leaderless_since_).millis());
  for (RaftWatcher* w : watchers_)
    w->on_leader_established(current_term_, static_cast<std::uint32_t>(current_), at);
}

void RaftGhost::leaderless_from(sim::Time at) {
  established_ = false;
  leaderless_since_ = at;
}

std::uint64_t RaftGhost::leader_changes() const {
  std::uint64_t n = 0;
  for (const Term& t : terms_) n += t.winner >= 0 && measured(t.won_at);
  return n;
}

std::uint64_t RaftGhost::split_votes() const {
  std::uint64_t n = 0;
  for (std::size_t term = 1; term < terms_.size() && term < highest_election_; ++term) {
    const Term& t = terms_[term];
    n += t.winner < 0 && t.election_at != sim::Time::max() && measured(t.election_at);
  }
  return n;
}

double RaftGhost::leaderless_fraction(sim::Time end) const {
  const sim::Time to = std::min(end, measure_to_);
  if (to <= measure_from_) return std::nan("");
  sim::Duration total = leaderless_total_;
  if (!established_) total += overlap(leaderless_since_, to, measure_from_, to);
  return total.seconds() / (to - measure_from_).seconds();
}

std::vector<double> RaftGhost::leaderless_ms() const {
  std::vector<double> sorted = leaderless_ms_;
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

// ---- RaftElection ----------------------------------------------------------------------------

RaftElection::RaftElection(const RaftElectionConfig& config, std::vector<sim::NodeId> members,
                           std::uint32_t self, std::uint32_t timer_kind, RaftGhost& ghost,
                           sim::Rng rng, sim::Time measure_from, sim::Time measure_to,
                           RaftListener* listener)
    : config_(config),
      members_(std::move(members)),
      self_(self),
      election_kind_(timer_kind),
      heartbeat_kind_(timer_kind + 1),
      ghost_(ghost),
      rng_(rng),
      measure_from_(measure_from),
      measure_to_(measure_to),
      listener_(listener),
      timeline_("raft", to_string(RaftRole::Follower)) {
  DSIM_ASSERT(self_ < members_.size(), "a raft member is one of its group");
  DSIM_ASSERT(ghost_.configured() && ghost_.members() == members_.size(),
              "a raft member's ghost state is its group's");
  DSIM_ASSERT(config_.election_timeout_min > sim::Duration::zero() &&
                  config_.election_timeout_min <= config_.election_timeout_max,
              "election timeouts: 0 < min <= max");
  DSIM_ASSERT(config_.heartbeat_interval > sim::Duration::zero(), "heartbeats have a period");
  sim::NodeId top = 0;
  for (const sim::NodeId n : members_) top = std::max(top, n);
  member_of_node_.assign(top + 1, -1);
  for (std::size_t m = 0; m < members_.size(); ++m)
    member_of_node_[members_[m]] = static_cast<std::int32_t>(m);
  votes_.assign(members_.size(), 0);
  answered_.assign(members_.size(), sim::Time::zero());
  pending_replies_.assign(members_.size() + 1, {});  // the last: a candidate's RequestVotes
}

void RaftElection::start(sim::Node& node) {
  role_ = RaftRole::Follower;
  timeline_.set(node.true_now(), to_string(role_));
  leader_ = kNone;
  heard_leader_ = false;
  clear_marks(votes_, vote_count_);
  ghost_.member_up(self_);
  election_timer_armed_ = false;  // a restart has no timer left
  arm_election_timer(node);
}

void RaftElection::on_crash(sim::Node& node) {
  if (role_ == RaftRole::Leader) ghost_.leader_lost(term_, self_, node.true_now());
  ghost_.member_down(self_);
  timeline_.set(node.true_now(), "crashed");
  // The timers die with the incarnation; new epochs make sure none could still count.
  election_timer_armed_ = false;
  ++election_epoch_;
  ++heartbeat_epoch_;
  role_ = RaftRole::Follower;
  leader_ = kNone;
  heard_leader_ = false;
  clear_marks(votes_, vote_count_);
  std::fill(pending_replies_.begin(), pending_replies_.end(), PendingReply{});  // never sent
  if (!config_.durable_state) {
    term_ = 0;
    voted_for_ = kNone;
  }
}

bool RaftElection::on_message(sim::Node& node, const sim::Message& message) {
  const bool raft = message.holds<RaftRequestVote>() || message.holds<RaftVoteReply>() ||
                    message.holds<RaftAppendEntries>() || message.holds<RaftAppendReply>();
  if (!raft) return false;
  const std::int32_t from =
      message.from < member_of_node_.size() ? member_of_node_[message.from] : -1;
  if (from < 0 || static_cast<std::uint32_t>(from) == self_) return true;  // not of the group
  const auto peer = static_cast<std::uint32_t>(from);
  if (message.holds<RaftRequestVote>())
    on_request_vote(node, peer, message.as<RaftRequestVote>());
  else if (message.holds<RaftVoteReply>())
    on_vote_reply(node, peer, message.as<RaftVoteReply>());
  else if (message.holds<RaftAppendEntries>())
    on_append_entries(node, peer, message.as<RaftAppendEntries>());
  else
    on_append_reply(node, peer, message.as<RaftAppendReply>());
  return true;
}

bool RaftElection::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (tag.kind == election_kind_) {
    if (election_timer_armed_ && tag.value == election_epoch_) on_election_timeout(node);
    return true;
  }
  if (tag.kind == heartbeat_kind_) {
    if (role_ == RaftRole::Leader && tag.value == heartbeat_epoch_) on_heartbeat_tick(node);
    return true;
  }
  if (tag.kind == heartbeat_kind_ + 1) {
    on_persisted(node, tag.value);
    return true;
  }
  return false;
}

// ---- messages --------------------------------------------------------------------------------

void RaftElection::on_request_vote(sim::Node& node, std::uint32_t from,
                                   const RaftRequestVote& request) {
  if (request.pre_vote != 0) {
    // Nobody changes state for a pre-vote; a refusal tells the pre-candidate our term.
    const bool grant = request.term > term_ && request.last_log >= log_length_ &&
                       role_ != RaftRole::Leader && !heard_from_leader_recently(node);
    node.send(members_[from], RaftVoteReply{.term = grant ? request.term : term_,
                                            .round = request.round,
                                            .granted = grant ? std::uint8_t{1} : std::uint8_t{0},
                                            .pre_vote = 1});
    return;
  }
  const bool newer = request.term > term_;
  if (newer) adopt_term(node, request.term);
  const bool grant = request.term == term_ && (voted_for_ == kNone || voted_for_ == from) &&
                     request.last_log >= log_length_;
  if (grant) {
    voted_for_ = from;  // durable: written before the reply
    arm_election_timer(node);
  }
  const RaftVoteReply reply{.term = term_, .granted = grant ? std::uint8_t{1} : std::uint8_t{0}};
  if ((newer || grant) && config_.persist_time > sim::Duration::zero())
    after_persist(node, from, reply);
  else
    node.send(members_[from], reply);
}

void RaftElection::after_persist(sim::Node& node, std::size_t slot, const RaftVoteReply& reply) {
  pending_replies_[slot] = {reply, ++persist_sequence_};
  node.set_timer(config_.persist_time,
                 {heartbeat_kind_ + 1, persist_sequence_ * pending_replies_.size() + slot});
}

void RaftElection::on_persisted(sim::Node& node, std::uint64_t value) {
  const std::uint64_t slot = value % pending_replies_.size();
  PendingReply& pending = pending_replies_[slot];
  if (pending.sequence != value / pending_replies_.size()) return;  // superseded, or crashed
  pending.sequence = 0;
  if (slot < members_.size())
    node.send(members_[slot], pending.reply);
  else if (role_ == RaftRole::Candidate && term_ == pending.reply.term)
    send_vote_requests(node);  // still running for the term it wrote
}

void RaftElection::send_vote_requests(sim::Node& node) {
  for (std::uint32_t m = 0; m < members_.size(); ++m)
    if (m != self_) node.send(members_[m], RaftRequestVote{.term = term_, .last_log = log_length_});
}

void RaftElection::on_vote_reply(sim::Node& node, std::uint32_t from, const RaftVoteReply& reply) {
  if (reply.pre_vote != 0) {
    if (reply.granted == 0) {
      if (reply.term > term_) adopt_term(node, reply.term);
      return;
    }
    if (role_ != RaftRole::PreCandidate || reply.round != pre_vote_round_ ||
        reply.term != term_ + 1 || votes_[from] != 0)
      return;
    votes_[from] = 1;
    if (++vote_count_ >= ghost_.majority()) start_election(node);
    return;
  }
  if (reply.term > term_) {
    adopt_term(node, reply.term);
    return;
  }
  if (role_ != RaftRole::Candidate || reply.term != term_ || reply.granted == 0 ||
      votes_[from] != 0)
    return;
  votes_[from] = 1;
  if (++vote_count_ >= ghost_.majority()) become_leader(node);
}

void RaftElection::on_append_entries(sim::Node& node, std::uint32_t from,
                                     const RaftAppendEntries& request) {
  if (request.term < term_) {
    node.send(members_[from], RaftAppendReply{.term = term_, .success = 0});
    return;
  }
  if (request.term > term_) adopt_term(node, request.term);
  if (role_ == RaftRole::Leader) {
    // Another leader of this term: Election Safety is broken (the ghost has reported it when
    // the second one won). Keep leading; refuse.
    node.send(members_[from], RaftAppendReply{.term = term_, .success = 0});
    return;
  }
  if (role_ != RaftRole::Follower) set_role(node, RaftRole::Follower);
  leader_ = from;
  heard_leader_ = true;
  last_leader_contact_ = monotonic(node);
  arm_election_timer(node);
  ghost_.accepted(term_, self_, node.true_now());
  node.send(members_[from], RaftAppendReply{.term = term_, .success = 1});
}

void RaftElection::on_append_reply(sim::Node& node, std::uint32_t from,
                                   const RaftAppendReply& reply) {
  if (reply.term > term_) {
    adopt_term(node, reply.term);
    return;
  }
  if (role_ == RaftRole::Leader && reply.term == term_) answered_[from] = monotonic(node);
}

// ---- timers ----------------------------------------------------------------------------------

void RaftElection::on_election_timeout(sim::Node& node) {
  election_timer_armed_ = false;
  switch (role_) {
    case RaftRole::Follower:
    case RaftRole::PreCandidate:
    case RaftRole::Candidate:  // a split vote (or a lost one): try again
      if (config_.pre_vote)
        start_pre_vote(node);
      else
        start_election(node);
      return;
    case RaftRole::Leader:
      return;  // a leader arms no election timer
  }
}

void RaftElection::on_heartbeat_tick(sim::Node& node) {
  if (config_.check_quorum) {
    const sim::Time now = monotonic(node);
    std::size_t heard = 1;  // itself
    for (std::uint32_t m = 0; m < members_.size(); ++m)
      if (m != self_ && now - answered_[m] <= config_.election_timeout_min) ++heard;
    if (heard < ghost_.majority()) {
      quorum_losses_ += measured(node.true_now());
      become_follower(node);
      return;
    }
  }
  broadcast_heartbeat(node);
}

// ---- transitions -----------------------------------------------------------------------------

void RaftElection::start_pre_vote(sim::Node& node) {
  set_role(node, RaftRole::PreCandidate);
  leader_ = kNone;
  ++pre_vote_round_;
  clear_marks(votes_, vote_count_);
  votes_[self_] = 1;
  vote_count_ = 1;
  pre_votes_started_ += measured(node.true_now());
  arm_election_timer(node);
  if (vote_count_ >= ghost_.majority()) {
    start_election(node);
    return;
  }
  for (std::uint32_t m = 0; m < members_.size(); ++m)
    if (m != self_)
      node.send(
          members_[m],
          RaftRequestVote{
              .term = term_ + 1, .last_log = log_length_, .round = pre_vote_round_, .pre_vote = 1});
}

void RaftElection::start_election(sim::Node& node) {
  ++term_;
  voted_for_ = self_;
  leader_ = kNone;
  set_role(node, RaftRole::Candidate);
  clear_marks(votes_, vote_count_);
  votes_[self_] = 1;
  vote_count_ = 1;
  ghost_.election_started(term_, node.true_now());
  elections_started_ += measured(node.true_now());
  highest_term_ = std::max(highest_term_, term_);
  arm_election_timer(node);
  if (vote_count_ >= ghost_.majority()) {
    become_leader(node);
    return;
  }
  if (config_.persist_time > sim::Duration::zero())
    after_persist(node, members_.size(), RaftVoteReply{.term = term_});  // then ask everyone
  else
    send_vote_requests(node);
}

void RaftElection::become_leader(sim::Node& node) {
  if (election_timer_armed_) node.cancel_timer(election_timer_);
  election_timer_armed_ = false;
  ++election_epoch_;
  leader_ = self_;
  const sim::Time now = monotonic(node);
  std::fill(answered_.begin(), answered_.end(), now);  // check_quorum: a fresh start
  ghost_.won(term_, self_, node.true_now());
  set_role(node, RaftRole::Leader);
  ++heartbeat_epoch_;
  broadcast_heartbeat(node);
}

void RaftElection::adopt_term(sim::Node& node, std::uint64_t term) {
  DSIM_ASSERT(term > term_, "a term is adopted only when newer");
  if (role_ != RaftRole::Follower) become_follower(node);  // in the old term
  term_ = term;
  highest_term_ = std::max(highest_term_, term_);
  voted_for_ = kNone;
  leader_ = kNone;
}

void RaftElection::become_follower(sim::Node& node) {
  if (role_ == RaftRole::Leader) {
    node.cancel_timer(heartbeat_timer_);
    ++heartbeat_epoch_;
    ghost_.leader_lost(term_, self_, node.true_now());
    step_downs_ += measured(node.true_now());
    leader_ = kNone;
  }
  set_role(node, RaftRole::Follower);
  if (!election_timer_armed_) arm_election_timer(node);
}

void RaftElection::set_role(sim::Node& node, RaftRole role) {
  if (role_ == role) return;
  role_ = role;
  timeline_.set(node.true_now(), to_string(role));
  if (listener_ != nullptr) listener_->on_role_changed(node, role, term_);
}

void RaftElection::arm_election_timer(sim::Node& node) {
  if (election_timer_armed_) node.cancel_timer(election_timer_);
  const std::int64_t spread = (config_.election_timeout_max - config_.election_timeout_min).ns();
  const sim::Duration timeout =
      config_.election_timeout_min + sim::Duration::nanoseconds(static_cast<std::int64_t>(
                                         rng_.below(static_cast<std::uint64_t>(spread) + 1)));
  ++election_epoch_;
  election_timer_ = node.set_timer(timeout, {election_kind_, election_epoch_});
  election_timer_armed_ = true;
}

void RaftElection::broadcast_heartbeat(sim::Node& node) {
  for (std::uint32_t m = 0; m < members_.size(); ++m)
    if (m != self_) node.send(members_[m], RaftAppendEntries{.term = term_});
  heartbeat_timer_ =
      node.set_timer(config_.heartbeat_interval, {heartbeat_kind_, heartbeat_epoch_});
}

void RaftElection::clear_marks(std::vector<std::uint8_t>& marks, std::size_t& count) {
  std::fill(marks.begin(), marks.end(), std::uint8_t{0});
  count = 0;
}

bool RaftElection::heard_from_leader_recently(const sim::Node& node) const {
  return heard_leader_ && monotonic(node) - last_leader_contact_ < config_.election_timeout_min;
}

// ---- figures and checks ----------------------------------------------------------------------

FigureDocs RaftElection::figure_docs() {
  return {
      {"elections_started", "elections", Combine::Sum,
       "elections started (a term raised by a candidate): a timeout, or a split vote retried"},
      {"pre_votes_started", "rounds", Combine::Sum,
       "pre-vote rounds started (pre_vote; a round that wins starts an election)"},
      {"step_downs", "transitions", Combine::Sum,
       "leaders that stepped down while up (a newer term seen, or check_quorum)"},
      {"quorum_losses", "transitions", Combine::Sum,
       "leaders that stepped down because fewer than a majority answered within "
       "election_timeout_min (check_quorum)"},
      {"terms_reached", "term", Combine::Max, "the highest term any member reached"},
      {"leader_changes", "leaders", Combine::Max,
       "terms won (a leader elected; the same member winning again counts); the group's"},
      {"split_votes", "elections", Combine::Max,
       "terms in which an election started and nobody won (split votes, and elections that "
       "could not reach a majority); the group's, the last term excluded"},
      {"leaderless_fraction", "fraction", Combine::Max,
       "share of the measured time without an established leader (the group's)"},
      {"leaderless_periods", "periods", Combine::Max,
       "periods without an established leader that began in the measured interval and ended"},
      {"leaderless_p50_ms", "ms", Combine::Max,
       "median length of those periods (null without any)"},
      {"leaderless_p99_ms", "ms", Combine::Max,
       "99th percentile (nearest rank) of those periods (null without any)"},
      {"leaderless_max_ms", "ms", Combine::Max, "the longest of those periods (null without any)"},
  };
}

void RaftElection::figures(Figures& out) const {
  out.sum("elections_started", static_cast<double>(elections_started_));
  out.sum("pre_votes_started", static_cast<double>(pre_votes_started_));
  out.sum("step_downs", static_cast<double>(step_downs_));
  out.sum("quorum_losses", static_cast<double>(quorum_losses_));
  out.max("terms_reached", static_cast<double>(highest_term_));
  out.max("leader_changes", static_cast<double>(ghost_.leader_changes()));
  out.max("split_votes", static_cast<double>(ghost_.split_votes()));
  out.max("leaderless_fraction", ghost_.leaderless_fraction(measure_to_));
  const std::vector<double> periods = ghost_.leaderless_ms();
  out.max("leaderless_periods", static_cast<double>(periods.size()));
  out.max("leaderless_p50_ms", nearest_rank(periods, 50));
  out.max("leaderless_p99_ms", nearest_rank(periods, 99));
  out.max("leaderless_max_ms", nearest_rank(periods, 100));
}

void RaftElection::zero_figures(Figures& out) {
  for (const FigureDoc& doc : figure_docs()) {
    if (doc.combine == Combine::Sum) out.sum(doc.name, 0);
    if (doc.combine == Combine::Mean) out.mean(doc.name, 0);
    if (doc.combine == Combine::Max) out.max(doc.name, 0);
  }
}

std::vector<ConfigProblem> RaftElection::check(const RaftElectionConfig& c) {
  std::vector<ConfigProblem> problems;
  if (c.election_timeout_max < c.election_timeout_min)
    problems.push_back({"election_timeout_max", "expected at least election_timeout_min (" +
                                                    sim::format_duration(c.election_timeout_min) +
                                                    "), got " +
                                                    sim::format_duration(c.election_timeout_max)});
  if (c.heartbeat_interval >= c.election_timeout_min)
    problems.push_back({"heartbeat_interval", "expected less than election_timeout_min (" +
                                                  sim::format_duration(c.election_timeout_min) +
                                                  "), got " +
                                                  sim::format_duration(c.heartbeat_interval) +
                                                  ": followers would time out between heartbeats"});
  return problems;
}

RaftGhost& raft_group_ghost(BuildContext& ctx, const RaftElectionConfig& config) {
  DSIM_ASSERT(ctx.invariants != nullptr, "a raft group needs the run's invariant checks");
  RaftGhost& ghost = ctx.invariants->ghost<RaftGhost>(ctx.component);
  if (!ghost.configured()) {
    std::vector<std::string> names;
    for (const sim::NodeId n : ctx.nodes) names.push_back(ctx.cluster.node(n).name());
    ghost.configure(ctx.component, std::move(names), ctx.invariants, config.heartbeat_interval,
                    ctx.warmup_end, ctx.end);
  }
  return ghost;
}

}  // namespace models
