// Burn-rate alerts against the Google SRE Workbook's closed forms (chapter 5, "Alerting on
// SLOs"): with an error budget b = 1 - objective and a constant error fraction e from t0 on
// (none before, the same traffic throughout), a rule with threshold B, long window L and short
// window S fires at
//     t0 + max(B b L / e, B b S / e)          (the long window decides, as S < L)
// and never when e < B b; once the errors stop at t1, a single-window rule resolves at
//     t1 + L (1 - B b / e)
// and a multiwindow rule at t1 + S (1 - B b / e) (its short window empties first).
//
// The runs: clients of one group "users" send λ = 2000 requests/s in all (Poisson): "fine"
// to a healthy server until t0, then λ(1 - e), and "broken" λ e from t0 to a server whose every
// answer is an error, so that the error fraction steps from 0 to e at t0 and back at t1. A
// request ends 1 ms after it starts (constant service, no network delay): the monitoring sees
// each outcome 1 ms late.
//
// Tolerance. The rule looks at counts, not rates: at t0 + x the long window holds N ≈ λL
// requests of which Nb ~ Poisson(λ e x) are bad, and it fires when f(x) = Nb - B b N > 0.
// E f(x) = λ e x - B b λ L crosses 0 at x* = B b L / e with slope λ e; at x* the standard
// deviation of f is about sqrt(λ B b L (1 - B b)) (the bad count's Poisson variance weighted by
// (1 - Bb)^2 plus the good count's weighted by (Bb)^2). By the delta method the crossing time
// then has a standard deviation σ = sqrt(B b L (1 - B b) / λ) / e (the same with W = S or the
// reset window for the other checks). The rule is evaluated at the end of each evaluation
// interval Δ, so it fires at the first bucket end after its condition holds, up to Δ later.
// The check allows: measured - expected in [-4.5 σ, Δ + 1 ms + 4.5 σ] (4.5 σ: a correct
// evaluator fails one check in about 150,000; the seed is fixed, so this is a margin, not luck).
// Near the crossing the condition may hold at one evaluation and not the next (the counts move
// by about sqrt(λ e Δ) per interval against a drift of λ e Δ): the detection time is the first
// firing's start and the reset time the last one's end.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"

namespace {

constexpr double kRate = 2000;                    // requests per second, in all
constexpr double kT0 = 40, kT1 = 80, kEnd = 120;  // s
constexpr double kInterval = 0.05;                // s, the evaluation interval Δ
constexpr double kLatency = 0.001;                // s, how late an outcome is seen
constexpr double kStandardErrors = 4.5;

struct Case {
  double objective, e, burn, long_s, short_s;  // short_s 0: a single-window rule
};

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// `text` with each "$KEY" replaced by its value.
std::string filled(std::string text, const std::vector<std::pair<std::string, std::string>>& keys) {
  for (const auto& [key, value] : keys)
    for (std::size_t at = text.find(key); at != std::string::npos; at = text.find(key, at))
      text.replace(at, key.size(), value), at += value.size();
  return text;
}

scenario::RunResult run(const Case& c) {
  const std::string text = R"({
    "name": "burn", "duration": "$ENDs", "warmup": "1s",
    "components": {
      "ok": {"model": "server", "workers": 64, "service_time": "1ms"},
      "bad": {"model": "server", "workers": 64, "service_time": "1ms", "error_rate": 1},
      "fine": {"model": "open_loop_client", "group": "users", "target": "ok", "timeout": "1s",
               "retry": {"max_attempts": 1}, "rate": "$ALL/s",
               "schedule": [{"at": "$T0s", "rate": "$GOOD/s"}, {"at": "$T1s", "rate": "$ALL/s"}]},
      "broken": {"model": "open_loop_client", "group": "users", "target": "bad", "timeout": "1s",
                 "retry": {"max_attempts": 1}, "rate": "1/s",
                 "schedule": [{"at": "0s", "rate": "0/s"}, {"at": "$T0s", "rate": "$BAD/s"},
                              {"at": "$T1s", "rate": "0/s"}]}
    },
    "slos": {"availability": {"group": "users", "objective": $OBJECTIVE, "period": "1h",
      "evaluation_interval": "$INTERVALms",
      "alerts": {"rule": {"burn_rate": $BURN, "long_window": "$LONGs"$SHORT}}}}
  })";
  const std::string short_window =
      c.short_s > 0 ? ", \"short_window\": \"" + number(c.short_s) + "s\"" : "";
  const auto file =
      scenario::load_scenario_text(filled(text, {{"$END", number(kEnd)},
                                                 {"$T0", number(kT0)},
                                                 {"$T1", number(kT1)},
                                                 {"$ALL", number(kRate)},
                                                 {"$GOOD", number(kRate * (1 - c.e))},
                                                 {"$BAD", number(kRate * c.e)},
                                                 {"$OBJECTIVE", number(c.objective)},
                                                 {"$INTERVAL", number(kInterval * 1000)},
                                                 {"$BURN", number(c.burn)},
                                                 {"$LONG", number(c.long_s)},
                                                 {"$SHORT", short_window}}),
                                   "burn.json");
  return scenario::run_scenario(file.variants.front(), 7);
}

