#include "models/pipelines/stage_runner.hpp"

#include <algorithm>
#include <string>

#include "sim/assert.hpp"

namespace models {

CallerConfig StagePublishConfig::caller() const {
  CallerConfig c;
  c.timeout = timeout;
  c.idempotent = idempotent;
  c.retry = retry;
  return c;
}

StagePeers StagePeers::resolve(BuildContext& ctx, std::size_t replica,
                               std::vector<QueueConsumerConfig> inputs,
                               const std::vector<StageOutput>& outputs) {
  StagePeers peers{.node = ctx.cluster.node(ctx.nodes.at(replica)),
                   .inputs = std::move(inputs),
                   .input_nodes = {},
                   .output_nodes = {},
                   .replica = replica,
                   .ledger = JobLedger::of(ctx),
                   .recorder = ctx.recorder,
                   .measure_from = ctx.warmup_end,
                   .measure_to = ctx.end};
  for (const auto& in : peers.inputs) peers.input_nodes.push_back(ctx.resolve(in.queue));
  for (const auto& out : outputs) peers.output_nodes.push_back(ctx.resolve(out.queue));
  return peers;
}

Wiring stage_wiring(std::vector<std::pair<std::string, ComponentRef>> inputs,
                    const std::vector<StageOutput>& outputs, const char* single_output) {
  Wiring w;
  for (auto& [field, ref] : inputs) w.calls.push_back({field, ref, {Protocol::Queue}});
  for (std::size_t i = 0; i < outputs.size(); ++i)
    w.calls.push_back(
        {single_output != nullptr ? single_output : "outputs/" + std::to_string(i) + "/queue",
         outputs[i].queue,
         {Protocol::Rpc}});
  return w;
}

std::vector<ConfigProblem> check_outputs(const std::vector<StageOutput>& outputs) {
  if (outputs.empty()) return {{"outputs", "expected at least one output queue"}};
  if (outputs.size() > kMaxOutputs)
    return {{"outputs", "expected at most " + std::to_string(kMaxOutputs) + " outputs"}};
  return {};
}

namespace {

std::vector<sim::NodeId> concatenated(const std::vector<std::vector<sim::NodeId>>& groups) {
  std::vector<sim::NodeId> all;
  for (const auto& g : groups) all.insert(all.end(), g.begin(), g.end());
  return all;
}

}  // namespace

StageRunner::StageRunner(const StageConfig& config, StagePeers peers)
    : config_(config),
      outputs_(peers.output_nodes.size()),
      caller_(config.publish.caller(), concatenated(peers.output_nodes), kPublish, nullptr,
              peers.measure_from, *this),
      ledger_(peers.ledger),
      recorder_(peers.recorder),
      service_rng_(peers.node.stream("service")),
      measure_from_(peers.measure_from) {
  DSIM_ASSERT(!peers.inputs.empty() && peers.inputs.size() == peers.input_nodes.size(),
              "a stage consumes at least one queue");
  DSIM_ASSERT(outputs_ > 0, "a stage publishes to at least one queue");
  std::vector<std::size_t> sizes;
  for (const auto& out : peers.output_nodes) sizes.push_back(out.size());
  caller_.set_shard_sizes(sizes);
  for (std::uint32_t i = 0; i < peers.inputs.size(); ++i) {
    consumers_.push_back(
        std::make_unique<QueueConsumer>(peers.inputs[i], peers.input_nodes[i], peers.replica,
                                        kConsumerTimers + i * QueueConsumer::kTimerKinds,
                                        static_cast<ConsumerListener&>(*this), peers.measure_from));
    for (const sim::NodeId n : peers.input_nodes[i]) consumer_by_node_.emplace_back(n, i);
  }
  std::sort(consumer_by_node_.begin(), consumer_by_node_.end());
  for (std::size_t i = 1; i < consumer_by_node_.size(); ++i)
    DSIM_ASSERT(consumer_by_node_[i].first != consumer_by_node_[i - 1].first,
                "a stage's inputs are distinct queues (checked at load)");
}

void StageRunner::on_start(sim::Node& node) {
  for (auto& c : consumers_) c->set_slots(node, static_cast<std::size_t>(config_.concurrency));
}

QueueConsumer& StageRunner::consumer_of(sim::NodeId queue_node) {
  const auto it = std::lower_bound(consumer_by_node_.begin(), consumer_by_node_.end(),
                                   std::pair<sim::NodeId, std::uint32_t>{queue_node, 0});
  DSIM_ASSERT(it != consumer_by_node_.end() && it->first == queue_node,
              "a delivery from a queue the stage consumes");
  return *consumers_[it->second];
}

void StageRunner::on_message(sim::Node& node, const sim::Message& message) {
  if (message.holds<QueueDelivery>()) {
    consumer_of(message.from).on_message(node, message);
    return;
  }
  const bool handled = caller_.on_message(node, message);
  DSIM_ASSERT(handled, "a stage receives deliveries and publish answers only");
}

void StageRunner::on_delivery(sim::Node& node, const Delivery& delivery) {
  const auto it = std::lower_bound(consumer_by_node_.begin(), consumer_by_node_.end(),
                                   std::pair<sim::NodeId, std::uint32_t>{delivery.from, 0});
  const InputId id = inputs_.insert({.delivery = delivery, .consumer = it->second});
  const double ns = config_.service_time.sample(service_rng_) * node.slowdown();
  if (ns <= 0) {
    on_input(node, id);
    return;
  }
  node.set_timer(sim::duration_from_ns(ns), {kServed, id});
}

void StageRunner::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (tag.kind >= kConsumerTimers) {
    const std::size_t i = (tag.kind - kConsumerTimers) / QueueConsumer::kTimerKinds;
    DSIM_ASSERT(i < consumers_.size(), "a consumer's timer");
    consumers_[i]->on_timer(node, tag);
    return;
  }
  if (caller_.on_timer(node, tag)) return;
  if (tag.kind == kServed) {
    if (inputs_.find(tag.value) != nullptr) on_input(node, tag.value);
    return;
  }
  on_stage_timer(node, tag);
}

