// The fault schedule: faults as verbs (crash, pause, partition, cut, degrade, step, drift,
// slow), each applied at a given true time and, when given a duration, undone after it.
// Every fault applied is recorded with its interval, for reports and timelines.
// A fault on a node strikes its whole machine (cluster.hpp: crash, pause, slow; network.hpp:
// degrade; a clock step or drift moves the machine's one clock): the record names the others.
//
// All scheduling happens before the run (set-up may allocate); applying a fault is an event
// like any other, ordered by (time, sequence) with the model's events.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/cluster.hpp"

namespace sim {

/// One fault as it happened: what, to whom, from when until when (no end: until the run ended).
struct FaultRecord {
  std::string kind;    // "crash", "pause", "partition", "cut", "degrade", "clock_step", ...
  std::string target;  // node or link names, or the partition's groups
  std::string detail;  // parameters in words: "latency x10, loss +0.2"
  Time start;
  std::optional<Time> end;
};

class FaultInjector {
 public:
  explicit FaultInjector(Cluster& cluster);
  ~FaultInjector();
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  /// Crash at `at`; restart after `down_for` if given.
  void crash(Time at, NodeId node, std::optional<Duration> down_for = std::nullopt);
  /// Pause (a GC or VM stall) at `at`; resume after `paused_for` if given.
  void pause(Time at, NodeId node, std::optional<Duration> paused_for = std::nullopt);
  /// Split into groups (see Network::partition); heal after `lasting` if given.
  void partition(Time at, std::vector<std::vector<NodeId>> groups, bool one_way,
                 std::optional<Duration> lasting = std::nullopt);
  /// Cut a directed link (and its reverse if `both_directions`); repair after `lasting`.
  void cut_link(Time at, LinkId link, bool both_directions,
                std::optional<Duration> lasting = std::nullopt);
  /// Latency x `latency_factor` and `extra_loss` on a link (kNoLink: everywhere) or a node.
  void degrade_link(Time at, LinkId link, double latency_factor, double extra_loss,
                    std::optional<Duration> lasting = std::nullopt);
  void degrade_node(Time at, NodeId node, double latency_factor, double extra_loss,
                    std::optional<Duration> lasting = std::nullopt);
  /// Jump the node's wall clock by `by` (an NTP step, either sign).
  void clock_step(Time at, NodeId node, Duration by);
  /// From `at`, the node's clock drifts at `ppm`.
  void clock_drift(Time at, NodeId node, double ppm);
  /// Gray failure: the node works `factor` times slower; back to normal after `lasting`.
  void slow(Time at, NodeId node, double factor, std::optional<Duration> lasting = std::nullopt);

  /// Records a fault applied by someone else (a model-level load spike) for the report, and
  /// later its end (by the index it had in log()).
  void record(FaultRecord record);
  void close_record(std::size_t index, Time end) { log_.at(index).end = end; }

  /// Counts a fault that happened but is not kept in log(): a failure process records only
  /// its first crashes, so that a long run keeps a bounded log (failure_process.hpp).
  void count_unlisted() { ++unlisted_; }

  /// Faults applied so far, in the order they began.
  const std::vector<FaultRecord>& log() const { return log_; }
  /// Faults applied but not in log().
  std::uint64_t unlisted() const { return unlisted_; }

 private:
  struct Planned;
  struct Apply;
  struct Undo;
  void schedule(Time at, std::optional<Duration> lasting, Planned planned);
  void apply(std::size_t index);
  void undo(std::size_t index);
  std::string link_name(LinkId link) const;
  /// The other nodes on `node`'s machine, named, or "" when it is alone.
  std::string machine_peers(NodeId node) const;

  Cluster& cluster_;
  std::vector<Planned> planned_;
  std::vector<FaultRecord> log_;
  std::uint64_t unlisted_ = 0;
};

}  // namespace sim
