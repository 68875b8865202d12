#include "models/isolation/cell_router.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "models/balancing/lb_policy.hpp"
#include "models/services/relay.hpp"
#include "models/shared/expired_request.hpp"
#include "models/shared/health.hpp"
#include "sim/assert.hpp"
#include "sim/rng.hpp"

namespace models {

FigureDocs CellRouter::figure_docs() {
  return FigureDocs{
             {"requests", "requests", Combine::Sum, "requests that reached the router"},
             {"answered_ok", "requests", Combine::Sum, "answered upstream Ok"},
             {"answered_failed", "requests", Combine::Sum, "answered upstream with a failure"},
             {"expired_before_forward", "requests", Combine::Sum,
              "answered Timeout unforwarded: their deadline had passed on arrival"},
             {"cell_requests[i]", "requests", Combine::Sum, "requests routed to cell i"},
             {"cell_failed[i]", "requests", Combine::Sum,
              "requests routed to cell i and answered upstream with a failure"},
             {"cell_tenants[i]", "tenants", Combine::Max,
              "tenants (client groups) pinned to cell i (the anonymous tenant not counted)"},
         } +
         Caller::figure_docs();
}

std::vector<ConfigProblem> CellRouter::check_targets(
    const Config& config, const std::function<std::size_t(const ComponentRef&)>& nodes) {
  const std::size_t count = nodes(config.call.target);
  if (count % static_cast<std::size_t>(config.cells) == 0) return {};
  return {{"cells", "expected a divisor of the " + std::to_string(count) + " nodes of '" +
                        config.call.target.name + "' (cells are equal), got " +
                        std::to_string(config.cells)}};
}

namespace {

/// Cell c's rendezvous identity: fnv1a64("cell/<c>").
std::vector<std::uint64_t> cell_identities(std::uint32_t cells) {
  std::vector<std::uint64_t> out;
  for (std::uint32_t c = 0; c < cells; ++c)
    out.push_back(sim::fnv1a64("cell/" + std::to_string(c)));
  return out;
}

std::uint32_t highest_score(std::string_view tenant, const std::vector<std::uint64_t>& cells) {
  DSIM_ASSERT(!cells.empty(), "a tenant is pinned to one of at least one cell");
  const std::uint64_t key = sim::fnv1a64(tenant);
  std::uint32_t best = 0;
  std::uint64_t best_score = rendezvous_score(key, cells[0]);
  for (std::uint32_t c = 1; c < cells.size(); ++c) {
    const std::uint64_t score = rendezvous_score(key, cells[c]);
    if (score > best_score) {  // a tie keeps the lower cell
      best = c;
      best_score = score;
    }
  }
  return best;
}

}  // namespace

std::uint32_t CellRouter::cell_of(std::string_view tenant, std::uint32_t cells) {
  return highest_score(tenant, cell_identities(cells));
}

std::unique_ptr<Model> CellRouter::make(const Config& config, BuildContext& ctx,
                                        std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "cell router replica out of range");
  std::vector<sim::NodeId> nodes = resolve_target(config.call, ctx);
  const auto cells = static_cast<std::size_t>(config.cells);
  if (nodes.size() % cells != 0)
    throw std::invalid_argument("cells: " + std::to_string(cells) + " cells do not divide the " +
                                std::to_string(nodes.size()) + " nodes of '" +
                                config.call.target.name + "' (cells are equal)");
  return std::make_unique<CellRouter>(config, std::move(nodes), ctx.recorder, ctx.warmup_end,
                                      ctx.end);
}

