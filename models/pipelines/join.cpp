#include "models/pipelines/join.hpp"

namespace models {

std::unique_ptr<Model> Join::make(const Config& config, BuildContext& ctx, std::size_t replica) {
  return std::make_unique<Join>(
      config, StagePeers::resolve(ctx, replica, {config.input}, {StageOutput{config.output}}));
}

void Join::release(sim::Node& node, InputId first, std::uint32_t /*count*/, bool /*complete*/) {
  std::vector<Successor>& out = scratch();
  out.push_back({0, message(first).key});
  emit(node, first, out);
}

}  // namespace models
