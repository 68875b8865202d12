// An SLO's error budget and burn-rate alerts, computed after a run from its SloTally (what the
// monitoring saw), and the alerts scored against the run's fault schedule.
//
// Reference: the Google SRE Workbook, chapter 5 "Alerting on SLOs". An SLO with objective o has
// the error budget b = 1 - o, a share of the requests that may be bad. The *burn rate* of a
// window is its error fraction divided by b: 1 spends exactly the budget over the SLO period.
// An alert rule (threshold B, long window L, optional short window S) fires while the error
// fraction over the last L exceeds B x b and, when it has a short window, the fraction over the
// last S does too (approach 6, "multiwindow, multi-burn-rate alerts"); without a short window it
// is the single-window burn-rate alert of approach 4, and with B = 1 over a short window the
// plain "error rate above the SLO threshold" of approach 1. For a constant error fraction e
// that starts at t0 (none before) a rule fires at t0 + max(B b L / e, B b S / e), and never
// when e <= B b (tests/validation/slo_alert_test.cpp checks both against dsim runs).
//
// Semantics:
// - Evaluation, like a rule engine's: at the end of every evaluation interval (bucket) from the
//   end of the warm-up on, each rule looks at the last round(L / interval) buckets (at least 1;
//   fewer at the start of the run) and, with a short window, the last round(S / interval). A
//   window with no request has no error fraction: it does not fire. The condition is strict
//   (fraction > B x b), as the Workbook's Prometheus rules write it. Detection time therefore
//   has the resolution of one interval: a rule fires at the first bucket end after its
//   condition holds.
// - A firing starts at the first evaluation at which the condition holds and ends (resolves) at
//   the first at which it no longer does, as a Prometheus alert without a `for` clause: with a
//   short window the alert resolves about S after the errors stop (the short window empties
//   first), without one about L after. A firing still on at the run's end has no end.
// - The error budget of the run: b x the requests that ended after the warm-up (by bucket: a
//   bucket counts when it ends after the warm-up). `budget_consumed` is bad / budget over that
//   span -- the run's mean burn rate; it is the share of the SLO period's budget when the run
//   measures exactly one period. Its series gives the budget consumed by each given time.
// - Incidents: the faults of the run with an end (a crash or pause for a while, a partition,
//   a degraded link, a load spike...; instant faults such as a clock step are not incidents).
//   A fault on a component is recorded per node: records of the same kind with the same start
//   and end are one incident. An incident's window is [start, end + grace); the budget it
//   consumed is the bad requests that ended in the buckets overlapping that window, over the
//   run's budget. An incident that consumed less than `min_incident_budget` is *minor*: no
//   alert is needed for it.
// - Detection: an incident is detected by the first firing (of any rule) that is on at some
//   time in its window; its detection time is the later of the firing's start and the
//   incident's start (0 delay for an alert already firing), and the delay is measured from the
//   incident's start. A significant (not minor) incident without one is *missed*.
// - Each firing is classed by its start: inside some significant incident's window widened by
//   `grace` before its start too, [start - grace, end + grace): a *true* alert; else inside a
//   minor incident's widened window: a *needless* alert (it pages for what the budget can
//   afford); else a *false* alert.
//
// Differences from the Workbook:
// - Time is compressed: a scenario's period is minutes, not 30 days, and rules' windows are
//   given for that period (the loader scales the Workbook's defaults: 1 h is period / 720).
// - Counting is exact per bucket (no scrape interval, no Prometheus rate() extrapolation); a
//   request counts when it ends, as a server-side or client-side counter would after the fact.
// - No `for` clause (the Workbook's approach 3) and no alert grouping or inhibition: each
//   rule's firings are counted on their own, so one incident may draw a page and a ticket.
// - Low traffic is not corrected for (the Workbook's "low-traffic services" advice): a window
//   with a handful of requests fires on a single error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/operations/slo_tally.hpp"
#include "sim/faults.hpp"
#include "sim/time.hpp"

namespace models {

struct AlertRule {
  std::string name;
  std::string severity;  // "page" or "ticket": what a firing does (words for the report)
  double burn_rate = 1;  // B: fires while the error fraction exceeds B x (1 - objective)
  sim::Duration long_window;
  std::optional<sim::Duration> short_window;  // none: a single-window rule
};

struct SloDefinition {
  double objective = 0.999;        // in (0, 1)
  sim::Time measure_from;          // the warm-up's end: alerts are evaluated from then on
  sim::Duration grace;             // an incident's window extends this long past its end
  double min_incident_budget = 0;  // incidents that consumed less are minor
  std::vector<AlertRule> rules;
};

struct Firing {
  sim::Time start;
  std::optional<sim::Time> end;  // none: still firing at the run's end
};

struct RuleResult {
  std::vector<Firing> firings;
  sim::Duration firing_time;  // in all, up to the run's end
};

enum class FiringClass : std::uint8_t { True, Needless, False };

struct IncidentResult {
  std::vector<std::size_t> faults;  // indices in the run's fault records (one per node)
  sim::Time start, end;
  double budget_consumed = 0;
  bool significant = true;
  std::optional<sim::Time> detected;  // none: not detected
  std::size_t detected_by = 0;        // the rule of the detecting firing
};

struct SloResult {
  std::uint64_t good = 0, bad = 0;                // ended after the warm-up
  double budget_consumed = 0;                     // NaN without any request
  std::vector<double> consumed_by;                // at each time asked for
  std::vector<RuleResult> rules;                  // in the definition's order
  std::vector<std::vector<FiringClass>> classes;  // per rule, per firing
  std::vector<IncidentResult> incidents;
  std::size_t alerts = 0, true_alerts = 0, needless_alerts = 0, false_alerts = 0;
  std::size_t significant_incidents = 0, missed_incidents = 0;
  std::optional<sim::Duration> mean_detection_delay;  // over detected significant incidents
  std::optional<sim::Time> first_alert;
};

/// The round(window / interval) buckets a window spans, at least 1.
std::int64_t window_buckets(sim::Duration window, sim::Duration interval);

/// When `rule` fires over `tally`, evaluated at each bucket end from `from` on.
std::vector<Firing> alert_firings(const SloTally& tally, double objective, const AlertRule& rule,
                                  sim::Time from);

/// Everything about one SLO in one run: budget, firings, incidents and their detection.
/// `series_times`: when to give the budget consumed so far (the report windows' ends).
SloResult evaluate_slo(const SloTally& tally, const SloDefinition& slo,
                       const std::vector<sim::FaultRecord>& faults,
                       const std::vector<sim::Time>& series_times);

}  // namespace models
