// A scatter/gather root: it fans each request out to the shards of a leaf component, gathers
// their answers and answers upstream (Burns, "Designing Distributed Systems", scatter/gather;
// Dean and Barroso, "The Tail at Scale", CACM 2013).
//
// Semantics, for each request that arrives:
// - Scatter: the leaves (`target`) are shards of `replicas` consecutive nodes each (replicated
//   leaves: shard i is nodes i*replicas .. i*replicas + replicas - 1). The request goes to every
//   shard (`fanout` 0: leaf sharding, each shard holds part of the data), or to `fanout` distinct
//   shards drawn uniformly (root distribution over replicated data). Each leaf call goes through
//   the root's Caller (models/shared/caller.hpp) to one replica of its shard: `timeout`, `retry`,
//   `circuit_breaker` and `hedge` (hedged or tied requests to another replica of the shard) act per
//   leaf call, and every leaf call carries at most the request's own deadline.
// - Gather (`gather`):
//     all      -- answer when every leaf has answered: Ok if all succeeded, else Error;
//     quorum   -- answer Ok as soon as `quorum` leaves succeeded (0: ceil(`fraction` x fan-out):
//                 "good enough", without the slowest leaves); Error once that is out of reach;
//     deadline -- answer when every leaf has answered or `gather_timeout` after arrival,
//                 whichever comes first, with the answers in hand: Ok if at least one leaf
//                 succeeded (a partial result), Timeout if none.
//   `gather_timeout` > 0 bounds `all` and `quorum` too (then: Timeout).
// - Merge: each successful leaf answer costs a draw of `merge_time`, merged one after the other
//   as they arrive (one merge thread per request); the answer goes when the gather is complete
//   and the merges done. With a fixed merge cost m per leaf and leaves that each take W/n for a
//   fan-out n, latency is about W/n + n m: more leaves help only up to n = sqrt(W/m) (Burns).
// - Completeness: the share of the fan-out whose answers went into the answer (1 for a full
//   result), reported as mean_completeness and incomplete_answers.
// - Leaf calls still running when the root has answered go on (their results are counted as
//   late_leaf_results, and still feed the leaf latency figures).
// - A crash loses the requests in progress (their callers time out); a pause holds everything.
// Randomness: shard choices from the node's stream "fanout", merge draws from "merge"; replica
// choices and backoff as in the Caller.
//
// Differences from the references: Burns' root also splits the work; here a leaf's work is its
// own service time (set it to W/n to model the split). Dean and Barroso's "good enough" answers
// are the quorum mode. The leaf latency figures are the root's view of each leaf call (retries
// and hedges included), not the leaves' service times.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "models/shared/caller.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/rpc.hpp"
#include "models/shared/slot_table.hpp"
#include "sim/distribution.hpp"
#include "sim/latency_histogram.hpp"

namespace models {

enum class GatherMode : std::uint8_t { All, Quorum, Deadline };

inline constexpr std::array<Choice<GatherMode>, 3> kGatherChoices{{
    {"all", GatherMode::All, "wait for every leaf; Ok only if all succeeded"},
    {"quorum", GatherMode::Quorum,
     "answer Ok once `quorum` (or `fraction` of the) leaves succeeded: good enough"},
    {"deadline", GatherMode::Deadline,
     "answer at `gather_timeout` with what has come (a partial result), or earlier when all did"},
}};

struct ScatterGatherConfig {
  static constexpr const char* kSummary =
      "A scatter/gather root: fans each request out to every shard of `target` (shards of "
      "`replicas` replicas each), or to `fanout` random shards, through its own caller "
      "(`timeout`, `retry`, `hedge` per leaf call), and gathers: `all`, a `quorum` (good "
      "enough), or what came by `gather_timeout` (partial results). Each leaf answer costs a "
      "`merge_time`, merged in turn. Reports completeness and the leaves' latency.";

  std::int64_t replicas = 1;
  std::int64_t fanout = 0;
  GatherMode gather = GatherMode::All;
  std::int64_t quorum = 0;
  Probability fraction{1};
  sim::Duration gather_timeout = sim::Duration::zero();
  sim::Distribution merge_time = sim::Distribution::constant(0);
  CallerConfig call;  // target (the leaves), timeout, retry, circuit_breaker, hedge

