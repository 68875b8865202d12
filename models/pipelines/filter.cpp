#include "models/pipelines/filter.hpp"

namespace models {

Filter::Filter(const Config& config, StagePeers peers)
    : StageRunner(config.stage, peers), config_(config), filter_rng_(peers.node.stream("filter")) {}

std::unique_ptr<Model> Filter::make(const Config& config, BuildContext& ctx, std::size_t replica) {
  return std::make_unique<Filter>(
      config, StagePeers::resolve(ctx, replica, {config.input}, {StageOutput{config.output}}));
}

void Filter::on_input(sim::Node& node, InputId input) {
  const std::uint64_t key = message(input).key;
  const bool by_probability = filter_rng_.uniform01() < config_.keep_probability.value;
  const bool by_key =
      config_.keep_keys_below < 0 || key < static_cast<std::uint64_t>(config_.keep_keys_below);
  const bool keep = by_key && by_probability;
  (keep ? kept_ : dropped_) += measured(node);
  std::vector<Successor>& out = scratch();
  if (keep) out.push_back({0, key});
  emit(node, input, out);  // none: finished and acknowledged at once
}

FigureDocs Filter::figure_docs() {
  return FigureDocs{
             {"kept", "messages", Combine::Sum, "inputs that passed, published to the output"},
             {"dropped", "messages", Combine::Sum, "inputs filtered out (finished, acknowledged)"},
         } +
         runner_figure_docs();
}

void Filter::stage_figures(Figures& out) const {
  out.sum("kept", static_cast<double>(kept_));
  out.sum("dropped", static_cast<double>(dropped_));
}

}  // namespace models
