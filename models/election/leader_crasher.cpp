#include "models/election/leader_crasher.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "models/election/raft_node.hpp"
#include "models/shared/true_time_timer.hpp"
#include "sim/assert.hpp"

namespace models {

std::unique_ptr<Model> LeaderCrasher::make(const Config& config, BuildContext& ctx,
                                           std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "leader crasher replica out of range");
  DSIM_ASSERT(ctx.invariants != nullptr, "a leader crasher reads a raft group's ghost state");
  std::vector<sim::NodeId> members = ctx.resolve(config.target);
  if (members.empty())
    throw std::invalid_argument("target: the raft group '" + config.target.name + "' has no nodes");
  // The group's members may be built after the crasher: the ghost is configured by then.
  RaftGhost& ghost = ctx.invariants->ghost<RaftGhost>(config.target.name);
  sim::Node& node = ctx.cluster.node(ctx.nodes[replica]);
  return std::make_unique<LeaderCrasher>(config, ctx.cluster, std::move(members), ghost,
                                         node.stream("crash"), node.stream("logs"), ctx.warmup_end,
                                         ctx.end);
}

LeaderCrasher::LeaderCrasher(const Config& config, sim::Cluster& cluster,
                             std::vector<sim::NodeId> members, RaftGhost& ghost, sim::Rng rng,
                             sim::Rng log_rng, sim::Time measure_from, sim::Time measure_to)
    : config_(config),
      cluster_(cluster),
      members_(std::move(members)),
      ghost_(ghost),
      rng_(rng),
      log_rng_(log_rng),
      measure_from_(measure_from),
      measure_to_(measure_to) {
  ghost_.watch(*this);
  downtimes_ms_.reserve(config.trials > 0 ? static_cast<std::size_t>(config.trials) : 1024);
  log_lengths_.reserve(members_.size());
}

void LeaderCrasher::on_start(sim::Node& node) {
  DSIM_ASSERT(ghost_.configured() && ghost_.members() == members_.size(),
              "a leader crasher's target is a raft group");
  armed_ = false;
  if (victim_down_) {  // crashed with our victim down: its restart timer is gone
    cluster_.restart(victim_);
    victim_down_ = false;
  }
  check(node);
}

void LeaderCrasher::on_crash(sim::Node& /*node*/) {
  armed_ = false;  // the timers die with the incarnation
}

void LeaderCrasher::on_timer(sim::Node& node, sim::TimerTag tag) {
  switch (tag.kind) {
    case kCheck:
      if (!armed_) check(node);
      return;
    case kCrash:
      crash(node);
      return;
    case kRestart:
      if (victim_down_ && tag.value == started_) {
        cluster_.restart(victim_);
        victim_down_ = false;
        check(node);
      }
      return;
    default:
      DSIM_ASSERT(false, "unknown leader crasher timer");
  }
}

void LeaderCrasher::check(sim::Node& node) {
  if (config_.trials > 0 && started_ >= static_cast<std::uint64_t>(config_.trials)) return;
  if (victim_down_) return;  // its restart calls again
  const sim::Time now = node.true_now();
  if (open_ || !ghost_.has_leader() || ghost_.members_up() < ghost_.members()) {
    set_timer_at_true_time(node, now + sim::Duration::nanoseconds(kPollNs), {kCheck, 0});
    return;
  }
  const sim::Time stable_at = ghost_.leader_since() + config_.stable_for;
  if (stable_at > now) {
    set_timer_at_true_time(node, stable_at, {kCheck, 0});
    return;
  }
  // A uniformly random point of the leader's heartbeat interval, whatever its phase now.
  const auto interval = static_cast<std::uint64_t>(ghost_.heartbeat_interval().ns());
  const sim::Duration offset =
      sim::Duration::nanoseconds(static_cast<std::int64_t>(rng_.below(interval)));
  armed_ = true;
  armed_leader_ = ghost_.leader();
  armed_term_ = ghost_.leader_term();
  set_timer_at_true_time(node, now + offset, {kCrash, 0});
}

