// Leader election as in Raft: the part a model composes to make the members of a group elect one
// leader, term after term (Ongaro and Ousterhout, "In Search of an Understandable Consensus
// Algorithm", USENIX ATC 2014: section 5.2 and Figure 2; Ongaro's thesis, Stanford 2014: section
// 3.4, pre-vote in 9.6, check-quorum in 6.2). Only the election: no log, no replication.
//
// Semantics, for each member (one RaftElection per node; the members are a fixed list of nodes):
// - State: a role (RaftRole: follower, candidate, leader; pre_candidate with `pre_vote`), the
//   current term (currentTerm, from 0) and the vote of that term (votedFor: none or a member).
//   Every member starts as a follower.
// - Election timer, on the member's own monotonic clock (drift makes it fire early or late, a
//   pause late; a step of the wall clock does not move it): armed with a length drawn uniformly
//   from [election_timeout_min, election_timeout_max] (whole nanoseconds, from the member's
//   stream "election") at start, and rearmed with a fresh draw whenever a follower accepts an
//   AppendEntries from the leader of its term, grants a vote, or an election (or pre-vote) starts.
//   It fires on a follower: an election starts; on a candidate: its election ended without a
//   winner (a split vote, or votes lost), a new one starts. With `pre_vote`, either first runs a
//   pre-vote (as etcd does).
// - Election: currentTerm + 1, a vote for itself, RequestVote{term} to every other member, once.
//   A majority of the members (floor(N/2) + 1, itself included; a duplicated reply counts once)
//   makes it leader.
// - Voting: a RequestVote of an older term is refused; one of a newer term first makes the voter
//   a follower of that term with no vote; then the vote is granted if votedFor is none or the
//   candidate and the candidate's log is at least as long as the voter's (Raft's "at least as
//   up-to-date" check; see difference 1),
//   and granting rearms the voter's election timer. So one vote per member per term.
// - Leader: AppendEntries{term} with no entries (a heartbeat) to every other member at once, then
//   every `heartbeat_interval` on its clock. A member accepts one of its term or a newer one
//   (becoming a follower of that term: a candidate of the same term steps down) and answers
//   success; it refuses an older one and answers with its own term.
// - A newer term in any message (request or reply) makes the receiver a follower of that term
//   with no vote: a leader steps down and stops its heartbeats (step_downs).
// - `pre_vote` (thesis 9.6): when the election timer fires, a follower first becomes a
//   pre-candidate and asks every member for a pre-vote for currentTerm + 1 (RequestVote with
//   pre_vote set; nobody changes state for it). A member grants it if that term is newer than its
//   own, it is not the leader, and it has not accepted an AppendEntries from a leader within the
//   last election_timeout_min (on its clock); a refusal carries the member's term, and a newer one
//   makes the pre-candidate a follower of it. With a majority of pre-votes (itself included) the
//   pre-candidate starts a real election; if its timer fires first, it tries another pre-vote. A
//   member cut off from the majority therefore never raises its term, and does not force a leader
//   to step down when it comes back.
// - `check_quorum` (thesis 6.2): a leader records when each member last answered one of its
//   AppendEntries in its term; at each heartbeat, if fewer than a majority (itself included) have
//   answered within the last election_timeout_min, it steps down to follower (quorum_losses). So
//   a leader cut off from the majority stops being one; without it, it leads its term on.
// - Crash: the role, the votes received and the known leader are volatile. currentTerm and
//   votedFor are durable (Raft requires it: "updated on stable storage before responding to
//   RPCs") when `durable_state` is true, the default. With false, a restarted member is back at
//   term 0 with no vote: it can vote twice in a term, and two leaders of one term become possible
//   -- the invariant below reports it. A restarted member is a follower with a fresh timer.
//
// Invariant "one leader per term" (Raft's Election Safety, Figure 3): checked by ghost state
// shared by the members (RaftGhost, models/shared/invariants.hpp: for checking and measuring
// only, never read by the protocol). When a member wins a term that another already won, the run
// reports the violation: "term 7: raft[1] and raft[3] both won it".
//
// Leadership as measured (the ghost's figures, and what a trial harness reads): the cluster has
// a leader while the member that won the highest term so far is "established" -- a majority of
// the members, itself included, have accepted an AppendEntries of that term (it could commit) --
// and it has neither crashed nor stepped down. A leader that is paused or cut off from the others
// still counts until a newer term is won (or check_quorum makes it step down): neither it nor
// the ghost can tell a pause from a slow network. Time without a leader runs from the moment the
// last one crashed, stepped down or was superseded by a newer winner, to the moment the next is
// established (Ongaro measured "until the other servers received the new leader's first
// heartbeat"; here the majority's first).
//
// Figures: per member, elections_started, pre_votes_started, step_downs, quorum_losses (sums)
// and terms_reached (the maximum currentTerm); from the ghost (the group's, the same from every
// member, combined as a maximum): leader_changes, split_votes, leaderless_fraction and the
// leaderless periods' count, p50, p99 and maximum. Counted for what happens in [measure_from,
// measure_to] (true time).
// State timeline "raft" per member: follower, pre_candidate, candidate, leader, and crashed.
// Timers: three kinds from the owner's base kind: base (the election timer), base + 1
// (heartbeats), base + 2 (a durable write done: its reply or RequestVotes go out).
// Messages: RaftRequestVote, RaftVoteReply, RaftAppendEntries, RaftAppendReply (below); the
// protocol "raft", spoken only among the members.
// Steady state allocates nothing (tables sized to the members at set-up; the ghost's per-term
// table grows by doubling, at elections only).
//
// Differences from the paper and the thesis, all of them:
// 1. No log: only election. A member's log is one number, its length, durable, 0 unless a
//    harness sets it (set_log_length: the leader crasher does, to reproduce Figure 16's logs of
//    different lengths); RequestVote carries it as lastLogIndex, all entries of one term, and a
//    voter (or pre-voter) refuses a candidate whose log is shorter than its own (section 5.4.1).
//    AppendEntries carries no entries, prevLogIndex or commit index, and leaves the lengths
//    alone; a new leader appends no no-op entry.
// 2. RPCs are sent once and never retried: a lost RequestVote or reply can cost an election
//    (the next timeout starts another); a lost heartbeat is made up by the next one.
// 3. Writing currentTerm and votedFor to stable storage takes `persist_time` (default 0: no
//    time), the same for every write, and writes do not queue behind each other: a member that
//    changed them for a RequestVote (granted, or a newer term adopted) answers persist_time
//    later, and a candidate sends its RequestVotes persist_time after raising its term. Its
//    in-memory state changes at once (a request arriving meanwhile sees the new term and vote:
//    the safe choice, as in LogCabin and etcd, which answer only after the write). Pre-votes and
//    heartbeats change nothing durable and are answered at once. (The paper's "broadcast time"
//    of about 15 ms was mostly this write: "network round trip plus disk write".)
// 4. Pre-vote: the round number of a pre-vote is carried and echoed, so a late grant of an
//    earlier round does not count in a later one (etcd counts it).
// 5. check_quorum looks back election_timeout_min at every heartbeat (etcd: every election
//    timeout, over the flags of the last one); the thesis leaves the period open.
// 6. Not implemented: ignoring a RequestVote within election_timeout_min of hearing from a
//    leader (thesis 4.2.3, etcd with check_quorum), membership changes, leadership transfer,
//    lease-based reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/shared/figures.hpp"
#include "models/shared/invariants.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/state_timeline.hpp"
#include "sim/node.hpp"
#include "sim/rng.hpp"
#include "sim/time.hpp"

