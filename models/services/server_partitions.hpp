// A server's partitions: bulkheads inside one server. Its workers are split into partitions,
// each serving only the tenants (caller classes) it names, from a queue of its own, so that one
// tenant's flood fills its own partition and leaves the others' workers free.
//
// Semantics (the server, models/services/server.hpp, applies them):
// - `partitions` lists the partitions, in order (partition i's figures are `partition_*[i]`).
//   Each names the groups it serves (`groups`: client `group` labels, or `<group>/<i>` of a
//   client with tenant_per_node) and has its own `workers` and `queue_limit` (by default the
//   server's `queue_limit`). At most one partition names no group: the catch-all, which serves
//   every tenant that no other partition names.
// - A request belongs to its tenant (RpcRequest.tenant, the originating client's group). It is
//   served only by its partition's workers and waits only in its partition's queue, under the
//   server's queue discipline (each partition has its own instance: its own CoDel state, its
//   own adaptive LIFO switch). A tenant that no partition names, with no catch-all, is refused:
//   answered Rejected at once (figure `unpartitioned`, counted in `rejected` too).
// - The partitions' workers add up to the server's `workers` (checked): `workers` stays the
//   server's size, and `utilization` stays busy workers / workers.
// - Shared by all partitions: the rate limiter (before the partition is chosen), the node's
//   slowdown and the contention factor, which counts every request in the server: partitions
//   split the workers (threads), not the machine they run on.
// - Names are resolved to recorder group indices when the server is built (RequestRecorder::
//   group adds a name not seen yet, and a client built later finds the same index). A name that
//   no client uses is not an error: a scenario may keep a partition for a tenant that only some
//   variants run. It serves nothing: the partition's figures show no arrivals, and the report's
//   group table lists the name with no requests, which is where a misspelt name shows.
// - The routing is a flat table from tenant index to partition, built at start-up: nothing is
//   allocated per request. Tenants numbered beyond it (clients built after the server, with
//   names no partition gives) go to the catch-all, or are refused.
//
// Reference: the Bulkhead pattern (Nygard, Release It!, 2nd ed., ch. 4; Microsoft's Azure
// Architecture Center, "Bulkhead pattern": "partition service instances into different groups,
// based on consumer load and availability requirements"), here in its in-process form of a
// thread pool per caller class (as Hystrix's thread-pool isolation, or resilience4j's
// ThreadPoolBulkhead on the server side). Differences:
// - The bulkhead is inside one server, by tenant; Microsoft's pattern also partitions whole
//   instances (see shuffle sharding and cells for that), and Hystrix partitions a client's
//   outgoing calls by dependency rather than a server's work by caller.
// - A partition has a fixed number of workers; there is no borrowing of idle workers from
//   another partition (no work-conserving sharing, no weighted fair queueing): an idle
//   partition's workers stay idle while another's queue grows. That is the price of isolation.
// - Partitions isolate workers and queues only: CPU (slowdown, contention), memory, the rate
//   limiter and the node itself (a crash, a poison request) are shared.
// - resilience4j's SemaphoreBulkhead waits up to maxWaitDuration for a permit; here a request
//   waits in its partition's queue (bounded by queue_limit) as long as it takes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/shared/figures.hpp"
#include "models/shared/model.hpp"
#include "sim/time.hpp"

namespace models {

struct ServerPartitionConfig {
  /// queue_limit's default: the server's own queue_limit.
  static constexpr std::int64_t kServerQueueLimit = -2;

  std::vector<std::string> groups;
  int workers = 1;
  std::int64_t queue_limit = kServerQueueLimit;

  template <class V>
  void describe(V& v) {
    v.field("groups", groups,
            "the groups (tenants) it serves: clients' `group` (or `<group>/<i>` with "
            "tenant_per_node); none: the catch-all, serving every group no other partition names");
    v.field("workers", workers, "its workers (the partitions' workers add up to `workers`)",
            Limits{1, 1e6});
    v.field("queue_limit", queue_limit,
            "requests that may wait for its workers; -1: unbounded, 0: none, -2: the server's "
            "queue_limit",
            Limits{-2, 1e9});
  }
};

/// At most this many partitions (a tenant's partition is a 16-bit index).
inline constexpr std::size_t kMaxPartitions = 256;

/// Problems of a partitions list for a server of `workers` workers (paths relative to the
/// server's component: "partitions/1/groups").
std::vector<ConfigProblem> check_partitions(const std::vector<ServerPartitionConfig>& partitions,
                                            int workers);

/// Which partition serves a tenant: a flat table indexed by tenant.
class TenantRouting {
 public:
  /// The partition of a tenant that no partition serves (no catch-all): refused.
  static constexpr std::uint16_t kRefused = 0xFFFF;

  /// One partition (0) serves every tenant: a server without partitions.
  TenantRouting() = default;
  /// `partitions` (checked), with names turned into tenant indices by `tenant_of`.
  TenantRouting(const std::vector<ServerPartitionConfig>& partitions,
                const std::function<std::uint32_t(const std::string&)>& tenant_of);

  std::uint16_t partition_of(std::uint16_t tenant) const {
    return tenant < table_.size() ? table_[tenant] : otherwise_;
  }

 private:
  std::vector<std::uint16_t> table_;
  std::uint16_t otherwise_ = 0;
};

/// One partition's figures over the measured interval [from, to].
class PartitionStats {
 public:
  PartitionStats(sim::Time from, sim::Time to) : levels_(from, to) {}

  void arrived(sim::Time now) { arrivals_ += inside(now); }
  /// Refused at arrival: its queue was full.
  void rejected(sim::Time now) { rejected_ += inside(now); }
  /// A worker began serving a request that arrived at `arrived_at`.
  void started(sim::Time now, sim::Time arrived_at) {
    if (!inside(now) || arrived_at < levels_.from()) return;
    ++started_;
    wait_seconds_ += (now - arrived_at).seconds();
  }
  /// After every change: the partition's busy workers and waiting requests from `now` on.
  void levels(sim::Time now, std::size_t busy, std::size_t queued);

  /// Mean time from arrival to the start of service, of the services that began inside.
  double mean_wait_seconds() const {
    return started_ ? wait_seconds_ / static_cast<double>(started_) : 0.0;
  }
  double mean_busy() const { return levels_.average(0); }
  double mean_queued() const { return levels_.average(1); }
  std::uint64_t arrivals() const { return arrivals_; }
  std::uint64_t rejections() const { return rejected_; }

  /// The indexed figures (partition_*[i]) add_figures emits.
  static FigureDocs figure_docs();
  void add_figures(Figures& out, std::size_t index, int workers) const;

 private:
  bool inside(sim::Time t) const { return t >= levels_.from() && t <= levels_.to(); }

  std::uint64_t arrivals_ = 0, rejected_ = 0, started_ = 0;
  double wait_seconds_ = 0;
  std::size_t max_queue_ = 0;
  TimeAverages<2> levels_;  // busy workers, waiting requests
};

}  // namespace models
