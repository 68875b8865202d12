// A filter: forwards to its output the inputs that pass, and drops the others. Burns' filter
// pattern ("Designing Distributed Systems", ch. 11, event-driven batch processing: reduce the
// stream to the items a later stage wants).
//
// Semantics: the shared stage runner (models/pipelines/stage_runner.hpp) consumes `queue`. An
// input passes when both rules keep it (they combine with AND):
// - the key rule: its key is below `keep_keys_below` (-1: no key rule);
// - the probability rule: a draw from the node's stream "filter" is below `keep_probability`
//   (1: keep all). The draw is made for every input, kept by the key rule or not, so that
//   changing the key rule does not change which of the other inputs the probability keeps
//   (common random numbers across variants).
// A passing input is published to `output` with its key (a new part of its job); a dropped one
// is finished Ok in the job ledger and acknowledged at once (its job may end there).
//
// Differences from Burns: his filter reads the item's content; here the only content is the key,
// and a random share stands for a content rule the model cannot see.
#pragma once

#include <memory>

#include "models/pipelines/stage_runner.hpp"

namespace models {

struct FilterConfig {
  static constexpr const char* kSummary =
      "Pipeline stage: forwards to its output the inputs whose key is below keep_keys_below "
      "and that a draw keeps with keep_probability; the others are dropped (finished and "
      "acknowledged).";

  QueueConsumerConfig input;  // queue, wait, receive_grace, min_poll_interval
  ComponentRef output;
  Probability keep_probability{1};
  std::int64_t keep_keys_below = -1;
  StageConfig stage;  // concurrency, service_time, publish

  template <class V>
  void describe(V& v) {
    input.describe(v);
    v.field("output", output, "the queue that passing inputs go to (required)");
    v.field("keep_probability", keep_probability,
            "chance that an input passes the probability rule (1: all)");
    v.field("keep_keys_below", keep_keys_below,
            "an input passes the key rule if its key is below this; -1: no key rule",
            Limits{-1, 1e18});
    stage.describe(v);
  }
};

class Filter final : public StageRunner {
 public:
  using Config = FilterConfig;
  static Wiring wiring(const Config& c) {
    return stage_wiring({{"queue", c.input.queue}}, {StageOutput{c.output}}, "output");
  }
  static FigureDocs figure_docs();
  static SeriesDocs series_docs() { return runner_series_docs(); }
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  Filter(const Config& config, StagePeers peers);

 private:
  void on_input(sim::Node& node, InputId input) override;
  void stage_figures(Figures& out) const override;

  Config config_;
  sim::Rng filter_rng_;
  std::uint64_t kept_ = 0, dropped_ = 0;
};

}  // namespace models
