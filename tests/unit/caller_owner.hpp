// A minimal model that owns a Caller, for the caller tests: every message and timer must be the
// caller's, and every finished request is kept in `done`.
#pragma once

#include <catch2/catch.hpp>

#include <vector>

#include "models/shared/caller.hpp"
#include "sim/node.hpp"

namespace test {

class CallerOwner : public sim::Process, public models::CallerListener {
 public:
  static constexpr std::uint32_t kCallerTimer = 5;
  /// `recorder` may be null (the caller then records nothing).
  CallerOwner(const models::CallerConfig& config, std::vector<sim::NodeId> targets,
              models::RequestRecorder* recorder)
      : caller(config, std::move(targets), kCallerTimer, recorder, sim::Time::zero(), *this) {}
  void on_start(sim::Node& /*node*/) override {}
  void on_message(sim::Node& node, const sim::Message& message) override {
    REQUIRE(caller.on_message(node, message));
  }
  void on_timer(sim::Node& node, sim::TimerTag tag) override {
    REQUIRE(caller.on_timer(node, tag));
  }
  void on_crash(sim::Node& node) override { caller.on_crash(node); }
  void on_call_done(sim::Node& /*node*/, const models::CallResult& result) override {
    done.push_back(result);
  }

  models::Caller caller;
  std::vector<models::CallResult> done;
};

/// An event that starts one logical request of `owner` about `key`.
struct StartCall {
  CallerOwner* owner;
  sim::Node* node;
  std::uint64_t key, token;
  void operator()() const { owner->caller.start(*node, key, token); }
};

}  // namespace test