// The crossing time's standard deviation over a window of `window_s` (header comment).
double sigma(const Case& c, double window_s) {
  const double bb = c.burn * (1 - c.objective);
  return std::sqrt(bb * window_s * (1 - bb) / kRate) / c.e;
}

void check_time(double measured, double expected, double sd) {
  INFO("measured " << measured << " s, expected " << expected << " s, sigma " << sd << " s");
  CHECK(measured >= expected - kStandardErrors * sd);
  CHECK(measured <= expected + kInterval + kLatency + kStandardErrors * sd);
}

}  // namespace

TEST_CASE("a burn-rate rule fires at t0 + B b L / e and resolves as the Workbook says") {
  const Case cases[] = {
      {0.99, 0.5, 14.4, 10, 1},  // fast page, half the requests failing: 2.88 s
      {0.99, 1.0, 14.4, 10, 1},  // a full outage: 1.44 s
      {0.99, 0.1, 6, 20, 2},     // slow page: 12 s
      {0.999, 0.01, 1, 30, 3},   // ticket at 1 % errors against a 0.1 % budget: 3 s
      {0.99, 0.05, 1, 30, 0},    // single window: 6 s
      {0.99, 0.3, 14.4, 10, 0},  // single window: 4.8 s
  };
  for (const Case& c : cases) {
    INFO("objective " << c.objective << ", e " << c.e << ", B " << c.burn << ", L " << c.long_s
                      << " s, S " << c.short_s << " s");
    const scenario::RunResult r = run(c);
    REQUIRE(r.slos.size() == 1);
    const auto& firings = r.slos[0].rules.at(0).firings;
    // Near its threshold the condition may flicker (the counts are noisy): the first firing
    // starts at the detection time, the last one ends at the reset time, none is elsewhere.
    REQUIRE_FALSE(firings.empty());
    INFO(firings.size() << " firing(s)");
    const double bb = c.burn * (1 - c.objective);
    const double detection = std::max(bb * c.long_s / c.e, bb * c.short_s / c.e);
    check_time(firings.front().start.seconds(), kT0 + detection, sigma(c, c.long_s));
    // Reset: the window that decides empties of errors; a firing still on at the end fails.
    REQUIRE(firings.back().end.has_value());
    const double window = c.short_s > 0 ? c.short_s : c.long_s;
    check_time(firings.back().end->seconds(), kT1 + window * (1 - bb / c.e), sigma(c, window));
  }
}

TEST_CASE("a burn-rate rule never fires while the error fraction stays below B b") {
  // B b = 0.144 against e = 0.1: even the 1 s short window (2000 requests, a standard deviation
  // of the fraction sqrt(0.1 x 0.9 / 2000) = 0.0067) is 6.6 standard deviations below; the
  // 10 s long window far more.
  for (const double short_s : {1.0, 0.0}) {
    const scenario::RunResult r = run({0.99, 0.1, 14.4, 10, short_s});
    REQUIRE(r.slos.size() == 1);
    CHECK(r.slos[0].rules.at(0).firings.empty());
    CHECK(r.slos[0].alerts == 0);
    // Yet it spends budget: e / b = 10 times the budget's rate over a third of the run.
    CHECK(r.slos[0].budget_consumed > 2);
  }
}
