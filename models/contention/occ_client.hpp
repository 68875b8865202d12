// A client of an optimistic-concurrency store (occ_store) that must complete `writes`
// successful updates, one after the other -- the contending client of Marc Brooker's
// "Exponential Backoff and Jitter" (AWS Architecture Blog, 2015).
//
// One logical write is a loop of attempts. An attempt reads the key's version, then sends a
// conditional write naming that version. If the write succeeds, the logical write is done. If
// it conflicts (Rejected: someone wrote in between), the client waits for a backoff -- the
// policy under test, models::Backoff from the `retry` section -- and starts a new attempt
// (read + conditional write) until one succeeds or `retry.max_attempts` are spent.
// A read or write that gets no answer within `timeout` also fails its attempt (and is retried
// the same way): after a write timed out the client cannot know whether it took effect, so a
// lost answer can make one logical write update the store twice, as in real life. An Error
// answer (unknown key) ends the logical write at once: retrying would not help.
//
// What the report sees (RequestRecorder): one request per logical write, from its first read to
// the success (its latency: the completion time when all clients start at 0), attempts = the
// number of read + write rounds = conditional writes sent -- the "calls" of the AWS study, which
// counted the writes the store received. Each attempt is reported when its read is sent.
//
// Start: every client begins at time 0 (the contention burst of the study), or at a uniform
// draw in [0, start_spread) from the node's stream "start". The next logical write begins as
// soon as the previous one ends. Keys are drawn uniformly over `keys` from stream "keys";
// backoff jitter comes from stream "backoff". Key k is held by node k mod n of the target.
// A crash abandons the logical write in flight (RequestRecorder::abandoned); a restart goes on
// with the writes not yet done. Timers run on the node's clock (a paused client backs off late).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/contention/occ_store.hpp"
#include "models/resilience/backoff.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/request_recorder.hpp"
#include "sim/node.hpp"

namespace models {

/// The backoff between conflicting attempts, and a bound on attempts.
struct OccRetryConfig {
  BackoffConfig backoff;          // backoff, base, multiplier, cap, jitter
  std::int64_t max_attempts = 0;  // 0: until the write succeeds (the AWS study)

  template <class V>
  void describe(V& v) {
    backoff.describe(v);
    v.field("max_attempts", max_attempts,
            "attempts (read + conditional write) per logical write before giving up; 0: no limit",
            Limits{0, 1e9});
  }
};

struct OccClientConfig {
  static constexpr const char* kSummary =
      "Makes `writes` successful updates of an occ_store, each as read + conditional write, "
      "backing off (`retry`: backoff and jitter as in AWS's \"Exponential Backoff and Jitter\") "
      "after every conflict and trying again. Attempts per request = calls per write; latency = "
      "time to complete the write.";

  ComponentRef target;
  std::int64_t writes = 1;
  std::int64_t keys = 1;
  sim::Duration start_spread = sim::Duration::zero();
  sim::Duration timeout = sim::Duration::nanoseconds(1'000'000'000);  // 1s
  OccRetryConfig retry;
  std::string group;

  template <class V>
  void describe(V& v) {
    v.field("target", target,
            "the occ_store component (required); key k is held by its node k mod its node count");
    v.field("writes", writes, "successful writes each client node makes, one after the other",
            Limits{1, 1e9});
    v.field("keys", keys, "keys the writes go to, drawn uniformly (1: all clients contend)",
            Limits{1, 1e7});
    v.field("start_spread", start_spread,
            "each client starts at a uniform time in [0, start_spread); 0: all at time 0",
            Limits{0});
    v.field("timeout", timeout, "how long a read or write waits for its answer; 0: forever",
            Limits{0});
    v.section("retry", retry, "the wait between conflicting attempts (AWS backoff and jitter)");
    v.field("group", group,
            "the group its writes are reported under (a row of the table per group); empty: the "
            "component's name");
  }
};

class OccClient final : public Model {
 public:
  using Config = OccClientConfig;
  static Wiring wiring(const Config& c) {
    return {.calls = {{"target", c.target, {Protocol::Occ}}}};
  }
  static FigureDocs figure_docs();

  enum TimerKind : std::uint32_t { kStart = 1, kRetry = 2, kTimeout = 3 };
  enum class Phase : std::uint8_t { Idle, Reading, Writing, BackingOff, Done };

  OccClient(const OccClientConfig& config, sim::Node& node, std::vector<sim::NodeId> stores,
            RequestRecorder& recorder, sim::Time measure_from, sim::Time measure_to,
            std::uint32_t group = 0);

  /// The instance for ctx.nodes[replica]; the store's nodes come from ctx.resolve. Throws
  /// std::invalid_argument if the target is not named or has no nodes. Does not attach it.
  static std::unique_ptr<Model> make(const OccClientConfig& config, BuildContext& ctx,
                                     std::size_t replica);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  /// calls (reads + writes sent), write_calls, conflicts, timeouts, late_responses,
  /// writes_done, writes_failed, unfinished_clients, completion_time_ms (max: when the last
  /// client's last write succeeded, since the start of the run).
  void figures(Figures& out) const override;

  Phase phase() const { return phase_; }
  std::int64_t writes_done() const { return writes_done_; }
  /// True time at which this client's last write ended; Time::max() until then.
  sim::Time finished_at() const { return finished_at_; }

 private:
  void begin_write(sim::Node& node);
  void send_read(sim::Node& node);
  void send_call(sim::Node& node, std::uint8_t operation, std::uint64_t expected_version);
  void answered(sim::Node& node, const RpcResponse& response);
  void attempt_failed(sim::Node& node, Outcome outcome);
  void finish(sim::Node& node, Outcome outcome);
  bool measuring(sim::Time now) const { return now >= measure_from_ && now <= measure_to_; }

  OccClientConfig config_;
  std::vector<sim::NodeId> stores_;
  RequestRecorder& recorder_;
  std::uint32_t group_;
  sim::Rng start_rng_, key_rng_, backoff_rng_;
  Backoff backoff_;  // of the logical write in flight (decorrelated jitter remembers)
  sim::Time measure_from_, measure_to_;

  Phase phase_ = Phase::Idle;
  std::uint64_t key_ = 0;
  sim::Time started_;
  std::uint32_t attempts_ = 0;
  std::uint64_t call_id_ = 0;  // of the call awaiting an answer; ids are never reused
  sim::TimerId timeout_timer_;
  std::int64_t writes_done_ = 0, writes_failed_ = 0;
  sim::Time finished_at_ = sim::Time::max();
  std::uint64_t calls_ = 0, write_calls_ = 0, conflicts_ = 0, timeouts_ = 0, late_ = 0;
};

}  // namespace models
