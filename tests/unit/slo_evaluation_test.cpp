// The mechanics of SLO evaluation (models/operations/slo_tally.hpp, slo_evaluation.hpp):
// counting by end time per bucket, window rounding, when a burn-rate rule fires and resolves,
// the budget and its series, and how firings are scored against incidents.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/operations/slo_evaluation.hpp"
#include "models/operations/slo_tally.hpp"
#include "tests/test_time.hpp"

using models::AlertRule;
using models::Outcome;
using models::SloTally;

namespace {

sim::Duration ms(std::int64_t v) {
  return sim::Duration::nanoseconds(v * 1'000'000);
}
sim::Duration sec(std::int64_t v) {
  return ms(v * 1000);
}

// A tally of 1 s buckets over `seconds`, with `per_second` requests ending in each second, of
// which bad(i) fail in second i.
template <class Bad>
SloTally tally_of(int seconds, int per_second, Bad bad) {
  SloTally t(SloTally::kAllGroups, std::nullopt, sec(1), at_ms(seconds * 1000));
  for (int s = 0; s < seconds; ++s)
    for (int r = 0; r < per_second; ++r)
      t.record(at_ms(s * 1000 + r * 1000 / per_second), r < bad(s) ? Outcome::Error : Outcome::Ok,
               ms(1), 0);
  return t;
}

AlertRule rule(double burn, std::int64_t long_s, std::int64_t short_s = 0) {
  return {"r", "page", burn, sec(long_s), short_s ? std::optional(sec(short_s)) : std::nullopt};
}

}  // namespace

TEST_CASE("a tally counts each request in the bucket in which it ended, by group and latency") {
  SloTally t(2, ms(100), ms(10), at_ms(50));  // group 2, good within 100 ms, 5 buckets
  REQUIRE(t.buckets().size() == 5);
  t.record(at_ms(0), Outcome::Ok, ms(5), 2);          // bucket 0, good
  t.record(at_ms(9), Outcome::Ok, ms(101), 2);        // bucket 0, too slow: bad
  t.record(at_ms(10), Outcome::Timeout, ms(100), 2);  // bucket 1, bad
  t.record(at_ms(19), Outcome::Ok, ms(100), 2);       // bucket 1, exactly within: good
  t.record(at_ms(20), Outcome::Error, ms(1), 1);      // another group: not counted
  t.record(at_ms(50), Outcome::Error, ms(1), 2);      // at the end: not counted
  CHECK(t.buckets()[0].good == 1);
  CHECK(t.buckets()[0].bad == 1);
  CHECK(t.buckets()[1].good == 1);
  CHECK(t.buckets()[1].bad == 1);
  CHECK(t.buckets()[2].good + t.buckets()[2].bad == 0);
  CHECK(t.buckets()[4].good + t.buckets()[4].bad == 0);
  CHECK(t.bucket_end(4) == at_ms(50));

  SloTally all(SloTally::kAllGroups, std::nullopt, ms(10), at_ms(25));  // a partial last bucket
  all.record(at_ms(20), Outcome::Ok, sec(100), 7);
  CHECK(all.buckets().size() == 3);
  CHECK(all.bucket_end(2) == at_ms(25));
  CHECK(all.buckets()[2].good == 1);  // no latency objective: any success is good
}

TEST_CASE("windows are rounded to whole evaluation intervals, at least one") {
  CHECK(models::window_buckets(ms(100), ms(10)) == 10);
  CHECK(models::window_buckets(ms(104), ms(10)) == 10);
  CHECK(models::window_buckets(ms(105), ms(10)) == 11);
  CHECK(models::window_buckets(ms(3), ms(10)) == 1);
}