void LeaderCrasher::crash(sim::Node& node) {
  armed_ = false;
  const bool same = ghost_.has_leader() && ghost_.leader() == armed_leader_ &&
                    ghost_.leader_term() == armed_term_ && ghost_.members_up() == ghost_.members();
  if (!same) {  // the leader changed meanwhile: drop the trial, wait for a stable one
    check(node);
    return;
  }
  ++started_;
  open_ = true;
  crashed_at_ = node.true_now();
  crashed_term_ = armed_term_;
  victim_ = members_[armed_leader_];
  victim_down_ = true;
  if (config_.distinct_logs) assign_log_lengths(armed_leader_);
  cluster_.crash(victim_);
  set_timer_at_true_time(node, crashed_at_ + config_.down_for, {kRestart, started_});
}

void LeaderCrasher::assign_log_lengths(std::uint32_t victim) {
  log_lengths_.clear();
  for (std::uint64_t l = 1; l < members_.size(); ++l) log_lengths_.push_back(l);
  for (std::size_t i = log_lengths_.size(); i > 1; --i)  // Fisher-Yates
    std::swap(log_lengths_[i - 1], log_lengths_[log_rng_.below(i)]);
  std::size_t next = 0;
  for (std::uint32_t m = 0; m < members_.size(); ++m) {
    // The wiring makes every member a raft_node (the only model that serves "raft").
    auto* member = dynamic_cast<RaftNode*>(cluster_.node(members_[m]).process());
    DSIM_ASSERT(member != nullptr, "a leader crasher's target is a raft_node group");
    member->set_log_length(m == victim ? members_.size() : log_lengths_[next++]);
  }
}

void LeaderCrasher::on_leader_established(std::uint64_t term, std::uint32_t /*member*/,
                                          sim::Time at) {
  if (!open_ || term <= crashed_term_) return;
  open_ = false;
  if (!measured(crashed_at_)) return;
  downtimes_ms_.push_back((at - crashed_at_).millis());
  terms_ += term - crashed_term_;
  split_trials_ += term - crashed_term_ > 1;
}

FigureDocs LeaderCrasher::figure_docs() {
  return {
      {"trials", "trials", Combine::Sum,
       "leader crashes in the measured interval after which a newer leader was established"},
      {"unfinished_trials", "trials", Combine::Sum,
       "leader crashes in the measured interval with no newer leader by the end of the run"},
      {"split_trials", "trials", Combine::Sum,
       "trials that took more than one term (a split vote or a lost election)"},
      {"terms_per_trial", "terms", Combine::Mean,
       "mean terms a trial took to elect a leader (1: the first election won; null without "
       "trials)"},
      {"downtime_mean_ms", "ms", Combine::Max,
       "mean time from a leader's crash to a newer leader established (null without trials)"},
      {"downtime_p50_ms", "ms", Combine::Max, "median downtime (nearest rank)"},
      {"downtime_p90_ms", "ms", Combine::Max, "90th percentile of the downtime (nearest rank)"},
      {"downtime_p99_ms", "ms", Combine::Max, "99th percentile of the downtime (nearest rank)"},
      {"downtime_max_ms", "ms", Combine::Max, "the longest downtime"},
      {"downtime_cdf_ms[i]", "ms", Combine::Max,
       "the downtime's quantile function: [i] is its i-th percentile, i = 0 .. 100 (nearest "
       "rank; [0] the minimum, [100] the maximum), for a CDF"},
  };
}

void LeaderCrasher::figures(Figures& out) const {
  std::vector<double> sorted = downtimes_ms_;
  std::sort(sorted.begin(), sorted.end());
  const double n = static_cast<double>(sorted.size());
  out.sum("trials", n);
  out.sum("unfinished_trials", open_ && measured(crashed_at_) ? 1.0 : 0.0);
  out.sum("split_trials", static_cast<double>(split_trials_));
  out.mean("terms_per_trial", n > 0 ? static_cast<double>(terms_) / n : std::nan(""));
  double total = 0;
  for (const double d : sorted) total += d;
  out.max("downtime_mean_ms", n > 0 ? total / n : std::nan(""));
  out.max("downtime_p50_ms", nearest_rank(sorted, 50));
  out.max("downtime_p90_ms", nearest_rank(sorted, 90));
  out.max("downtime_p99_ms", nearest_rank(sorted, 99));
  out.max("downtime_max_ms", nearest_rank(sorted, 100));
  for (std::size_t i = 0; i < kPercentiles; ++i)
    out.max(indexed_name("downtime_cdf_ms", i), nearest_rank(sorted, static_cast<double>(i)));
}

}  // namespace models
