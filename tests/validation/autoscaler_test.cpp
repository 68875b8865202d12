// The autoscaler against the HPA's documented behaviour with its default behavior: under a
// constant queue backlog the count converges to ceil(total / target), clamped to [min, max],
// in the number of periods the policies allow -- going up, each 15 s period at most doubles the
// count or adds 4 (the larger); going down, nothing before the 300 s stabilization window has
// forgotten the starting count, then one step (-100 % per period) -- unless the tolerance stops
// it first: no change while the backlog is within 10 % of count x target. The prediction below
// is that recurrence written from the documentation, independently of the model's code.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "models/queues/autoscaler.hpp"
#include "models/queues/queue_protocol.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"

using namespace sim;

namespace {

constexpr std::int64_t kPool = 100;

class ConstantQueue : public Process {
 public:
  explicit ConstantQueue(std::uint64_t visible) : visible_(visible) {}
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    node.send(message.from,
              models::QueueStatsReply{.call_id = message.as<models::QueueStatsQuery>().call_id,
                                      .visible = visible_});
  }

 private:
  std::uint64_t visible_;
};

/// Worker 0 records the count of each round; every worker answers idle and serving.
class Worker : public Process {
 public:
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    if (message.holds<models::WorkerScale>()) {
      counts.push_back(message.as<models::WorkerScale>().desired);
      return;
    }
    node.send(message.from,
              models::WorkerLoadReply{.call_id = message.as<models::WorkerLoadQuery>().call_id,
                                      .serving = 1});
  }
  std::vector<std::uint32_t> counts;  // [0] at the start, [k] at round k
};

/// The documented recurrence: the count after each of `rounds` rounds (index 0: the start).
std::vector<std::int64_t> predicted(std::int64_t initial, double total, double target, int rounds) {
  std::vector<std::int64_t> out{initial};
  std::int64_t n = initial;
  const std::int64_t goal =
      std::clamp(static_cast<std::int64_t>(std::ceil(total / target)), std::int64_t{1}, kPool);
  for (int k = 1; k <= rounds; ++k) {
    const bool within = std::abs(1.0 - total / (target * static_cast<double>(n))) <= 0.1;
    if (!within && goal > n) n = std::min(goal, std::max(n + 4, 2 * n));
    if (!within && goal < n && k * 15 >= 300) n = goal;  // the window has forgotten the start
    out.push_back(n);
  }
  return out;
}

}  // namespace

TEST_CASE("autoscaler: a constant backlog converges to ceil(total / target) as the policy allows",
          "[autoscaler]") {
  constexpr int kRounds = 30;  // 450 s
  int converged_to_formula = 0;
  for (const std::int64_t initial : {1, 2, 3, 5, 8, 13, 40}) {
    for (const std::uint64_t total : {0, 7, 50, 99, 100, 333, 1000, 5000}) {
      for (const double target : {1.0, 5.0, 7.5}) {
        INFO("initial " << initial << ", " << total << " messages, target " << target);
        dsimtest::ModelHarness h(1, Time::zero(), at_ms(kRounds * 15'000));
        h.add_process("queue", std::make_unique<ConstantQueue>(total));
        std::vector<Worker*> workers;
        for (std::int64_t i = 0; i < kPool; ++i) {
          auto w = std::make_unique<Worker>();
          workers.push_back(w.get());
          h.add_process("pool", std::move(w));
        }
        models::AutoscalerConfig c;  // the HPA's defaults
        c.workers.name = "pool";
        c.queue.name = "queue";
        c.target = target;
        c.initial = initial;
        h.build<models::Autoscaler>("scaler", 1, c);
        h.run();
        const std::vector<std::int64_t> expected =
            predicted(initial, static_cast<double>(total), target, kRounds);
        const std::vector<std::uint32_t>& got = workers[0]->counts;
        REQUIRE(got.size() == expected.size());
        for (std::size_t k = 0; k < got.size(); ++k) {
          INFO("round " << k);
          CHECK(got[k] == expected[k]);
        }
        const auto formula =
            std::clamp(static_cast<std::int64_t>(std::ceil(static_cast<double>(total) / target)),
                       std::int64_t{1}, kPool);
        converged_to_formula += got.back() == formula ? 1 : 0;
      }
    }
  }
  // Most cases end at the formula's count; the others stopped within the tolerance of it.
  CHECK(converged_to_formula > 7 * 8 * 3 * 3 / 4);
}