  template <class V>
  void describe(V& v) {
    call.describe(v);
    v.field("replicas", replicas,
            "replicas per leaf shard: the target's nodes are shards of this many consecutive "
            "nodes (their count must divide the target's)",
            Limits{1, 1e6});
    v.field("fanout", fanout,
            "shards each request goes to; 0: all of them (leaf sharding), else that many "
            "distinct shards at random (root distribution)",
            Limits{0, 1e6});
    v.field("gather", gather, "when the root answers", kGatherChoices);
    v.field("quorum", quorum, "quorum: leaf answers needed; 0: ceil(fraction x fan-out)",
            Limits{0, 1e6});
    v.field("fraction", fraction, "quorum with `quorum` 0: the share of the fan-out needed");
    v.field("gather_timeout", gather_timeout,
            "answer with what has come this long after arrival (deadline: required; all, "
            "quorum: Timeout); 0: no limit",
            Limits{0});
    v.field("merge_time", merge_time, "the root's work per successful leaf answer, in turn",
            Limits{0});
  }
};

class ScatterGather final : public Model, private CallerListener {
 public:
  using Config = ScatterGatherConfig;
  /// kCall is the first of the Caller's Caller::kTimerKinds kinds.
  enum TimerKind : std::uint32_t { kGatherTimeout = 1, kMergeDone = 2, kCall = 3 };

  static Wiring wiring(const Config& c) {
    return {.serves = {Protocol::Rpc, Protocol::Health},
            .calls = {{"target", c.call.target, c.call.speaks()}}};
  }
  static FigureDocs figure_docs();
  static std::vector<ConfigProblem> check(const Config& c);
  /// Problems against the leaves' node count (`nodes` of a reference): `replicas` that does
  /// not divide it, a `fanout` or a `quorum` beyond the shards it makes.
  static std::vector<ConfigProblem> check_targets(
      const Config& config, const std::function<std::size_t(const ComponentRef&)>& nodes);
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  /// `leaves`: the target's nodes (a multiple of config.replicas). Figures count over
  /// [measure_from, measure_to].
  ScatterGather(const Config& config, sim::Node& node, std::vector<sim::NodeId> leaves,
                sim::Time measure_from, sim::Time measure_to);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  std::vector<const StateTimeline*> state_timelines() const override {
    return caller_.state_timelines();
  }

  const Caller& caller() const { return caller_; }
  /// Requests received and not yet answered.
  std::size_t in_progress() const { return gathers_.size(); }

 private:
  struct Gather {
    sim::NodeId from = sim::kNoNode;
    std::uint64_t call_id = 0;  // the caller's
    sim::Time arrived;
    std::uint32_t fanout = 0, needed = 0, ok = 0, failed = 0;
    bool complete = false;  // gathered: waiting only for its merges
    Outcome outcome = Outcome::Ok;
    sim::Time merged;  // when the merges of the answers so far are done (true time)
    sim::TimerId timeout;
  };
  using Id = SlotTable<Gather>::Id;

  void on_request(sim::Node& node, const sim::Message& message);
  void on_call_done(sim::Node& node, const CallResult& result) override;
  /// Ends the gather with `outcome` (answering now, or when the merges are done).
  void complete(sim::Node& node, Id id, Outcome outcome);
  void answer(sim::Node& node, Id id);
  /// The shards of one request: all, or `fanout` distinct ones at random.
  void choose_shards(std::uint32_t fanout);
  bool measured(const sim::Node& node) const;

  Config config_;
  std::uint32_t shards_;
  Caller caller_;
  sim::Rng fanout_rng_, merge_rng_;
  SlotTable<Gather> gathers_;
  std::vector<std::uint32_t> shard_order_;  // scratch for choose_shards (no allocation)
  sim::Time measure_from_, measure_to_;
  sim::LatencyHistogram leaf_latency_{7};  // 0.4 % quantile error: plenty for a figure
  std::uint64_t requests_ = 0, answered_ok_ = 0, answered_failed_ = 0, leaf_calls_ = 0;
  std::uint64_t late_leaf_results_ = 0, incomplete_ = 0, answered_ = 0;
  double completeness_sum_ = 0;
};

}  // namespace models
