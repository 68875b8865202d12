#include "models/election/fenced_store.hpp"

#include "models/election/lease_protocol.hpp"
#include "models/shared/health.hpp"
#include "sim/assert.hpp"
#include "sim/node.hpp"

namespace models {

FigureDocs FencedStore::figure_docs() {
  return {
      {"writes", "writes", Combine::Sum, "writes received"},
      {"accepted", "writes", Combine::Sum, "writes applied"},
      {"stale_accepted", "writes", Combine::Sum,
       "writes applied although their token was below the largest accepted: from a replaced "
       "owner (safety violations)"},
      {"stale_rejected", "writes", Combine::Sum,
       "writes rejected by the fencing check (check_fencing): the violations it prevented"},
  };
}

std::unique_ptr<Model> FencedStore::make(const Config& config, BuildContext& ctx,
                                         std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "store replica out of range");
  return std::make_unique<FencedStore>(config, ctx.warmup_end, ctx.end);
}

void FencedStore::on_message(sim::Node& node, const sim::Message& message) {
  if (answer_health_probe(node, message)) return;
  const auto w = message.as<FencedWrite>();
  const sim::Time now = node.true_now();
  const bool counted = now >= measure_from_ && now <= measure_to_;
  std::uint64_t* largest = nullptr;
  for (auto& [key, token] : largest_)
    if (key == w.key) largest = &token;
  if (largest == nullptr) largest = &largest_.emplace_back(w.key, 0).second;
  const bool stale = w.token < *largest;
  const bool accept = !stale || !config_.check_fencing;
  if (counted) {
    ++writes_;
    if (accept) ++accepted_;
    if (stale) ++(accept ? stale_accepted_ : stale_rejected_);
  }
  if (accept && w.token > *largest) *largest = w.token;
  node.send(message.from, FencedWriteReply{.request = w.request, .accepted = accept});
}

void FencedStore::figures(Figures& out) const {
  out.sum("writes", static_cast<double>(writes_));
  out.sum("accepted", static_cast<double>(accepted_));
  out.sum("stale_accepted", static_cast<double>(stale_accepted_));
  out.sum("stale_rejected", static_cast<double>(stale_rejected_));
}

}  // namespace models
