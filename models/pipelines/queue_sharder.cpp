#include "models/pipelines/queue_sharder.hpp"

namespace models {

QueueSharder::QueueSharder(const Config& config, StagePeers peers)
    : StageRunner(config.stage, std::move(peers)),
      function_(ShardFunction::modulo(static_cast<std::uint32_t>(config.outputs.size()))),
      routed_(config.outputs.size(), 0) {}

std::unique_ptr<Model> QueueSharder::make(const Config& config, BuildContext& ctx,
                                          std::size_t replica) {
  return std::make_unique<QueueSharder>(
      config, StagePeers::resolve(ctx, replica, {config.input}, config.outputs));
}

void QueueSharder::on_input(sim::Node& node, InputId input) {
  const std::uint64_t key = message(input).key;
  const std::uint32_t shard = function_.shard_of(key);
  routed_[shard] += measured(node);
  std::vector<Successor>& out = scratch();
  out.push_back({shard, key});
  emit(node, input, out);
}

FigureDocs QueueSharder::figure_docs() {
  return FigureDocs{{"routed[i]", "messages", Combine::Sum, "inputs routed to output i"}} +
         runner_figure_docs();
}

void QueueSharder::stage_figures(Figures& out) const {
  for (std::size_t i = 0; i < routed_.size(); ++i)
    out.sum(indexed_name("routed", i), static_cast<double>(routed_[i]));
}

}  // namespace models
