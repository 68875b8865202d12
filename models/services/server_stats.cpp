#include "models/services/server_stats.hpp"

#include <algorithm>

namespace models {

ServerStats::ServerStats(sim::Time from, sim::Time to) : levels_(from, to) {}

void ServerStats::completed(sim::Time now, sim::Time arrived_at, sim::Time deadline, bool failed) {
  if (!inside(now)) return;
  ++completed_;
  errors_ += failed;
  if (now >= deadline) {
    ++wasted_;
  } else if (!failed) {
    ++good_;
  }
  departed(now, arrived_at);
  if (arrived_at < levels_.from()) return;  // its sojourn began before measuring: not a sample of W
  ++sojourns_;
  sojourn_seconds_ += (now - arrived_at).seconds();
}

void ServerStats::shed(sim::Time now, sim::Time arrived_at) {
  if (!inside(now)) return;
  ++shed_;
  departed(now, arrived_at);
}

void ServerStats::expired(sim::Time now, sim::Time arrived_at) {
  if (!inside(now)) return;
  ++expired_;
  departed(now, arrived_at);
}

void ServerStats::cancelled(sim::Time now, sim::Time arrived_at) {
  if (!inside(now)) return;
  ++cancelled_;
  departed(now, arrived_at);
}

void ServerStats::departed(sim::Time now, sim::Time arrived_at) {
  if (arrived_at < levels_.from()) return;
  ++departures_;
  departure_seconds_ += (now - arrived_at).seconds();
}

void ServerStats::levels(sim::Time now, std::size_t busy, std::size_t queued) {
  levels_.set(now, {static_cast<double>(busy), static_cast<double>(busy + queued),
                    static_cast<double>(queued)});
  if (inside(now)) max_queue_ = std::max(max_queue_, queued);
}

FigureDocs ServerStats::figure_docs() {
  return {
      {"arrivals", "requests", Combine::Sum, "requests that reached the server"},
      {"completed", "requests", Combine::Sum, "requests served to the end (Ok or Error)"},
      {"rejected", "requests", Combine::Sum,
       "answered Rejected at once: the queue was full (or no partition serves the tenant)"},
      {"rate_limited", "requests", Combine::Sum, "answered RateLimited by the token bucket"},
      {"shed", "requests", Combine::Sum, "shed by CoDel at dequeue (answered Rejected)"},
      {"expired", "requests", Combine::Sum,
       "answered Dropped unserved: their deadline had passed (drop_expired)"},
      {"errors", "requests", Combine::Sum,
       "served and answered Error (error_rate, or a poison request's stall)"},
      {"lost_in_crash", "requests", Combine::Sum, "queued or in service when the node crashed"},
      {"cancelled", "requests", Combine::Sum,
       "tied copies removed from the queue unserved: their twin started first"},
      {"wasted_work", "requests", Combine::Sum,
       "served to completion after their deadline: work nobody waited for"},
      {"wasted_fraction", "fraction", Combine::Mean, "wasted_work / completed"},
      {"utilization", "fraction", Combine::Mean, "busy workers / workers, time-averaged"},
      {"mean_in_system", "requests", Combine::Mean, "requests in service or queued, time-averaged"},
      {"mean_in_queue", "requests", Combine::Mean, "requests queued, time-averaged"},
      {"mean_sojourn_ms", "ms", Combine::Mean, "mean time from arrival to completion"},
      {"throughput_per_s", "requests/s", Combine::Sum, "completions per second"},
      {"goodput_per_s", "requests/s", Combine::Sum,
       "Ok completions before their deadline, per second"},
      {"little_lambda_w", "requests", Combine::Mean,
       "admitted rate x mean time in the server: equals mean_in_system (Little's law)"},
      {"max_queue", "requests", Combine::Max, "the longest queue seen"},
      {"waited_fraction", "fraction", Combine::Mean,
       "admitted requests that had to wait for a worker"},
  };
}

void ServerStats::add_figures(Figures& out, int workers) const {
  const double span = (levels_.to() - levels_.from()).seconds();
  const auto per_second = [span](std::uint64_t n) {
    return span > 0 ? static_cast<double>(n) / span : 0.0;
  };
  const auto admitted = static_cast<double>(arrivals_ - rejected_ - rate_limited_);
  const double mean_sojourn = sojourns_ ? sojourn_seconds_ / static_cast<double>(sojourns_) : 0.0;
  const double mean_departure =
      departures_ ? departure_seconds_ / static_cast<double>(departures_) : 0.0;
  out.sum("arrivals", static_cast<double>(arrivals_));
  out.sum("completed", static_cast<double>(completed_));
  out.sum("rejected", static_cast<double>(rejected_));
  out.sum("rate_limited", static_cast<double>(rate_limited_));
  out.sum("shed", static_cast<double>(shed_));
  out.sum("expired", static_cast<double>(expired_));
  out.sum("errors", static_cast<double>(errors_));
  out.sum("lost_in_crash", static_cast<double>(lost_));
  out.sum("cancelled", static_cast<double>(cancelled_));
  out.sum("wasted_work", static_cast<double>(wasted_));
  out.mean("wasted_fraction",
           completed_ ? static_cast<double>(wasted_) / static_cast<double>(completed_) : 0.0);
  out.mean("utilization", levels_.average(kBusy) / workers);
  out.mean("mean_in_system", levels_.average(kInSystem));
  out.mean("mean_in_queue", levels_.average(kInQueue));
  out.mean("mean_sojourn_ms", mean_sojourn * 1e3);
  out.sum("throughput_per_s", per_second(completed_));
  out.sum("goodput_per_s", per_second(good_));
  out.mean("little_lambda_w", span > 0 ? admitted / span * mean_departure : 0.0);
  out.max("max_queue", static_cast<double>(max_queue_));
  out.mean("waited_fraction", admitted > 0 ? static_cast<double>(waited_) / admitted : 0.0);
}

}  // namespace models
