// What a monitoring system sees of one SLO: good and bad requests per evaluation interval (a
// "bucket" of fixed width from time 0), by the time each request *ended* -- when its outcome
// is known and a metrics pipeline can count it.
//
// - Which requests: those of one client group (its index in the run's RequestRecorder), or of
//   every group (kAllGroups), whatever time they started (warm-up included: the system ran).
// - Good: the request succeeded (Outcome::Ok) and, for a latency SLO, within `latency`
//   (end - start <= latency, the client's end-to-end latency, retries included). Bad: any
//   other outcome, or a success slower than `latency`.
// - Memory: two counters per bucket, allocated once for the whole run (run length / bucket);
//   counting allocates nothing. A request that ends at or after `end` is not counted.
// The burn-rate alerts and the error budget are computed from the buckets after the run
// (slo_evaluation.hpp): nothing here reacts during the run, so an SLO never changes what a run
// does (its events, its fingerprint).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "models/shared/rpc.hpp"
#include "sim/time.hpp"

namespace models {

class SloTally {
 public:
  static constexpr std::uint32_t kAllGroups = std::numeric_limits<std::uint32_t>::max();

  struct Bucket {
    std::uint64_t good = 0;
    std::uint64_t bad = 0;
  };

  /// Buckets of `interval` (> 0) covering [0, end).
  SloTally(std::uint32_t group, std::optional<sim::Duration> latency, sim::Duration interval,
           sim::Time end);

  /// A request of `group` ended at `ended` with `outcome` after `latency`.
  void record(sim::Time ended, Outcome outcome, sim::Duration latency, std::uint32_t group) {
    if (group_ != kAllGroups && group != group_) return;
    const std::int64_t index = ended.ns() / interval_.ns();
    if (index < 0 || index >= static_cast<std::int64_t>(buckets_.size())) return;
    Bucket& b = buckets_[static_cast<std::size_t>(index)];
    if (outcome == Outcome::Ok && (!latency_ || latency <= *latency_))
      ++b.good;
    else
      ++b.bad;
  }

  std::uint32_t group() const { return group_; }
  std::optional<sim::Duration> latency() const { return latency_; }
  sim::Duration interval() const { return interval_; }
  sim::Time end() const { return end_; }
  const std::vector<Bucket>& buckets() const { return buckets_; }
  /// The end of bucket i (the last one ends at the run's end).
  sim::Time bucket_end(std::size_t i) const;

 private:
  std::uint32_t group_;
  std::optional<sim::Duration> latency_;
  sim::Duration interval_;
  sim::Time end_;
  std::vector<Bucket> buckets_;
};

}  // namespace models
