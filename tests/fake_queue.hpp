// A scripted queue for consumer tests: it records every receive, ack and nack with its arrival
// time, and delivers what the test tells it to (deliver()) to the oldest receive it holds, or
// answers a held receive empty (answer_empty()). Nothing happens on its own: no wait runs out.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "models/queues/queue_protocol.hpp"
#include "sim/node.hpp"
#include "sim/process.hpp"

namespace dsimtest {

class FakeQueue : public sim::Process {
 public:
  struct Receive {
    sim::NodeId from;
    std::uint64_t call_id;
    sim::Duration wait;
    sim::Time at;
  };
  struct Done {
    std::uint64_t receipt;
    sim::Time at;
  };

  void on_start(sim::Node& node) override { node_ = &node; }
  void on_message(sim::Node& node, const sim::Message& message) override {
    if (message.holds<models::QueueReceive>()) {
      const auto r = message.as<models::QueueReceive>();
      receives.push_back({message.from, r.call_id, r.wait, node.true_now()});
      held.push_back(receives.back());
    } else if (message.holds<models::QueueAck>()) {
      acks.push_back({message.as<models::QueueAck>().receipt, node.true_now()});
    } else {
      nacks.push_back({message.as<models::QueueNack>().receipt, node.true_now()});
    }
  }

  /// Answers the oldest held receive with message `message` (key, receipt, receives).
  void deliver(std::uint64_t message, std::uint64_t key, std::uint64_t receipt,
               std::uint32_t receives = 1) {
    const Receive r = held.front();
    held.pop_front();
    node_->send(r.from, models::QueueDelivery{.call_id = r.call_id,
                                              .receipt = receipt,
                                              .message = message,
                                              .key = key,
                                              .receives = receives,
                                              .published = sim::Time::zero()});
  }
  /// Answers the oldest held receive with no message.
  void answer_empty() {
    const Receive r = held.front();
    held.pop_front();
    node_->send(r.from, models::QueueDelivery{.call_id = r.call_id});
  }

  std::vector<Receive> receives;
  std::deque<Receive> held;
  std::vector<Done> acks, nacks;

 private:
  sim::Node* node_ = nullptr;
};

}  // namespace dsimtest