const QueueDelivery& StageRunner::message(InputId input) const {
  const Input* in = const_cast<SlotTable<Input>&>(inputs_).find(input);
  DSIM_ASSERT(in != nullptr, "an input in hand");
  return in->delivery.message;
}

std::uint32_t StageRunner::input_of(InputId input) const {
  const Input* in = const_cast<SlotTable<Input>&>(inputs_).find(input);
  DSIM_ASSERT(in != nullptr, "an input in hand");
  return in->consumer;
}

void StageRunner::chain(InputId last, InputId next) {
  Input* in = inputs_.find(last);
  DSIM_ASSERT(in != nullptr && in->next == 0, "chained after the end of a chain");
  in->next = next;
}

StageRunner::InputId StageRunner::next_in_chain(InputId input) const {
  const Input* in = const_cast<SlotTable<Input>&>(inputs_).find(input);
  return in == nullptr ? 0 : in->next;
}

void StageRunner::supersede(sim::Node& node, InputId held, InputId newer) {
  Input* old_input = inputs_.find(held);
  const Input* new_input = inputs_.find(newer);
  DSIM_ASSERT(old_input != nullptr && new_input != nullptr, "two inputs in hand");
  const Delivery stale = old_input->delivery;
  old_input->delivery = new_input->delivery;
  old_input->consumer = new_input->consumer;
  inputs_.erase(newer);
  consumer_of(stale.from).done(node, stale, QueueConsumer::Finish::Abandon);
}

void StageRunner::emit(sim::Node& node, InputId first, std::span<const Successor> successors) {
  if (successors.empty()) {
    finish(node, first, Outcome::Ok);
    return;
  }
  const std::uint64_t parent = message(first).message;
  const auto batch = batches_.insert(
      {.first = first, .pending = static_cast<std::uint32_t>(successors.size()) + 1});
  for (const Successor& s : successors) {
    DSIM_ASSERT(s.output < outputs_, "a successor goes to an output");
    const std::uint64_t part = ledger_.open_part(parent);
    const auto publish = publishes_.insert({.batch = batch, .part = part});
    caller_.forward(node,
                    RpcRequest{.key = s.key,
                               .request_id = part,
                               .origin = node.id(),
                               .operation = kOpWrite,
                               .idempotent = static_cast<std::uint8_t>(config_.publish.idempotent)},
                    publish, sim::Time::max(), s.output);
  }
  batch_step(node, batch);  // the publishing loop is over (answers may have come meanwhile)
}

