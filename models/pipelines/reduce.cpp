#include "models/pipelines/reduce.hpp"

namespace models {

Reduce::Reduce(const Config& config, StagePeers peers)
    : BarrierStage(config.stage, config.barrier, std::move(peers)),
      config_(config),
      batch_buckets_(static_cast<std::size_t>(config.buckets), 0),
      histogram_(static_cast<std::size_t>(config.buckets), 0) {}

std::unique_ptr<Model> Reduce::make(const Config& config, BuildContext& ctx, std::size_t replica) {
  return std::make_unique<Reduce>(
      config, StagePeers::resolve(ctx, replica, {config.input}, {StageOutput{config.output}}));
}

std::uint32_t Reduce::bucket_of(std::uint64_t key) const {
  const auto buckets = static_cast<std::uint64_t>(config_.buckets);
  const auto max_key = static_cast<std::uint64_t>(config_.max_key);
  if (key >= max_key) return static_cast<std::uint32_t>(buckets - 1);
  // key * buckets / max_key without overflow: buckets <= 1000 and key < max_key <= 1e18.
  return static_cast<std::uint32_t>(static_cast<unsigned __int128>(key) * buckets / max_key);
}

void Reduce::release(sim::Node& node, InputId first, std::uint32_t count, bool /*complete*/) {
  const bool counted = measured(node);
  std::uint64_t sum = 0;
  for (auto& b : batch_buckets_) b = 0;
  for (InputId in = first; in != 0; in = next_in_chain(in)) {
    const std::uint64_t key = message(in).key;
    sum += key;
    if (config_.operation == ReduceOperation::Histogram) ++batch_buckets_[bucket_of(key)];
    if (counted) sum_total_ += static_cast<double>(key);
  }
  if (counted) {
    ++reduced_;
    keys_ += count;
  }
  std::vector<Successor>& out = scratch();
  switch (config_.operation) {
    case ReduceOperation::Count:
      out.push_back({0, count});
      break;
    case ReduceOperation::Sum:
      out.push_back({0, sum});
      break;
    case ReduceOperation::Histogram:
      for (std::uint32_t b = 0; b < batch_buckets_.size(); ++b) {
        if (batch_buckets_[b] == 0) continue;
        out.push_back({0, b});
        if (counted) histogram_[b] += batch_buckets_[b];
      }
      break;
  }
  emit(node, first, out);
}

FigureDocs Reduce::figure_docs() {
  return FigureDocs{
             {"reduced_batches", "batches", Combine::Sum, "batches reduced and published"},
             {"keys_reduced", "messages", Combine::Sum, "parts in the batches reduced"},
             {"sum_total", "keys", Combine::Sum, "the sum of the keys of every part reduced"},
             {"histogram[i]", "messages", Combine::Sum,
              "histogram: parts whose key fell in bucket i, over every batch"},
         } +
         barrier_figure_docs() + runner_figure_docs();
}

void Reduce::barrier_figures(Figures& out) const {
  out.sum("reduced_batches", static_cast<double>(reduced_));
  out.sum("keys_reduced", static_cast<double>(keys_));
  out.sum("sum_total", sum_total_);
  if (config_.operation != ReduceOperation::Histogram) return;
  for (std::size_t i = 0; i < histogram_.size(); ++i)
    out.sum(indexed_name("histogram", i), static_cast<double>(histogram_[i]));
}

}  // namespace models