TEST_CASE("a single-window rule fires once its window's error fraction exceeds the threshold") {
  // objective 99 % (b = 0.01), B = 10: fires above 10 % errors over the last 5 s. From second 10
  // on, 30 % of the requests fail: the window's fraction is 6 % after 1 s, 12 % after 2 s.
  const SloTally t = tally_of(30, 100, [](int s) { return s >= 10 && s < 20 ? 30 : 0; });
  const auto firings = models::alert_firings(t, 0.99, rule(10, 5), sim::Time::zero());
  REQUIRE(firings.size() == 1);
  CHECK(firings[0].start == at_ms(12'000));  // end of second 11: 60 / 500 = 12 % > 10 %
  // After the errors stop at 20 s the 5 s window still holds errors: 30 x k / 500 > 10 % while
  // k >= 2 of its seconds are bad, until the window ending at 24 s (one bad second) resolves.
  REQUIRE(firings[0].end.has_value());
  CHECK(*firings[0].end == at_ms(24'000));
}

TEST_CASE("the threshold is strict and an empty window never fires") {
  // Exactly 10 % errors against a threshold of 10 %: never fires.
  const SloTally t = tally_of(10, 100, [](int) { return 10; });
  CHECK(models::alert_firings(t, 0.99, rule(10, 3), sim::Time::zero()).empty());
  CHECK(models::alert_firings(t, 0.99, rule(9.99, 3), sim::Time::zero()).size() == 1);
  const SloTally empty(SloTally::kAllGroups, std::nullopt, sec(1), at_ms(10'000));
  CHECK(models::alert_firings(empty, 0.99, rule(0.001, 3), sim::Time::zero()).empty());
}

TEST_CASE("a short window makes a multiwindow rule resolve soon after the errors stop") {
  const SloTally t = tally_of(40, 100, [](int s) { return s >= 10 && s < 20 ? 50 : 0; });
  const auto single = models::alert_firings(t, 0.99, rule(10, 10), sim::Time::zero());
  const auto multi = models::alert_firings(t, 0.99, rule(10, 10, 2), sim::Time::zero());
  REQUIRE(single.size() == 1);
  REQUIRE(multi.size() == 1);
  // Long window: 50 k / 1000 > 10 % once k >= 3 bad seconds are in it: fires at 13 s; resolves
  // when fewer than 3 remain, at the end of second 27 (seconds 18, 19 left in it).
  CHECK(single[0].start == at_ms(13'000));
  CHECK(*single[0].end == at_ms(28'000));
  // The short window (2 s) holds from 11 s: the long one decides the start; the short one
  // empties at 22 s and resolves the alert then.
  CHECK(multi[0].start == at_ms(13'000));
  CHECK(*multi[0].end == at_ms(22'000));
}

TEST_CASE("rules are evaluated from the end of the warm-up on, and may still fire at the end") {
  const SloTally t = tally_of(10, 100, [](int s) { return s < 2 || s >= 8 ? 50 : 0; });
  const auto firings = models::alert_firings(t, 0.99, rule(10, 1), at_ms(5000));
  REQUIRE(firings.size() == 1);  // the errors of seconds 0 and 1 are before the warm-up's end
  CHECK(firings[0].start == at_ms(9000));
  CHECK_FALSE(firings[0].end.has_value());
}

TEST_CASE("the budget, its series and incidents detected, missed, minor, with false alerts") {
  // 100 requests a second for 100 s, objective 99 %: the budget is 1 % of 10,000 = 100 bad.
  // Errors: 50 % in seconds 20-29 (500 bad, a real incident), 2 % in 60-61 (4 bad, a minor
  // incident), 60 % in second 90 (60 bad, with no fault: whatever fires then is false).
  const SloTally t = tally_of(100, 100, [](int s) {
    if (s >= 20 && s < 30) return 50;
    if (s >= 60 && s < 62) return 2;
    if (s == 90) return 60;
    return 0;
  });
  models::SloDefinition slo{0.99, sim::Time::zero(), sec(2), 0.1, {rule(10, 5), rule(1, 2)}};
  std::vector<sim::FaultRecord> faults = {
      {"crash", "api", "", at_ms(20'000), at_ms(30'000)},
      {"clock_step", "api", "by 1s", at_ms(40'000), std::nullopt},  // no end: not an incident
      {"pause", "api", "", at_ms(60'000), at_ms(62'000)},
      {"crash", "db", "", at_ms(70'000), at_ms(75'000)},  // costs nothing: minor
  };
  const auto r =
      models::evaluate_slo(t, slo, faults, {at_ms(10'000), at_ms(50'000), at_ms(100'000)});
  CHECK(r.good + r.bad == 10'000);
  CHECK(r.bad == 564);
  CHECK(r.budget_consumed == Approx(5.64));
  REQUIRE(r.consumed_by.size() == 3);
  CHECK(r.consumed_by[0] == 0);
  CHECK(r.consumed_by[1] == Approx(5.0));
  CHECK(r.consumed_by[2] == Approx(5.64));

  REQUIRE(r.incidents.size() == 3);
  CHECK(r.incidents[0].faults == std::vector<std::size_t>{0});
  CHECK(r.incidents[0].budget_consumed == Approx(5.0));
  CHECK(r.incidents[0].significant);
  // Rule 1 (B = 1 over 2 s: above 1 % errors) fires at the end of second 20 (21 s); rule 0
  // (10 % over 5 s) a second later (100 / 500 = 20 %; 50 / 500 is not above 10 %).
  REQUIRE(r.incidents[0].detected.has_value());
  CHECK(*r.incidents[0].detected == at_ms(21'000));
  CHECK(r.incidents[0].detected_by == 1);
  CHECK(r.incidents[1].faults == std::vector<std::size_t>{2});
  CHECK(r.incidents[1].budget_consumed == Approx(0.04));
  CHECK_FALSE(r.incidents[1].significant);  // 4 % of the budget < 10 %
  CHECK(r.incidents[2].budget_consumed == 0);
  CHECK_FALSE(r.incidents[2].significant);
  CHECK(r.significant_incidents == 1);
  CHECK(r.missed_incidents == 0);
  REQUIRE(r.mean_detection_delay.has_value());
  CHECK(*r.mean_detection_delay == sec(1));
  CHECK(r.first_alert == at_ms(21'000));

  // Rule 0 fires twice: the incident (true) and second 90 (false: 60 / 500 > 10 %). Rule 1
  // fires for the incident, for the 2 % errors at 60-61 s (4 / 200 > 1 % at 62 s: needless, a
  // minor incident) and at 90 s (false).
  REQUIRE(r.rules[0].firings.size() == 2);
  CHECK(r.classes[0][0] == models::FiringClass::True);
  CHECK(r.classes[0][1] == models::FiringClass::False);
  REQUIRE(r.rules[1].firings.size() == 3);
  CHECK(r.classes[1][1] == models::FiringClass::Needless);
  CHECK(r.alerts == 5);
  CHECK(r.true_alerts == 2);
  CHECK(r.needless_alerts == 1);
  CHECK(r.false_alerts == 2);
}

TEST_CASE("a fault on several nodes at once is one incident") {
  const SloTally t = tally_of(20, 100, [](int s) { return s >= 5 && s < 10 ? 50 : 0; });
  models::SloDefinition slo{0.99, sim::Time::zero(), sec(1), 0, {rule(10, 2)}};
  const auto r = models::evaluate_slo(t, slo,
                                      {{"crash", "api[0]", "", at_ms(5000), at_ms(10'000)},
                                       {"crash", "api[1]", "", at_ms(5000), at_ms(10'000)},
                                       {"pause", "api[2]", "", at_ms(5000), at_ms(10'000)},
                                       {"crash", "api[3]", "", at_ms(6000), at_ms(10'000)}},
                                      {});
  REQUIRE(r.incidents.size() == 3);  // the same kind, start and end: merged
  CHECK(r.incidents[0].faults == std::vector<std::size_t>{0, 1});
  CHECK(r.incidents[1].faults == std::vector<std::size_t>{2});
  CHECK(r.incidents[2].faults == std::vector<std::size_t>{3});
  CHECK(r.incidents[2].start == at_ms(6000));
  CHECK(r.missed_incidents == 0);
  CHECK(*r.incidents[2].detected == at_ms(6000));  // already firing when it began: no delay
}

TEST_CASE("an incident no rule fires for is missed") {
  const SloTally t = tally_of(20, 100, [](int s) { return s >= 5 && s < 10 ? 5 : 0; });
  models::SloDefinition slo{0.99, sim::Time::zero(), sec(1), 0, {rule(14.4, 5, 1)}};
  const auto r = models::evaluate_slo(
      t, slo, {{"degrade", "api", "loss +0.05", at_ms(5000), at_ms(10'000)}}, {});
  CHECK(r.budget_consumed == Approx(25.0 / 20.0));  // 25 bad of a budget of 20
  CHECK(r.alerts == 0);
  CHECK(r.missed_incidents == 1);
  CHECK_FALSE(r.mean_detection_delay.has_value());
  CHECK_FALSE(r.first_alert.has_value());
}