void StageRunner::on_call_done(sim::Node& node, const CallResult& result) {
  const Publish* found = publishes_.find(result.token);
  if (found == nullptr) return;
  const Publish publish = *found;
  publishes_.erase(result.token);
  Batch* batch = batches_.find(publish.batch);
  DSIM_ASSERT(batch != nullptr, "a publish belongs to a batch in progress");
  const bool counted = measured(node);
  if (result.outcome == Outcome::Ok) {
    ++batch->published;
    published_ += counted;
  } else {
    ledger_.discard(publish.part, node.true_now(), recorder_);
    batch->failed = true;
    publish_failures_ += counted;
  }
  batch_step(node, publish.batch);
}

void StageRunner::batch_step(sim::Node& node, SlotTable<int>::Id id) {
  Batch* batch = batches_.find(id);
  DSIM_ASSERT(batch != nullptr && batch->pending > 0, "a batch in progress");
  if (--batch->pending > 0) return;
  const Batch done = *batch;
  batches_.erase(id);
  if (!done.failed) {
    finish(node, done.first, Outcome::Ok);
    return;
  }
  republished_ += measured(node) ? done.published : 0;
  return_inputs(node, done.first);
}

void StageRunner::finish(sim::Node& node, InputId first, Outcome outcome) {
  const bool counted = measured(node);
  for (InputId id = first; id != 0;) {
    const Input in = *inputs_.find(id);
    inputs_.erase(id);
    if (ledger_.finish(in.delivery.message.message, node.true_now(), outcome, recorder_)) {
      finished_ += counted;
    } else {
      duplicates_ += counted;
    }
    consumers_[in.consumer]->done(node, in.delivery, QueueConsumer::Finish::Ack);
    id = in.next;
  }
}

void StageRunner::return_inputs(sim::Node& node, InputId first) {
  for (InputId id = first; id != 0;) {
    const Input in = *inputs_.find(id);
    inputs_.erase(id);
    returned_ += measured(node);
    consumers_[in.consumer]->done(node, in.delivery, QueueConsumer::Finish::Nack);
    id = in.next;
  }
}

void StageRunner::on_crash(sim::Node& node) {
  for (auto& c : consumers_) c->on_crash();
  caller_.on_crash(node);
  inputs_.clear();
  batches_.clear();
  publishes_.clear();
  on_stage_crash();
}

FigureDocs StageRunner::runner_figure_docs() {
  return FigureDocs{
             {"finished", "messages", Combine::Sum,
              "inputs done (their successors stored, or dropped), acknowledged"},
             {"duplicates", "messages", Combine::Sum,
              "inputs done that had been done before (a redelivery, a publish stored twice)"},
             {"published", "messages", Combine::Sum, "successors stored in an output queue"},
             {"publish_failures", "messages", Combine::Sum,
              "successors whose publish failed after its retries (discarded)"},
             {"returned", "messages", Combine::Sum,
              "inputs returned to their queue because a publish failed"},
             {"republished", "messages", Combine::Sum,
              "successors stored for an input that was then returned: they will be published "
              "again (duplicates downstream)"},
         } +
         QueueConsumer::figure_docs() + Caller::figure_docs();
}

SeriesDocs StageRunner::runner_series_docs() {
  return {{"in_hand", "messages", Combine::Sum,
           "inputs a stage holds: in service, publishing or held by a barrier"}};
}

void StageRunner::figures(Figures& out) const {
  stage_figures(out);
  out.sum("finished", static_cast<double>(finished_));
  out.sum("duplicates", static_cast<double>(duplicates_));
  out.sum("published", static_cast<double>(published_));
  out.sum("publish_failures", static_cast<double>(publish_failures_));
  out.sum("returned", static_cast<double>(returned_));
  out.sum("republished", static_cast<double>(republished_));
  // Several input consumers report as one: their figures, summed by name (same order).
  Figures consumers;
  consumers_.front()->figures(consumers);
  std::vector<Figure> sums = consumers.items();
  for (std::size_t i = 1; i < consumers_.size(); ++i) {
    Figures more;
    consumers_[i]->figures(more);
    for (std::size_t j = 0; j < sums.size(); ++j) sums[j].value += more.items()[j].value;
  }
  for (const Figure& f : sums) out.sum(f.name, f.value);
  caller_.figures(out);
}

void StageRunner::sample(sim::Time /*now*/, SeriesSample& out) const {
  out.set("in_hand", static_cast<double>(inputs_.size()));
  stage_sample(out);
}

}  // namespace models
