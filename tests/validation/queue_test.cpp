// The queue against queueing theory: Poisson publishes (an open-loop client, rate lambda) into
// the queue and one consumer that receives a message, works on it for an exponential time of
// mean 1/mu, acks it and receives again make an M/M/1 queue over a zero-latency network: the
// queue's visible messages are the waiting line (the consumer's message in flight is the one in
// service), so depth_mean is Lq = rho^2 / (1 - rho) and queue_wait_mean is Wq = rho / (mu -
// lambda) (Kleinrock vol. 1, 3.2), and the two obey Little's law.
//
// Tolerances:
// - Little's law holds on every sample path up to edge terms: the area under the depth over the
//   measured interval T is the sum of the measured deliveries' waits, minus the waiting done
//   before the warm-up by messages waiting at its end, plus the waiting in the interval of
//   messages still waiting at its end. Each is about Lq x Wq ~ 1e-3 message-seconds against an
//   area of Lq x T ~ 900: relative 1e-6. The check allows 1e-3 (about 30 messages each waiting
//   30 ms at an edge, probability ~ rho^30 = 2e-7).
// - Wq: the sample mean of n correlated waits has variance sigma^2 / n, with Daley's (1968)
//   closed-form asymptotic variance constant for M/M/1 waiting times, sigma^2 = rho (2 + 5 rho -
//   4 rho^2 + rho^3) / (1 - rho)^4 (in units of 1/mu^2: 88.5 ms^2 at rho = 0.6); 4.5 standard
//   errors, as the other queueing validations (statistical_tolerance.hpp).
// - Lq: depth_mean = (n / T) x Wq^ (Little, above), so its relative standard error is at most
//   the sum of those of the Poisson rate n / T (1 / sqrt(n)) and of Wq^; 4.5 of those.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>

#include "models/clients/open_loop_client.hpp"
#include "models/queues/queue.hpp"
#include "sim/distribution.hpp"
#include "tests/model_harness.hpp"
#include "tests/validation/queueing_theory.hpp"
#include "tests/validation/statistical_tolerance.hpp"

using namespace sim;

namespace {

// One consumer, one message at a time: receive (long polling), work Exp(mean), ack, receive.
class ExponentialConsumer : public Process {
 public:
  ExponentialConsumer(NodeId queue, double mean_service_ns)
      : queue_(queue), service_(Distribution::exponential(mean_service_ns)) {}
  void on_start(Node& node) override {
    rng_ = node.stream("service");
    ask(node);
  }
  void on_message(Node& node, const Message& message) override {
    const auto delivery = message.as<models::QueueDelivery>();
    if (delivery.receipt == 0) {
      ask(node);  // the long poll ran out
      return;
    }
    node.set_timer(service_.sample_duration(rng_), {1, delivery.receipt});
  }
  void on_timer(Node& node, TimerTag tag) override {
    node.send(queue_, models::QueueAck{tag.value});
    ask(node);
  }

 private:
  void ask(Node& node) {
    node.send(queue_, models::QueueReceive{.call_id = ++calls_, .wait = 20'000_ms});
  }
  NodeId queue_;
  Distribution service_;
  Rng rng_{0};
  std::uint64_t calls_ = 0;
};

void check_close(double observed, double expected, double tolerance, const char* what) {
  INFO(what << ": observed " << observed << ", expected " << expected << ", tolerance +-"
            << tolerance << " (" << 100 * tolerance / expected << " %)");
  CHECK(std::abs(observed - expected) <= tolerance);
}

}  // namespace

TEST_CASE("queue: M/M/1 at rho = 0.6, Little's law on the depth, Lq and Wq", "[queue]") {
  const double lambda = 0.6, mu = 1.0;  // per ms
  const Duration warmup = 10'000_ms, measured = 1'000'000_ms;
  dsimtest::ModelHarness h(11, Time::zero() + warmup, Time::zero() + warmup + measured);
  models::QueueConfig config;
  config.visibility_timeout = 3'600'000_ms;  // never runs out: every delivery is acked
  const models::Queue* queue = h.build<models::Queue>("queue", 1, config).at(0);
  h.add_process("consumer", std::make_unique<ExponentialConsumer>(h.nodes("queue")[0], 1e6));
  models::OpenLoopClientConfig publisher;
  publisher.rate.per_second = lambda * 1000;
  publisher.call.target.name = "queue";
  publisher.call.timeout = Duration::zero();  // never gives up
  h.build<models::OpenLoopClient>("publisher", 1, publisher);
  h.run();

  const double n = dsimtest::figure(*queue, "delivered");
  const double depth = dsimtest::figure(*queue, "depth_mean");
  const double wait_ms = dsimtest::figure(*queue, "queue_wait_mean_ms");
  REQUIRE(n > 5e5);
  CHECK(dsimtest::figure(*queue, "rejected") == 0);
  CHECK(dsimtest::figure(*queue, "visibility_expired") == 0);
  CHECK(dsimtest::figure(*queue, "stale_acks") == 0);

  const double rate_per_ms = n / (measured.seconds() * 1e3);
  check_close(depth, rate_per_ms * wait_ms, 1e-3 * depth, "Little: depth_mean = lambda Wq");

  const double rho = lambda / mu;
  const double wq = rho / (mu - lambda);
  const double daley = rho * (2 + 5 * rho - 4 * rho * rho + rho * rho * rho) / std::pow(1 - rho, 4);
  check_close(wait_ms, wq, queueing::mean_tolerance(daley, n), "Wq (ms)");
  const double lq = rho * rho / (1 - rho);
  const double relative_se = std::sqrt(daley / n) / wq + 1 / std::sqrt(n);
  check_close(depth, lq, queueing::kStandardErrors * relative_se * lq, "Lq (messages)");
}
