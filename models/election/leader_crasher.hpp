// A chaos harness that times Raft leader elections, trial after trial, as Ongaro and Ousterhout
// did for Figure 16 of "In Search of an Understandable Consensus Algorithm" (USENIX ATC 2014,
// section 9.3; thesis section 9.4): "we repeatedly crashed the leader of a cluster of five servers
// and timed how long it took to detect the crash and elect a new leader ... The leader was
// crashed uniformly randomly within its heartbeat interval".
//
// It is measurement, not protocol: it reads the raft group's ghost state (RaftGhost, models/
// election/raft_election.hpp) to find the leader -- no member could know that -- and crashes it
// through the cluster.
//
// Semantics, one trial after another:
// 1. Wait until the group `target` has an established leader (a majority has accepted its
//    AppendEntries), has had it for at least `stable_for`, and every member is up (checked
//    when the crasher starts and when its last victim restarts, then every 10 ms while there is
//    no such leader or the last trial has not ended, and at the moment the current leader will
//    have been stable long enough).
// 2. Then crash the leader after a delay drawn uniformly from [0, heartbeat_interval) (the
//    group's, true time; the crasher's stream "crash"): whatever the phase of the leader's
//    heartbeats at step 1, the crash falls at a uniformly random point of its heartbeat interval.
//    If by then the leader has changed (or a member is down), the trial is dropped and step 1
//    starts over.
// 3. The downtime of the trial runs from the crash to the moment a leader of a newer term is
//    established (Ongaro: "until the other servers received the new leader's first heartbeat";
//    here a majority's first). The terms it took (1: the first election won; more: split votes or
//    lost elections) are counted too.
// 4. The crashed leader restarts `down_for` after its crash (with its durable state), whether or
//    not the trial has ended; the next trial waits for it (step 1).
// Up to `trials` trials (0: as many as the run holds); trials whose crash falls in the measured
// interval are counted, those without a new leader by the end of the run as unfinished.
//
// Figures: trials, unfinished_trials, split_trials, terms_per_trial, the downtime's mean, p50,
// p90, p99 and maximum (nearest rank), and its quantile function downtime_cdf_ms[i], i = 0 ..
// 100: the i-th percentile (nearest rank; [0] the minimum, [100] the maximum), so that a plot can
// draw the CDF (analysis/plot.py downtime). Without trials, the downtime figures are null.
//
// Differences from the paper's benchmark:
// - Ongaro's script also "triggered a synchronized broadcast of heartbeat RPCs from the leader
//   before terminating its process"; here every heartbeat is such a broadcast (sent to every
//   member at once), so the crash comes after an ordinary one.
// - The paper gave the servers logs of different lengths so that two of four could not win:
//   with `distinct_logs`, each crash first gives the members logs of distinct lengths (the raft
//   part keeps only a length: RaftElection::set_log_length), the leader the longest and the
//   survivors 1 .. n-1 in a random order (the crasher's stream "logs"), so that only the
//   survivors with the longer logs can collect a majority (the two longest of four); without
//   it, all logs are equal and any survivor can win.
// - The crashes are the crasher's own, applied through the cluster: they are not in the run's
//   fault log (a thousand trials would flood it); the members' state timelines show them
//   ("crashed").
// - A crash of the crasher's own node loses its timers: when it starts again it restarts a leader
//   it had crashed at once, and its trial in progress still ends with the next leader.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/election/raft_election.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"

namespace models {

struct LeaderCrasherConfig {
  static constexpr const char* kSummary =
      "A chaos harness for Raft's Figure 16: once the raft group `target` has had an "
      "established leader for `stable_for` (every member up), crashes it at a uniformly random "
      "point of its heartbeat interval, restarts it after `down_for`, and records the downtime "
      "until a leader of a newer term is established. Repeats for `trials` trials (0: as many as "
      "fit); figures: the downtime's mean, p50, p90, p99, maximum and its quantile function "
      "downtime_cdf_ms[i], and the trials that needed more than one term.";

  ComponentRef target;
  sim::Duration stable_for = sim::Duration::nanoseconds(1'000'000'000);
  sim::Duration down_for = sim::Duration::nanoseconds(500'000'000);
  std::int64_t trials = 0;
  bool distinct_logs = false;

  template <class V>
  void describe(V& v) {
    v.field("target", target, "the raft_node component whose leader is crashed (required)");
    v.field("stable_for", stable_for,
            "a trial's crash waits until the leader has been established this long (and every "
            "member is up)",
            Limits{0});
    v.field("down_for", down_for, "the crashed leader restarts this long after its crash",
            Limits{0});
    v.field("trials", trials, "the most trials to run (0: as many as the run holds)",
            Limits{0, 1e9});
    v.field("distinct_logs", distinct_logs,
            "at each crash, give the members logs of distinct lengths in a random order, the "
            "leader's the longest (as the paper's benchmark did): only survivors with longer logs "
            "can win");
  }
};

class LeaderCrasher : public Model, private RaftWatcher {
 public:
  using Config = LeaderCrasherConfig;
  /// The quantile function's points: downtime_cdf_ms[0] .. [kPercentiles - 1].
  static constexpr std::size_t kPercentiles = 101;

  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);
  static Wiring wiring(const Config& c) {
    return {
        .serves = {},
        .calls = {{"target", c.target, {Protocol::Raft}, "it watches and crashes a raft group"}}};
  }
  static FigureDocs figure_docs();

  LeaderCrasher(const Config& config, sim::Cluster& cluster, std::vector<sim::NodeId> members,
                RaftGhost& ghost, sim::Rng rng, sim::Rng log_rng, sim::Time measure_from,
                sim::Time measure_to);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& /*node*/, const sim::Message& /*message*/) override {}
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;

  /// Downtimes of the counted trials that ended, in ms, in the order they happened.
  const std::vector<double>& downtimes_ms() const { return downtimes_ms_; }

 private:
  enum TimerKind : std::uint32_t { kCheck = 1, kCrash = 2, kRestart = 3 };
  static constexpr std::int64_t kPollNs = 10'000'000;

  void check(sim::Node& node);
  void crash(sim::Node& node);
  /// distinct_logs: the victim's log the longest, the others' 1 .. n-1 shuffled.
  void assign_log_lengths(std::uint32_t victim);
  void on_leader_established(std::uint64_t term, std::uint32_t member, sim::Time at) override;
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  Config config_;
  sim::Cluster& cluster_;
  std::vector<sim::NodeId> members_;
  RaftGhost& ghost_;
  sim::Rng rng_, log_rng_;
  sim::Time measure_from_, measure_to_;
  std::vector<std::uint64_t> log_lengths_;  // distinct_logs: scratch for the shuffle

  bool armed_ = false;  // a crash is scheduled
  std::uint32_t armed_leader_ = 0;
  std::uint64_t armed_term_ = 0;
  bool open_ = false;  // a crash happened; no newer leader yet
  sim::Time crashed_at_;
  std::uint64_t crashed_term_ = 0;
  bool victim_down_ = false;  // the crasher's victim is down, to be restarted
  sim::NodeId victim_ = sim::kNoNode;
  std::uint64_t started_ = 0;  // trials whose crash happened

  std::uint64_t split_trials_ = 0, terms_ = 0;
  std::vector<double> downtimes_ms_;
};

}  // namespace models