namespace models {

enum class RaftRole : std::uint8_t { Follower, PreCandidate, Candidate, Leader };
const char* to_string(RaftRole role);

/// The `percent`-th percentile of ascending `sorted` by nearest rank: the smallest value with at
/// least percent % of the values at or below it (0: the minimum, 100: the maximum); NaN if empty.
double nearest_rank(const std::vector<double>& sorted, double percent);

struct RaftElectionConfig {
  sim::Duration election_timeout_min = sim::Duration::nanoseconds(150'000'000);
  sim::Duration election_timeout_max = sim::Duration::nanoseconds(300'000'000);
  sim::Duration heartbeat_interval = sim::Duration::nanoseconds(50'000'000);
  bool pre_vote = false;
  bool check_quorum = false;
  bool durable_state = true;
  sim::Duration persist_time = sim::Duration::zero();

  template <class V>
  void describe(V& v) {
    v.field("election_timeout_min", election_timeout_min,
            "shortest election timeout: each timeout is drawn uniformly from [min, max] on the "
            "member's clock (the paper recommends 150ms-300ms)",
            Limits{1});
    v.field("election_timeout_max", election_timeout_max,
            "longest election timeout (>= election_timeout_min; equal: no randomness)", Limits{1});
    v.field("heartbeat_interval", heartbeat_interval,
            "a leader's AppendEntries without entries to every member, this often on its clock "
            "(< election_timeout_min; the paper's measurements use half of it)",
            Limits{1});
    v.field("pre_vote", pre_vote,
            "ask for pre-votes before raising the term (thesis 9.6): a member cut off from the "
            "majority cannot disrupt the leader when it comes back");
    v.field("check_quorum", check_quorum,
            "a leader steps down when fewer than a majority have answered it within "
            "election_timeout_min (thesis 6.2)");
    v.field("durable_state", durable_state,
            "currentTerm and votedFor survive a crash, as Raft requires; false: a restarted member "
            "forgets its vote, and two leaders of one term become possible");
    v.field("persist_time", persist_time,
            "writing currentTerm and votedFor to stable storage: a vote (or a newer term) is "
            "answered, and a candidate's RequestVotes sent, this long after the change (the "
            "paper's 15 ms broadcast time was mostly this disk write); 0: instantaneous");
  }
};

// ---- messages (the protocol "raft") ----------------------------------------------------------

/// A candidate's (or, with pre_vote set, a pre-candidate's) request for a vote in `term`.
struct RaftRequestVote {
  std::uint64_t term = 0;
  std::uint64_t last_log = 0;  // the candidate's log length (see set_log_length)
  std::uint32_t round = 0;     // pre-votes: the pre-candidate's round, echoed in the reply
  std::uint8_t pre_vote = 0;
};

struct RaftVoteReply {
  std::uint64_t term = 0;  // granted pre-vote: the term asked for; otherwise the voter's term
  std::uint32_t round = 0;
  std::uint8_t granted = 0;
  std::uint8_t pre_vote = 0;
};

/// A leader's heartbeat: AppendEntries without entries.
struct RaftAppendEntries {
  std::uint64_t term = 0;
};

struct RaftAppendReply {
  std::uint64_t term = 0;  // the follower's term
  std::uint8_t success = 0;
};

// ---- ghost state -----------------------------------------------------------------------------

/// Told when a group's leader is established (a trial harness that times elections).
class RaftWatcher {
 public:
  virtual void on_leader_established(std::uint64_t term, std::uint32_t member, sim::Time at) = 0;

