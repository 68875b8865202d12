#include "models/pipelines/merger.hpp"

#include <string>

namespace models {

Wiring Merger::wiring(const Config& c) {
  std::vector<std::pair<std::string, ComponentRef>> inputs;
  for (std::size_t i = 0; i < c.inputs.size(); ++i)
    inputs.emplace_back("inputs/" + std::to_string(i) + "/queue", c.inputs[i].queue);
  return stage_wiring(std::move(inputs), {StageOutput{c.output}}, "output");
}

std::vector<ConfigProblem> Merger::check(const Config& c) {
  if (c.inputs.empty()) return {{"inputs", "expected at least one input queue"}};
  if (c.inputs.size() > kMaxOutputs)
    return {{"inputs", "expected at most " + std::to_string(kMaxOutputs) + " inputs"}};
  for (std::size_t i = 0; i < c.inputs.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (!c.inputs[i].queue.empty() && c.inputs[i].queue.name == c.inputs[j].queue.name)
        return {{"inputs/" + std::to_string(i) + "/queue",
                 "\"" + c.inputs[i].queue.name + "\" is already input " + std::to_string(j)}};
  return {};
}

std::unique_ptr<Model> Merger::make(const Config& config, BuildContext& ctx, std::size_t replica) {
  return std::make_unique<Merger>(
      config, StagePeers::resolve(ctx, replica, config.inputs, {StageOutput{config.output}}));
}

void Merger::on_input(sim::Node& node, InputId input) {
  merged_[input_of(input)] += measured(node);
  std::vector<Successor>& out = scratch();
  out.push_back({0, message(input).key});
  emit(node, input, out);
}

FigureDocs Merger::figure_docs() {
  return FigureDocs{{"merged[i]", "messages", Combine::Sum, "inputs taken from input queue i"}} +
         runner_figure_docs();
}

void Merger::stage_figures(Figures& out) const {
  for (std::size_t i = 0; i < merged_.size(); ++i)
    out.sum(indexed_name("merged", i), static_cast<double>(merged_[i]));
}

}  // namespace models
