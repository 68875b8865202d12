#include "models/pipelines/copier.hpp"

namespace models {

std::unique_ptr<Model> Copier::make(const Config& config, BuildContext& ctx, std::size_t replica) {
  return std::make_unique<Copier>(
      config, StagePeers::resolve(ctx, replica, {config.input}, config.outputs));
}

void Copier::on_input(sim::Node& node, InputId input) {
  std::vector<Successor>& out = scratch();
  for (std::uint32_t i = 0; i < outputs(); ++i) out.push_back({i, message(input).key});
  emit(node, input, out);
}

}  // namespace models
