// The request recorder's windows: a request lands in the window in which it ended, an attempt
// in the window it was sent; each window's percentiles are those of its own latencies (one
// histogram serves the windows in turn), set once the window closes.
#include <catch2/catch.hpp>

#include <vector>

#include "models/shared/request_recorder.hpp"
#include "sim/latency_histogram.hpp"
#include "sim/rng.hpp"
#include "tests/test_time.hpp"

using models::Outcome;
using models::RequestRecorder;

namespace {

// Ten windows of 10 ms over 100 ms, measured from 0.
RequestRecorder ten_windows() {
  return RequestRecorder(sim::Time::zero(), at_ms(100), sim::Duration::nanoseconds(10'000'000));
}

}  // namespace

TEST_CASE("request recorder: requests land in the window they ended, attempts where sent") {
  RequestRecorder r = ten_windows();
  r.attempt_sent(at_ms(1));
  r.attempt_sent(at_ms(12));
  r.record(at_ms(1), at_ms(15), Outcome::Ok, 2);  // started in window 0, ended in 1
  r.record(at_ms(14), at_ms(19), Outcome::Timeout, 1);
  r.record(at_ms(30), at_ms(30), Outcome::Ok, 1);
  REQUIRE(r.window_count() == 10);
  const auto& w = r.windows();
  CHECK(w[0].attempts_sent == 1);
  CHECK(w[0].counts.requests == 0);
  CHECK(w[1].attempts_sent == 1);
  CHECK(w[1].counts.requests == 2);
  CHECK(w[1].counts.attempts == 3);
  CHECK(w[1].counts.succeeded() == 1);
  CHECK(w[3].counts.requests == 1);
  CHECK(r.totals().requests == 3);
  // Window 1 closed when window 3 recorded a latency; window 3 is still open.
  CHECK(w[1].p50_ns == 14'000'000);
  CHECK_FALSE(w[3].p50_ns.has_value());
}

TEST_CASE("request recorder: each window's percentiles are its own latencies'") {
  // Each window gets latencies on its own scale (window k: around (k + 1) ms); a count left
  // over from an earlier window would move the later windows' p50 and p99.
  sim::Rng rng(5);
  RequestRecorder r = ten_windows();
  std::vector<sim::LatencyHistogram> expected;
  for (int k = 0; k < 10; ++k) {
    expected.emplace_back(7);                       // the recorder's window precision
    for (int i = 0; i < (k == 4 ? 0 : 200); ++i) {  // window 4: no success
      const auto latency_ns = static_cast<std::int64_t>((k + 1) * 1e6 * (0.5 + rng.uniform01()));
      const sim::Time ended = at_ms(10 * k) + sim::Duration::nanoseconds(i * 40'000);
      r.record(ended - sim::Duration::nanoseconds(latency_ns), ended, Outcome::Ok, 1);
      expected.back().record_ns(latency_ns);
    }
    r.record(at_ms(10 * k), at_ms(10 * k + 9), Outcome::Error, 1);  // failures: no latency
  }
  const std::vector<models::WindowSummary> windows = r.take_window_summaries();
  REQUIRE(windows.size() == 10);
  for (int k = 0; k < 10; ++k) {
    INFO("window " << k);
    const auto& w = windows[static_cast<std::size_t>(k)];
    if (k == 4) {
      CHECK_FALSE(w.p50_ns.has_value());
      CHECK(w.counts.requests == 1);
      continue;
    }
    CHECK(w.counts.requests == 201);
    CHECK(w.p50_ns == expected[static_cast<std::size_t>(k)].quantile_ns(0.5));
    CHECK(w.p99_ns == expected[static_cast<std::size_t>(k)].quantile_ns(0.99));
  }
  CHECK(r.windows().empty());  // taken
}