CellRouter::CellRouter(const Config& config, std::vector<sim::NodeId> targets,
                       const RequestRecorder& tenants, sim::Time measure_from, sim::Time measure_to)
    : config_(config),
      cell_size_(targets.size() / static_cast<std::size_t>(config.cells)),
      caller_(config.call, std::move(targets), kCall, /*recorder=*/nullptr, measure_from, *this),
      tenants_(tenants),
      measure_from_(measure_from),
      measure_to_(measure_to) {
  const auto cells = static_cast<std::size_t>(config.cells);
  DSIM_ASSERT(cells >= 1 && cell_size_ >= 1, "a cell router has cells of at least one node");
  cell_requests_.assign(cells, 0);
  cell_failed_.assign(cells, 0);
  cell_tenants_.assign(cells, 0);
  caller_.set_shard_size(cell_size_);
}

void CellRouter::on_start(sim::Node& /*node*/) {
  if (!cell_of_.empty()) return;  // a restart: the pinning is configuration
  const std::vector<std::uint64_t> cells =
      cell_identities(static_cast<std::uint32_t>(config_.cells));
  for (const GroupStats& g : tenants_.groups()) {
    cell_of_.push_back(highest_score(g.name, cells));
    ++cell_tenants_[cell_of_.back()];
  }
  cell_of_.push_back(highest_score("", cells));  // the anonymous tenant
}

std::uint32_t CellRouter::cell_of_tenant(std::uint16_t tenant) const {
  DSIM_ASSERT(!cell_of_.empty(), "the tenants are pinned at the start");
  return cell_of_[std::min<std::size_t>(tenant, cell_of_.size() - 1)];
}

void CellRouter::on_message(sim::Node& node, const sim::Message& message) {
  if (caller_.on_message(node, message)) return;   // a cell's answer
  if (answer_health_probe(node, message)) return;  // checkable behind a load balancer
  on_request(node, message);
}

void CellRouter::on_request(sim::Node& node, const sim::Message& message) {
  DSIM_ASSERT(message.holds<RpcRequest>(), "a cell router receives requests and answers");
  const RpcRequest request = message.as<RpcRequest>();
  const sim::Time now = node.true_now();
  const bool counted = measured(now);
  if (counted) ++requests_;
  if (answer_if_expired(node, message.from, request, now)) {
    if (counted) ++expired_;
    return;
  }
  const std::uint32_t cell = cell_of_tenant(request.tenant);
  if (counted) ++cell_requests_[cell];
  const auto id = inbound_.insert({message.from, request.call_id, cell});
  caller_.forward(node, request, id, request.deadline, cell);  // may end before it returns
}

void CellRouter::on_call_done(sim::Node& node, const CallResult& result) {
  const Inbound* in = inbound_.find(result.token);
  DSIM_ASSERT(in != nullptr, "every call of a cell router answers one request");
  const Outcome answer = relay_answer(result.outcome);
  node.send(in->from, RpcResponse{.call_id = in->call_id, .outcome = answer});
  if (measured(node.true_now())) {
    ++(answer == Outcome::Ok ? answered_ok_ : answered_failed_);
    if (answer != Outcome::Ok) ++cell_failed_[in->cell];
  }
  inbound_.erase(result.token);
}

void CellRouter::on_timer(sim::Node& node, sim::TimerTag tag) {
  const bool handled = caller_.on_timer(node, tag);
  DSIM_ASSERT(handled, "a cell router has no timers but its caller's");
}

void CellRouter::on_crash(sim::Node& node) {
  caller_.on_crash(node);
  inbound_.clear();  // unanswered: the upstream callers time out
}

void CellRouter::figures(Figures& out) const {
  out.sum("requests", static_cast<double>(requests_));
  out.sum("answered_ok", static_cast<double>(answered_ok_));
  out.sum("answered_failed", static_cast<double>(answered_failed_));
  out.sum("expired_before_forward", static_cast<double>(expired_));
  for (std::size_t c = 0; c < cell_requests_.size(); ++c) {
    out.sum(indexed_name("cell_requests", c), static_cast<double>(cell_requests_[c]));
    out.sum(indexed_name("cell_failed", c), static_cast<double>(cell_failed_[c]));
    out.max(indexed_name("cell_tenants", c), static_cast<double>(cell_tenants_[c]));
  }
  caller_.figures(out);
}

}  // namespace models