 protected:
  ~RaftWatcher() = default;
};

/// The view across one group's members that none of them has: who won which term, who leads
/// now, since when, and how long the group went without a leader. Shared by the members through
/// Invariants::ghost (keyed by the component's name); for the invariant and measurements only.
class RaftGhost {
 public:
  static constexpr const char* kInvariant = "one leader per term";

  /// Set up by the first member built (set-up time); the others must agree on the group.
  void configure(const std::string& component, std::vector<std::string> member_names,
                 Invariants* invariants, sim::Duration heartbeat_interval, sim::Time measure_from,
                 sim::Time measure_to);
  bool configured() const { return !names_.empty(); }
  std::size_t members() const { return names_.size(); }
  std::size_t majority() const { return names_.size() / 2 + 1; }
  const std::string& name(std::uint32_t member) const { return names_[member]; }

  // What the members report, at true times.
  void election_started(std::uint64_t term, sim::Time at);
  void won(std::uint64_t term, std::uint32_t member, sim::Time at);
  void accepted(std::uint64_t term, std::uint32_t follower, sim::Time at);
  /// The leader of `term` stepped down or crashed.
  void leader_lost(std::uint64_t term, std::uint32_t member, sim::Time at);
  void member_down(std::uint32_t member);
  void member_up(std::uint32_t member);

