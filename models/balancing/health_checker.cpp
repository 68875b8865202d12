#include "models/balancing/health_checker.hpp"

#include <algorithm>

#include "models/shared/health.hpp"
#include "sim/assert.hpp"

namespace models {

HealthChecker::HealthChecker(const HealthCheckConfig& config,
                             const std::vector<sim::NodeId>& backends, std::uint32_t tick_kind,
                             std::uint32_t timeout_kind, HealthListener& listener,
                             sim::Time measure_from, sim::Time measure_to)
    : config_(config),
      backends_(backends.size()),
      tick_kind_(tick_kind),
      timeout_kind_(timeout_kind),
      listener_(listener),
      measure_from_(measure_from),
      measure_to_(measure_to) {
  DSIM_ASSERT(tick_kind != timeout_kind, "distinct timer kinds");
  DSIM_ASSERT(!config.enabled ||
                  (config.interval > sim::Duration::zero() &&
                   config.timeout > sim::Duration::zero() && config.timeout <= config.interval),
              "a probe's timeout is positive and at most the interval");
  DSIM_ASSERT(config.unhealthy_threshold >= 1 && config.healthy_threshold >= 1,
              "thresholds are at least 1");
  sim::NodeId top = 0;
  for (const sim::NodeId n : backends) top = std::max(top, n);
  index_of_node_.assign(backends.empty() ? 0 : top + 1, -1);
  for (std::size_t b = 0; b < backends.size(); ++b) {
    backends_[b].node = backends[b];
    index_of_node_[backends[b]] = static_cast<std::int32_t>(b);
  }
}

void HealthChecker::start(sim::Node& node) {
  // Sequence numbers carry on across restarts: a reply to a probe of the previous incarnation
  // must not pass for the answer to a new one.
  for (Backend& b : backends_) b = Backend{.node = b.node, .seq = b.seq};
  if (!config_.enabled) return;
  probe_all(node);
}

void HealthChecker::on_crash() {
  // Timers die with the incarnation; start() resets the rest.
  for (Backend& b : backends_) b.pending = false;
}

void HealthChecker::probe_all(sim::Node& node) {
  for (std::uint32_t b = 0; b < backends_.size(); ++b) probe(node, b);
  node.set_timer(config_.interval, {tick_kind_, 0});
}

void HealthChecker::probe(sim::Node& node, std::uint32_t backend) {
  Backend& b = backends_[backend];
  // With timeout <= interval the previous probe has always been settled; if a tick and a
  // timeout fall on the same instant, settle it here as failed.
  if (b.pending) {
    node.cancel_timer(b.timeout);
    b.pending = false;
    record(node, backend, false);
  }
  ++b.seq;
  b.pending = true;
  node.send(b.node, HealthProbe{.seq = b.seq});
  b.timeout = node.set_timer(config_.timeout,
                             {timeout_kind_, (static_cast<std::uint64_t>(b.seq) << 32) | backend});
}

bool HealthChecker::on_message(sim::Node& node, const sim::Message& message) {
  if (!message.holds<HealthReply>()) return false;
  const auto reply = message.as<HealthReply>();
  const std::int32_t index =
      message.from < index_of_node_.size() ? index_of_node_[message.from] : -1;
  if (index < 0) return true;  // not one of ours: ignore
  const auto backend = static_cast<std::uint32_t>(index);
  Backend& b = backends_[backend];
  if (!b.pending || reply.seq != b.seq) return true;  // late (already failed) or duplicated
  node.cancel_timer(b.timeout);
  b.pending = false;
  record(node, backend, reply.ready != 0);
  return true;
}

bool HealthChecker::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (tag.kind == tick_kind_) {
    probe_all(node);
    return true;
  }
  if (tag.kind != timeout_kind_) return false;
  const auto backend = static_cast<std::uint32_t>(tag.value & 0xffffffffu);
  const auto seq = static_cast<std::uint32_t>(tag.value >> 32);
  DSIM_ASSERT(backend < backends_.size(), "probe timeout of an unknown backend");
  Backend& b = backends_[backend];
  if (b.pending && b.seq == seq) {
    b.pending = false;
    record(node, backend, false);
  }
  return true;
}

void HealthChecker::record(sim::Node& node, std::uint32_t backend, bool success) {
  Backend& b = backends_[backend];
  const bool counted = measured(node.true_now());
  if (success) {
    b.failures = 0;
    ++b.successes;
    if (!b.healthy && b.successes >= config_.healthy_threshold) {
      b.healthy = true;
      listener_.on_health_changed(node, backend, true);
    }
    return;
  }
  failures_ += counted;
  b.successes = 0;
  ++b.failures;
  if (b.healthy && b.failures >= config_.unhealthy_threshold) {
    b.healthy = false;
    marked_unhealthy_ += counted;
    listener_.on_health_changed(node, backend, false);
  }
}

FigureDocs HealthChecker::figure_docs() {
  return {
      {"health_check_failures", "probes", Combine::Sum, "probes that failed or timed out"},
      {"marked_unhealthy", "transitions", Combine::Sum, "times a backend was marked unhealthy"},
  };
}

void HealthChecker::figures(Figures& out) const {
  out.sum("health_check_failures", static_cast<double>(failures_));
  out.sum("marked_unhealthy", static_cast<double>(marked_unhealthy_));
}

}  // namespace models
