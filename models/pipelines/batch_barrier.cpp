#include "models/pipelines/batch_barrier.hpp"

#include "sim/assert.hpp"

namespace models {

BarrierStage::BarrierStage(const StageConfig& stage, const BarrierConfig& barrier, StagePeers peers)
    : StageRunner(stage, std::move(peers)), config_(barrier) {}

void BarrierStage::on_input(sim::Node& node, InputId input) {
  const std::uint64_t message_id = message(input).message;
  const std::uint64_t job = ledger().job_of(message_id);
  if (job == 0) {  // untracked: no correlation to go by
    incomplete_ += measured(node);
    release(node, input, 1, false);
    return;
  }
  const std::uint64_t* found = by_job_.find(job);
  if (found == nullptr) {
    const auto id = groups_.insert({.job = job, .first = input, .last = input, .count = 1});
    groups_.find(id)->timer = node.set_timer(config_.timeout, {kStageTimer, id});
    by_job_.set(job, id);
    ++held_;
  } else {
    Group& g = *groups_.find(*found);
    for (InputId held = g.first; held != 0; held = next_in_chain(held)) {
      if (message(held).message != message_id) continue;
      supersede(node, held, input);  // the same part again: the newest delivery counts
      duplicate_parts_ += measured(node);
      return;
    }
    chain(g.last, input);
    g.last = input;
    ++g.count;
    ++held_;
  }
  const auto id = *by_job_.find(job);
  if (groups_.find(id)->count < static_cast<std::uint32_t>(config_.parts)) return;
  const Group g = take(id);
  node.cancel_timer(g.timer);
  complete_ += measured(node);
  release(node, g.first, g.count, true);
}

BarrierStage::Group BarrierStage::take(SlotTable<Group>::Id id) {
  const Group g = *groups_.find(id);
  groups_.erase(id);
  by_job_.erase(g.job);
  held_ -= g.count;
  return g;
}

void BarrierStage::on_stage_timer(sim::Node& node, sim::TimerTag tag) {
  DSIM_ASSERT(tag.kind == kStageTimer, "a barrier's timer");
  if (groups_.find(tag.value) == nullptr) return;  // released meanwhile
  const Group g = take(tag.value);
  if (config_.on_timeout == BarrierTimeout::Release) {
    incomplete_ += measured(node);
    release(node, g.first, g.count, false);
  } else {
    failed_ += measured(node);
    finish(node, g.first, Outcome::Error);
  }
}

void BarrierStage::on_stage_crash() {
  groups_.clear();
  by_job_.clear();
  held_ = 0;
}

FigureDocs BarrierStage::barrier_figure_docs() {
  return {
      {"complete_batches", "batches", Combine::Sum, "batches released with all their parts"},
      {"incomplete_batches", "batches", Combine::Sum,
       "batches released at their timeout without all their parts (on_timeout release)"},
      {"failed_batches", "batches", Combine::Sum,
       "batches failed at their timeout (on_timeout fail): their jobs end with an error"},
      {"duplicate_parts", "messages", Combine::Sum,
       "parts delivered again while held (counted once)"},
  };
}

SeriesDocs BarrierStage::barrier_series_docs() {
  SeriesDocs docs = runner_series_docs();
  docs.push_back(
      {"held", "messages", Combine::Sum, "parts held by the barrier, waiting for their batch"});
  return docs;
}

void BarrierStage::stage_figures(Figures& out) const {
  barrier_figures(out);
  out.sum("complete_batches", static_cast<double>(complete_));
  out.sum("incomplete_batches", static_cast<double>(incomplete_));
  out.sum("failed_batches", static_cast<double>(failed_));
  out.sum("duplicate_parts", static_cast<double>(duplicate_parts_));
}

void BarrierStage::stage_sample(SeriesSample& out) const {
  out.set("held", static_cast<double>(held_));
}

}  // namespace models