  // What a harness reads.
  bool has_leader() const { return established_; }
  /// The established leader (only when has_leader()).
  std::uint32_t leader() const { return static_cast<std::uint32_t>(current_); }
  std::uint64_t leader_term() const { return current_term_; }
  /// When the current leader was established (only when has_leader()).
  sim::Time leader_since() const { return established_at_; }
  std::size_t members_up() const { return up_count_; }
  sim::Duration heartbeat_interval() const { return heartbeat_interval_; }
  /// The member that won `term`, or -1.
  std::int64_t winner(std::uint64_t term) const {
    return term < terms_.size() ? terms_[term].winner : -1;
  }
  void watch(RaftWatcher& watcher) { watchers_.push_back(&watcher); }

  // The group's figures (RaftElection::figures emits them from every member).
  std::uint64_t leader_changes() const;
  std::uint64_t split_votes() const;
  double leaderless_fraction(sim::Time end) const;
  /// Leaderless periods that began in the measured interval and ended, in ms, sorted.
  std::vector<double> leaderless_ms() const;

 private:
  struct Term {
    std::int32_t winner = -1;
    sim::Time election_at = sim::Time::max();  // the first election of the term
    sim::Time won_at = sim::Time::max();
  };

  Term& term_record(std::uint64_t term);
  void establish(sim::Time at);
  void leaderless_from(sim::Time at);
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  std::string component_;
  std::vector<std::string> names_;
  Invariants* invariants_ = nullptr;
  sim::Duration heartbeat_interval_;
  sim::Time measure_from_, measure_to_;
  std::vector<Term> terms_;
  std::uint64_t highest_election_ = 0;
  std::int64_t current_ = -1;  // the winner of the highest term won, while it leads
  std::uint64_t current_term_ = 0;
  std::vector<std::uint8_t> acked_;  // per member: accepted the current leader's AppendEntries
  std::size_t acks_ = 0;
  bool established_ = false;
  sim::Time established_at_;
  sim::Time leaderless_since_;  // while !established_
  sim::Duration leaderless_total_;
  std::vector<double> leaderless_ms_;
  std::vector<std::uint8_t> up_;
  std::size_t up_count_ = 0;
  std::vector<RaftWatcher*> watchers_;
};

// ---- the part --------------------------------------------------------------------------------

/// Told when this member's role changes (a model that acts as leader).
class RaftListener {
 public:
  virtual void on_role_changed(sim::Node& node, RaftRole role, std::uint64_t term) = 0;

 protected:
  ~RaftListener() = default;
};

/// The ghost state of the raft group made of `ctx`'s component, configured by the first member
/// built (every model whose replicas form a raft group calls this from its make()).
RaftGhost& raft_group_ghost(BuildContext& ctx, const RaftElectionConfig& config);

class RaftElection {
 public:
  static constexpr std::uint32_t kTimerKinds = 3;
  static constexpr std::uint32_t kNone = 0xffffffffu;

  /// `members`: the group's nodes, in a fixed order every member shares; `self`: this member's
  /// index in it. `timer_kind`: the first of kTimerKinds kinds, distinct from the owner's.
  /// `ghost`: the group's (configured). `rng`: the member's stream "election".
  RaftElection(const RaftElectionConfig& config, std::vector<sim::NodeId> members,
               std::uint32_t self, std::uint32_t timer_kind, RaftGhost& ghost, sim::Rng rng,
               sim::Time measure_from, sim::Time measure_to, RaftListener* listener = nullptr);
  RaftElection(const RaftElection&) = delete;
  RaftElection& operator=(const RaftElection&) = delete;

  /// At start and after every restart: a follower, with a fresh election timer.
  void start(sim::Node& node);
  /// Handles the raft messages (returns true); anything else is the owner's (false).
  bool on_message(sim::Node& node, const sim::Message& message);
  /// Handles its own timers (returns true); others are the owner's (false).
  bool on_timer(sim::Node& node, sim::TimerTag tag);
  /// The node crashed: volatile state lost; durable state kept if durable_state.
  void on_crash(sim::Node& node);

  /// The length of this member's log (durable; see difference 1): set by a harness.
  void set_log_length(std::uint64_t length) { log_length_ = length; }
  std::uint64_t log_length() const { return log_length_; }

  RaftRole role() const { return role_; }
  std::uint64_t term() const { return term_; }
  /// The member voted for in term(), or kNone.
  std::uint32_t voted_for() const { return voted_for_; }
  /// The member whose AppendEntries of term() this one accepted last (itself when leader), or
  /// kNone.
  std::uint32_t leader() const { return leader_; }
  std::uint32_t self() const { return self_; }
  const RaftElectionConfig& config() const { return config_; }
  const StateTimeline& timeline() const { return timeline_; }

