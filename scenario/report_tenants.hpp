// The report's tenant summary: how many client groups (tenants) a run had, how many of them
// were affected (at least one request failed among those started after the warm-up) and how
// many untouched, and how badly the worst one fared. A fault contained by bulkheads, shuffle
// shards or cells shows as few affected tenants, however bad it was for them.
#pragma once

#include <string>
#include <vector>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"

namespace scenario {

/// One run: {"tenants", "tenants_affected", "tenants_untouched", "worst_availability",
/// "worst_group"}. A group without requests is untouched and has no availability; the worst
/// is the lowest availability among the others (null, and worst_group null, when none has any).
Json run_tenants(const RunResult& run);
/// A variant, from its runs' tenant summaries and its groups (the variant's "groups", averaged
/// over the seeds): {"summary": the mean of each number over the seeds, "ci95": their Student t
/// intervals, "worst_group": the group whose availability averaged over the seeds is lowest}.
Json variant_tenants(const std::vector<Json>& runs, const Json& groups);
/// The table's line for a variant's tenants, shown instead of a row per group when there are
/// more than kTenantRowsMax groups: "  52 tenants: 12 affected ±1.2, 40 untouched; worst
/// availability 93.100 % (clients/17)".
std::string tenants_line(const Json& variant);

/// The most groups the table shows a row each for.
inline constexpr std::size_t kTenantRowsMax = 8;

}  // namespace scenario
