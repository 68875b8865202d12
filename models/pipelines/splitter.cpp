#include "models/pipelines/splitter.hpp"

namespace models {

std::unique_ptr<Model> Splitter::make(const Config& config, BuildContext& ctx,
                                      std::size_t replica) {
  return std::make_unique<Splitter>(
      config, StagePeers::resolve(ctx, replica, {config.input}, config.outputs));
}

void Splitter::on_input(sim::Node& node, InputId input) {
  const std::uint64_t key = message(input).key;
  std::vector<Successor>& out = scratch();
  for (std::uint64_t i = 0; i < parts_; ++i)
    out.push_back({static_cast<std::uint32_t>(i % outputs()), key * parts_ + i});
  emit(node, input, out);
}

}  // namespace models