  static FigureDocs figure_docs();
  void figures(Figures& out) const;
  /// figure_docs()'s figures, all zero: for a model whose election is off (one node).
  static void zero_figures(Figures& out);
  /// What describe()'s limits cannot say: min <= max, heartbeat_interval < min (for a model's
  /// check(); the fields named as in describe()).
  static std::vector<ConfigProblem> check(const RaftElectionConfig& config);

 private:
  void on_request_vote(sim::Node& node, std::uint32_t from, const RaftRequestVote& request);
  void on_vote_reply(sim::Node& node, std::uint32_t from, const RaftVoteReply& reply);
  void on_append_entries(sim::Node& node, std::uint32_t from, const RaftAppendEntries& request);
  void on_append_reply(sim::Node& node, std::uint32_t from, const RaftAppendReply& reply);
  void on_election_timeout(sim::Node& node);
  void on_heartbeat_tick(sim::Node& node);
  /// Waits persist_time, then sends `reply` to member `slot` (slot members(): the candidate's
  /// RequestVotes of reply.term, if still running for it).
  void after_persist(sim::Node& node, std::size_t slot, const RaftVoteReply& reply);
  void on_persisted(sim::Node& node, std::uint64_t value);
  void send_vote_requests(sim::Node& node);

  void start_pre_vote(sim::Node& node);
  void start_election(sim::Node& node);
  void become_leader(sim::Node& node);
  /// A newer term: follower of it, no vote.
  void adopt_term(sim::Node& node, std::uint64_t term);
  void become_follower(sim::Node& node);
  void set_role(sim::Node& node, RaftRole role);
  void arm_election_timer(sim::Node& node);
  void broadcast_heartbeat(sim::Node& node);
  void clear_marks(std::vector<std::uint8_t>& marks, std::size_t& count);
  bool heard_from_leader_recently(const sim::Node& node) const;
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  RaftElectionConfig config_;
  std::vector<sim::NodeId> members_;
  std::vector<std::int32_t> member_of_node_;  // NodeId -> member index, -1: not a member
  std::uint32_t self_;
  std::uint32_t election_kind_, heartbeat_kind_;
  RaftGhost& ghost_;
  sim::Rng rng_;
  sim::Time measure_from_, measure_to_;
  RaftListener* listener_;
  StateTimeline timeline_;

  // Durable (with durable_state): currentTerm and votedFor; and the log's length, always.
  std::uint64_t term_ = 0;
  std::uint32_t voted_for_ = kNone;
  std::uint64_t log_length_ = 0;
  // Volatile.
  RaftRole role_ = RaftRole::Follower;
  std::uint32_t leader_ = kNone;
  bool heard_leader_ = false;        // an AppendEntries of a leader accepted in this incarnation
  sim::Time last_leader_contact_;    // monotonic, when heard_leader_
  std::vector<std::uint8_t> votes_;  // per member: granted this election (or pre-vote round)
  std::size_t vote_count_ = 0;
  std::uint32_t pre_vote_round_ = 0;
  std::vector<sim::Time> answered_;  // leader: per member, monotonic time of its last answer
  sim::TimerId election_timer_, heartbeat_timer_;
  bool election_timer_armed_ = false;
  std::uint64_t election_epoch_ = 0;   // names the armed election timer
  std::uint64_t heartbeat_epoch_ = 0;  // names the leadership whose heartbeats tick
  // persist_time: per member, the vote reply waiting for its write (the newest only: an older
  // one is moot), named by a sequence number so that a superseded write's timer sends nothing.
  struct PendingReply {
    RaftVoteReply reply;
    std::uint64_t sequence = 0;  // 0: none waiting
  };
  std::vector<PendingReply> pending_replies_;
  std::uint64_t persist_sequence_ = 0;

  std::uint64_t highest_term_ = 0;  // for terms_reached (a non-durable restart forgets term_)
  std::uint64_t elections_started_ = 0, pre_votes_started_ = 0, step_downs_ = 0, quorum_losses_ = 0;
};

}  // namespace models
