#include "models/election/raft_node.hpp"

#include <string>
#include <utility>

#include "models/shared/health.hpp"
#include "sim/assert.hpp"

namespace models {

std::unique_ptr<Model> RaftNode::make(const Config& config, BuildContext& ctx,
                                      std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "raft replica out of range");
  RaftGhost& ghost = raft_group_ghost(ctx, config.election);
  sim::Node& node = ctx.cluster.node(ctx.nodes[replica]);
  return std::make_unique<RaftNode>(config, ctx.nodes, static_cast<std::uint32_t>(replica), ghost,
                                    node.stream("election"), ctx.warmup_end, ctx.end);
}

RaftNode::RaftNode(const Config& config, std::vector<sim::NodeId> members, std::uint32_t self,
                   RaftGhost& ghost, sim::Rng rng, sim::Time measure_from, sim::Time measure_to)
    : election_(config.election, std::move(members), self, kElectionTimers, ghost, rng,
                measure_from, measure_to) {}

void RaftNode::on_message(sim::Node& node, const sim::Message& message) {
  if (answer_health_probe(node, message)) return;  // a failure detector may watch the members
  election_.on_message(node, message);             // nothing else reaches a raft node
}

void RaftNode::on_timer(sim::Node& node, sim::TimerTag tag) {
  const bool handled = election_.on_timer(node, tag);
  DSIM_ASSERT(handled, "unknown raft node timer");
}

}  // namespace models
