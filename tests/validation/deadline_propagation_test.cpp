// Deadline propagation across tiers, against a deterministic queue whose wasted work has a
// closed form.
//
// A client sends evenly spaced requests at lambda = 1250/s with a timeout T = 100.1 ms, through
// a relay that sets no timeout of its own, to one server that takes exactly s = 1 ms per
// request (zero network latency). The server is overloaded (lambda s = 1.25) from the first
// arrival on, so it is never idle: request n (0, 1, ...) completes at t0 + (n + 1) s, having
// arrived at t0 + n / lambda; its response time is s + n (s - 1/lambda) = 1 ms + n x 0.2 ms.
// It beats the client's timeout iff n <= (T - s) / (s - 1/lambda) = 495.5: the first 496
// requests are answered in time and every later completion is work nobody waits for.
//
// - Without propagation the server sees no deadline: it serves every request in order, and the
//   wasted work, seen by the client as late answers, is exactly completed - 496.
// - With propagation the server sees the client's deadline; with drop_expired and a margin of
//   one service time it starts only what can finish in time: no late answer, no wasted work,
//   and the useful throughput is the server's capacity (1000/s of 1250/s offered).
// - With propagation but no dropping the server does the same wasted work as without, and now
//   counts it itself (wasted_work), because it knows the deadlines; the relay, which stopped
//   waiting at each deadline, receives every wasted answer late.
#include <catch2/catch.hpp>

#include <string>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/run_figures.hpp"

namespace {

using dsimtest::figure;

struct Outcome {
  double completed, wasted_work, expired;
  double late_answers;  // at the client
  double relay_late;    // at the relay: backend answers after the relay stopped waiting
  double succeeded, requests;
};

Outcome run(bool propagate, bool drop_expired) {
  const std::string text = R"({
    "name": "deadlines", "duration": "10s",
    "components": {
      "db": {"model": "server", "service_time": {"dist": "constant", "value": "1ms"},
             "drop_expired": )" +
                           std::string(drop_expired ? "true" : "false") +
                           R"(, "expiry_margin": "1ms"},
      "mid": {"model": "relay", "target": "db", "timeout": "0s", "propagate_deadline": )" +
                           std::string(propagate ? "true" : "false") + R"(},
      "client": {"model": "open_loop_client", "rate": "1250/s", "arrivals": "constant",
                 "timeout": "100.1ms", "target": "mid"}
    }
  })";
  const auto file = scenario::load_scenario_text(text, "deadlines.json");
  const scenario::RunResult r = scenario::run_scenario(file.variants.front(), 1);
  return {figure(r, "db", "completed"),
          figure(r, "db", "wasted_work"),
          figure(r, "db", "expired"),
          figure(r, "client", "late_responses"),
          figure(r, "mid", "late_responses"),
          static_cast<double>(r.requests.totals().succeeded()),
          static_cast<double>(r.requests.totals().requests)};
}

constexpr double kAnsweredInTime = 496;  // n = 0 .. 495

}  // namespace

TEST_CASE("without deadline propagation the backend's wasted work is what the queue predicts") {
  const Outcome o = run(/*propagate=*/false, /*drop_expired=*/true);
  // Busy from the first arrival t0 in (0, 0.8 ms] to the end: floor((10 s - t0) / 1 ms).
  CHECK(o.completed == 9999);
  CHECK(o.late_answers == o.completed - kAnsweredInTime);
  CHECK(o.succeeded == kAnsweredInTime);
  CHECK(o.expired == 0);      // the server never learns the client's deadline ...
  CHECK(o.wasted_work == 0);  // ... so it cannot even tell that its work was wasted
}

TEST_CASE("with deadline propagation the backend does no work for clients that gave up") {
  const Outcome o = run(/*propagate=*/true, /*drop_expired=*/true);
  CHECK(o.late_answers == 0);
  CHECK(o.relay_late == 0);
  CHECK(o.wasted_work == 0);
  CHECK(o.expired > 0);
  // Every completion is useful: the server's capacity, 1000/s over ~10 s, all answered in time.
  CHECK(o.succeeded == o.completed);
  CHECK(o.completed >= 9990);
  CHECK(o.succeeded + o.expired <= o.requests);
}

TEST_CASE("with propagation but no dropping the server counts the wasted work itself") {
  const Outcome o = run(/*propagate=*/true, /*drop_expired=*/false);
  CHECK(o.completed == 9999);
  CHECK(o.wasted_work == o.completed - kAnsweredInTime);
  // The relay stopped waiting at each deadline (and answered Timeout then): the backend's
  // wasted answers reach it late.
  CHECK(o.relay_late == o.wasted_work);
}
