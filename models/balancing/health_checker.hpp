// Active health checking, as a load balancer does it (Envoy, HAProxy, an AWS target group).
//
// Every `interval` (on the checker's clock, first at start) the checker sends each backend a
// HealthProbe (models/shared/health.hpp). A probe fails when no reply arrives within `timeout`, or
// the reply says "not ready"; it succeeds when a ready reply arrives in time (a late reply is
// ignored: the probe has already failed). `unhealthy_threshold` consecutive failures take a
// healthy backend out of rotation; `healthy_threshold` consecutive successes bring an unhealthy
// one back. Every backend starts healthy (optimistic: no blackout at start-up), and again after
// the checker's node restarts (its view of the backends is volatile).
//
// So a crashed backend leaves the rotation after between (unhealthy_threshold - 1) x interval +
// timeout and unhealthy_threshold x interval + timeout, and returns between (healthy_threshold -
// 1) x interval and healthy_threshold x interval after it answers again. A paused backend looks
// like a crashed one; a slow one (gray failure) answers probes at once and stays in rotation.
//
// The owner routes messages and timers to it (on_message / on_timer return true when they were
// the checker's) and hears of every change of a backend's health through a HealthListener.
// Disabled, it sends nothing and every backend is healthy. It allocates nothing after set-up.
#pragma once

#include <cstdint>
#include <vector>

#include "models/shared/figures.hpp"
#include "models/shared/params.hpp"
#include "sim/node.hpp"
#include "sim/time.hpp"

namespace models {

struct HealthCheckConfig {
  bool enabled = false;
  sim::Duration interval = sim::Duration::nanoseconds(1'000'000'000);
  sim::Duration timeout = sim::Duration::nanoseconds(100'000'000);
  int unhealthy_threshold = 3;
  int healthy_threshold = 2;

  template <class V>
  void describe(V& v) {
    v.field("enabled", enabled, "probe the backends actively (off: every backend is healthy)");
    v.field("interval", interval, "time between two probes of a backend (> 0)", Limits{1});
    v.field("timeout", timeout,
            "a probe not answered within this time fails (> 0, at most the interval)", Limits{1});
    v.field("unhealthy_threshold", unhealthy_threshold,
            "consecutive failed probes that take a backend out of rotation", Limits{1, 1000});
    v.field("healthy_threshold", healthy_threshold,
            "consecutive successful probes that bring an unhealthy backend back", Limits{1, 1000});
  }
};

/// Told when the checker changes its mind about a backend.
class HealthListener {
 public:
  virtual void on_health_changed(sim::Node& node, std::uint32_t backend, bool healthy) = 0;

 protected:
  ~HealthListener() = default;
};

class HealthChecker {
 public:
  /// `backends`: the nodes checked (indices into it name them to the listener). `tick_kind` and
  /// `timeout_kind`: the kinds of this checker's timers, distinct from the owner's others.
  /// Counts its figures over [measure_from, measure_to].
  HealthChecker(const HealthCheckConfig& config, const std::vector<sim::NodeId>& backends,
                std::uint32_t tick_kind, std::uint32_t timeout_kind, HealthListener& listener,
                sim::Time measure_from, sim::Time measure_to);

  /// Starts (or, after a restart, restarts) checking: all healthy, the first probes now.
  void start(sim::Node& node);
  /// Handles a HealthReply (returns true); anything else is the owner's (returns false).
  bool on_message(sim::Node& node, const sim::Message& message);
  /// Handles the checker's own timers (returns true); others are the owner's (returns false).
  bool on_timer(sim::Node& node, sim::TimerTag tag);
  /// The checker's node crashed: its timers are gone; its view is forgotten at the restart.
  void on_crash();

  bool healthy(std::uint32_t backend) const { return backends_[backend].healthy; }
  bool enabled() const { return config_.enabled; }

  /// health_check_failures (failed probes), marked_unhealthy (backends taken out).
  /// The figures figures() emits.
  static FigureDocs figure_docs();
  void figures(Figures& out) const;

 private:
  struct Backend {
    sim::NodeId node = sim::kNoNode;
    bool healthy = true;
    bool pending = false;  // a probe is out, neither answered nor timed out
    int failures = 0;      // consecutive
    int successes = 0;     // consecutive
    std::uint32_t seq = 0;
    sim::TimerId timeout;
  };

  void probe_all(sim::Node& node);
  void probe(sim::Node& node, std::uint32_t backend);
  void record(sim::Node& node, std::uint32_t backend, bool success);
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  HealthCheckConfig config_;
  std::vector<Backend> backends_;
  std::vector<std::int32_t> index_of_node_;  // NodeId -> backend index, -1: not a backend
  std::uint32_t tick_kind_, timeout_kind_;
  HealthListener& listener_;
  sim::Time measure_from_, measure_to_;
  std::uint64_t failures_ = 0, marked_unhealthy_ = 0;
};

}  // namespace models
