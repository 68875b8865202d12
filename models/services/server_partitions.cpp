#include "models/services/server_partitions.hpp"

#include <algorithm>

#include "sim/assert.hpp"

namespace models {

std::vector<ConfigProblem> check_partitions(const std::vector<ServerPartitionConfig>& partitions,
                                            int workers) {
  std::vector<ConfigProblem> problems;
  if (partitions.empty()) return problems;
  if (partitions.size() > kMaxPartitions) {
    problems.push_back({"partitions", "expected at most " + std::to_string(kMaxPartitions) +
                                          " partitions, got " + std::to_string(partitions.size())});
    return problems;
  }
  long long total = 0;
  std::size_t catch_all = partitions.size();
  for (std::size_t i = 0; i < partitions.size(); ++i) {
    const ServerPartitionConfig& p = partitions[i];
    const std::string path = "partitions/" + std::to_string(i) + "/groups";
    total += p.workers;
    if (p.groups.empty()) {
      if (catch_all < partitions.size())
        problems.push_back({path, "expected group names: partition " + std::to_string(catch_all) +
                                      " is already the catch-all (no groups)"});
      else
        catch_all = i;
    }
    for (std::size_t g = 0; g < p.groups.size(); ++g) {
      // The first earlier mention of the same name, in this partition or an earlier one.
      for (std::size_t j = 0; j <= i; ++j) {
        const auto& earlier = partitions[j].groups;
        const auto end = j == i ? earlier.begin() + static_cast<std::ptrdiff_t>(g) : earlier.end();
        if (std::find(earlier.begin(), end, p.groups[g]) == end) continue;
        problems.push_back({path, "group \"" + p.groups[g] + "\" is already served by partition " +
                                      std::to_string(j) + ": a group has one partition"});
        break;
      }
    }
  }
  if (total != workers)
    problems.push_back({"partitions", "the partitions' workers add up to " + std::to_string(total) +
                                          ", expected the server's " + "`workers` (" +
                                          std::to_string(workers) + ")"});
  return problems;
}

TenantRouting::TenantRouting(const std::vector<ServerPartitionConfig>& partitions,
                             const std::function<std::uint32_t(const std::string&)>& tenant_of)
    : otherwise_(kRefused) {
  DSIM_ASSERT(!partitions.empty() && partitions.size() <= kMaxPartitions,
              "partitions are checked before the routing is built");
  std::vector<std::pair<std::uint32_t, std::uint16_t>> named;
  for (std::size_t i = 0; i < partitions.size(); ++i) {
    if (partitions[i].groups.empty()) otherwise_ = static_cast<std::uint16_t>(i);
    for (const std::string& name : partitions[i].groups)
      named.emplace_back(tenant_of(name), static_cast<std::uint16_t>(i));
  }
  std::uint32_t size = 0;
  for (const auto& [tenant, partition] : named) size = std::max(size, tenant + 1);
  table_.assign(size, otherwise_);
  for (const auto& [tenant, partition] : named) table_[tenant] = partition;
}

void PartitionStats::levels(sim::Time now, std::size_t busy, std::size_t queued) {
  levels_.set(now, {static_cast<double>(busy), static_cast<double>(queued)});
  if (inside(now)) max_queue_ = std::max(max_queue_, queued);
}

FigureDocs PartitionStats::figure_docs() {
  return {
      {"partition_arrivals[i]", "requests", Combine::Sum,
       "requests of partition i's tenants that reached the server (partitions)"},
      {"partition_rejected[i]", "requests", Combine::Sum,
       "answered Rejected at once: partition i's queue was full (partitions)"},
      {"partition_utilization[i]", "fraction", Combine::Mean,
       "partition i's busy workers / its workers, time-averaged (partitions)"},
      {"partition_mean_in_queue[i]", "requests", Combine::Mean,
       "requests waiting for partition i's workers, time-averaged (partitions)"},
      {"partition_mean_wait_ms[i]", "ms", Combine::Mean,
       "mean time from arrival to the start of service in partition i (partitions)"},
      {"partition_max_queue[i]", "requests", Combine::Max,
       "the longest queue of partition i (partitions)"},
  };
}

void PartitionStats::add_figures(Figures& out, std::size_t index, int workers) const {
  out.sum(indexed_name("partition_arrivals", index), static_cast<double>(arrivals_));
  out.sum(indexed_name("partition_rejected", index), static_cast<double>(rejected_));
  out.mean(indexed_name("partition_utilization", index), mean_busy() / workers);
  out.mean(indexed_name("partition_mean_in_queue", index), mean_queued());
  out.mean(indexed_name("partition_mean_wait_ms", index), mean_wait_seconds() * 1e3);
  out.max(indexed_name("partition_max_queue", index), static_cast<double>(max_queue_));
}

}  // namespace models
