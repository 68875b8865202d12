// A failure process: random crashes and repairs that go on for the whole run. Each of its nodes
// independently alternates up and down (an alternating renewal process): up for a time to
// failure drawn from one distribution, then crashed for a time to repair drawn from another,
// then restarted, and so on until the run ends or the process stops. The crash is an ordinary
// crash (Cluster::crash: volatile state, timers and arriving messages lost); the restart runs
// the model's on_start again with what it declared durable.
//
// Semantics, per node, from `start`:
// - Times are drawn lazily: the next time to failure when the process starts and at every
//   repair (or skipped failure), the time to repair when the node fails. Each node has one
//   pending event at a time; nothing is planned ahead, and nothing allocates per event once
//   the log cap below is reached.
// - Every drawn time is at least 1 ns (a smaller draw, a 0 or a negative normal, is raised to
//   1 ns), so a distribution that can yield 0 never makes an endless loop at one instant. The
//   scenario loader further requires a mean time to failure of at least 1 ms
//   (kMinMeanTimeToFailure). A draw beyond the end of representable time means "never".
// - Draws come from two streams of the node, "<name>/time_to_failure" and
//   "<name>/time_to_repair" (Node::stream): a process on one component changes nobody else's
//   draws, and a variant that changes only the repair distribution keeps the failure draws.
// - Other faults and models may crash and restart the same node. The rules:
//   (a) a failure that comes due while the node is crashed (by someone else) is skipped:
//       nothing happens but a count (`skipped`), and the next time to failure is drawn from then;
//   (b) the process restarts only a node it crashed itself, and only if that crash is still the
//       node's current one (still crashed, same incarnation). If someone restarted the node
//       earlier, or restarted and crashed it again, the process leaves it as it is. Either way
//       the next time to failure is drawn from the repair time.
//   A paused node can fail (the crash ends the pause, as Cluster::crash does).
// - `stop` (optional): no failure or repair happens at or after it; a node down by the
//   process's own crash at that moment is restarted then.
// - Each crash is recorded in the fault log (kind "crash", the node's name, detail `label`),
//   ending at the process's repair time (or its stop; no end if the run ended first). Only the
//   first `logged_crashes` crashes of the process are recorded; later ones are counted as
//   unlisted in the FaultInjector, so that a long run keeps a bounded log and report.
// - Figures are ground truth, not the process's bookkeeping: per node, the fraction of the
//   measured interval [from, to] the node was not crashed, whoever crashed it
//   (Node::time_crashed; a paused node counts as up), and the failures the process caused and
//   skipped in [from, to).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/cluster.hpp"
#include "sim/distribution.hpp"
#include "sim/faults.hpp"

namespace sim {

class FailureProcess {
 public:
  /// The smallest mean time to failure the scenario loader accepts: at most about one failure
  /// per millisecond per node, however the distribution is written.
  static constexpr Duration kMinMeanTimeToFailure = Duration::nanoseconds(1'000'000);
  /// The smallest time ever drawn.
  static constexpr Duration kMinDraw = Duration::nanoseconds(1);

  struct Options {
    Distribution time_to_failure;  // of nanoseconds, as every duration distribution
    Distribution time_to_repair;
    Time start = Time::zero();
    std::optional<Time> stop;        // none: until the run ends
    std::string name = "failures";   // names its random streams (see above)
    std::string label = "failures";  // the detail of its log records
    std::size_t logged_crashes = 1000;
  };

  /// One node's figures over the measured interval.
  struct NodeFigures {
    NodeId node = kNoNode;
    double up_fraction = 1;      // of [from, to] not crashed
    std::uint64_t failures = 0;  // crashes the process caused
    std::uint64_t skipped = 0;   // failures due while the node was already down
  };

  /// Set-up: draws each node's first time to failure and schedules it.
  FailureProcess(Cluster& cluster, FaultInjector& faults, std::vector<NodeId> nodes,
                 Options options);
  FailureProcess(const FailureProcess&) = delete;
  FailureProcess& operator=(const FailureProcess&) = delete;

  /// Figures count [from, to] (from < to). Call once, before the run passes `from`.
  void measure(Time from, Time to);
  /// Once the run has reached `to`: one entry per node, in the order given.
  std::vector<NodeFigures> figures() const;
  /// The renewal theorem's long-run up fraction E[TTF] / (E[TTF] + E[TTR]).
  double expected_up_fraction() const;
  const Options& options() const { return options_; }

 private:
  static constexpr std::size_t kNoRecord = static_cast<std::size_t>(-1);
  struct PerNode {
    NodeId id;
    Rng failure_rng;
    Rng repair_rng;
    EventId next;                   // the pending failure or repair
    bool down = false;              // crashed by the process, its repair pending
    std::uint32_t incarnation = 0;  // the node's incarnation right after that crash
    std::size_t record = kNoRecord;
    Duration crashed_before_from;  // Node::time_crashed at `from`
    std::uint64_t failures = 0;
    std::uint64_t skipped = 0;
  };
  struct Fail;
  struct Repair;
  struct Stop;
  struct Look;

  void schedule_failure(std::uint32_t i, Time from);
  void fail(std::uint32_t i);
  void repair(std::uint32_t i);
  void end_crash(PerNode& n);
  void stop();
  void look();
  bool measured(Time t) const { return t >= from_ && t < to_; }

  Cluster& cluster_;
  FaultInjector& faults_;
  Options options_;
  std::vector<PerNode> nodes_;
  std::size_t logged_ = 0;
  Time from_ = Time::zero();
  Time to_ = Time::max();
};

}  // namespace sim
