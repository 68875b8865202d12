// Passive outlier detection (Envoy's consecutive-5xx ejection): the balancer watches the
// outcomes of the requests it forwards and ejects a backend that fails too often in a row.
//
// - Every forwarded request that ends reports its outcome. A failure is anything but Ok and
//   RateLimited (Envoy counts 5xx and gateway timeouts, not 429s): Error, Rejected (a 503),
//   Dropped, Timeout (no answer before the balancer's timeout or the caller's deadline).
//   A success resets the backend's count of consecutive failures.
// - `consecutive_failures` failures in a row eject the backend for base_ejection_time x (the
//   number of times it has been ejected, this one included), at most max_ejection_time: a
//   backend that keeps failing stays out longer each time. The count never decays (Envoy
//   decays it while the host stays healthy; dsim runs are short).
// - At most max_ejection_percent % of the backends are ejected at once, but always at least
//   one may be (Envoy's rule). A backend that reaches the threshold when the cap is reached is
//   not ejected (ejections_capped counts it); its next failure tries again.
// - When its time is up the backend returns to rotation with a clean count of failures.
//   Outcomes of requests still in flight to an ejected backend are counted but cannot eject
//   it again while it is out.
// Ejection is volatile: a crash of the balancer's node forgets it (its timers die too).
// Disabled, it ejects nothing. It allocates nothing after set-up.
#pragma once

#include <cstdint>
#include <vector>

#include "models/shared/figures.hpp"
#include "models/shared/params.hpp"
#include "models/shared/rpc.hpp"
#include "sim/node.hpp"
#include "sim/time.hpp"

namespace models {

struct OutlierDetectionConfig {
  bool enabled = false;
  int consecutive_failures = 5;
  sim::Duration base_ejection_time = sim::Duration::nanoseconds(30'000'000'000);
  sim::Duration max_ejection_time = sim::Duration::nanoseconds(300'000'000'000);
  int max_ejection_percent = 10;

  template <class V>
  void describe(V& v) {
    v.field("enabled", enabled, "eject backends whose requests keep failing");
    v.field("consecutive_failures", consecutive_failures,
            "failures in a row (errors, rejections, timeouts) that eject a backend",
            Limits{1, 1e6});
    v.field("base_ejection_time", base_ejection_time,
            "an ejection lasts this times the number of times the backend was ejected (> 0)",
            Limits{1});
    v.field("max_ejection_time", max_ejection_time, "the longest an ejection lasts (> 0)",
            Limits{1});
    v.field("max_ejection_percent", max_ejection_percent,
            "at most this % of the backends ejected at once (but always at least one may be)",
            Limits{0, 100});
  }
};

/// Is this outcome a failure of the backend (for ejection)? All but Ok and RateLimited.
bool counts_against_backend(Outcome outcome);

/// Told when a backend is ejected or returns.
class EjectionListener {
 public:
  virtual void on_ejection_changed(sim::Node& node, std::uint32_t backend, bool ejected) = 0;

 protected:
  ~EjectionListener() = default;
};

class OutlierDetector {
 public:
  /// `timer_kind`: the kind of the ejection-end timers (distinct from the owner's others).
  OutlierDetector(const OutlierDetectionConfig& config, std::size_t backends,
                  std::uint32_t timer_kind, EjectionListener& listener, sim::Time measure_from,
                  sim::Time measure_to);

  /// A request forwarded to `backend` ended with `outcome`.
  void record(sim::Node& node, std::uint32_t backend, Outcome outcome);
  /// Handles the end of an ejection (returns true); other timers are the owner's.
  bool on_timer(sim::Node& node, sim::TimerTag tag);
  /// The node crashed: every ejection and count is forgotten (timers die with the node).
  void on_crash();

  bool ejected(std::uint32_t backend) const { return backends_[backend].ejected; }
  std::size_t ejected_count() const { return ejected_count_; }
  std::uint32_t times_ejected(std::uint32_t backend) const {
    return backends_[backend].times_ejected;
  }
  /// How long the next ejection of `backend` would last.
  sim::Duration next_ejection_time(std::uint32_t backend) const;
  /// The most backends that may be ejected at once.
  std::size_t max_ejected() const;

  /// ejections, ejections_capped.
  /// The figures figures() emits.
  static FigureDocs figure_docs();
  void figures(Figures& out) const;

 private:
  struct Backend {
    bool ejected = false;
    std::uint32_t failures = 0;  // consecutive
    std::uint32_t times_ejected = 0;
  };
  void eject(sim::Node& node, std::uint32_t backend);
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  OutlierDetectionConfig config_;
  std::vector<Backend> backends_;
  std::size_t ejected_count_ = 0;
  std::uint32_t timer_kind_;
  EjectionListener& listener_;
  sim::Time measure_from_, measure_to_;
  std::uint64_t ejections_ = 0, capped_ = 0;
};

}  // namespace models
