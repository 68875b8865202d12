// A cell router: the thin layer in front of a cell-based architecture. The service behind it is
// split into `cells` independent copies (cells), each tenant lives in exactly one of them, and
// the router sends every request of a tenant to its cell, so that whatever breaks a cell (a bad
// deployment, a poison request, a crash of its nodes) reaches only the tenants pinned there:
// the blast radius is 1/cells of the tenants (AWS Well-Architected, "Reducing the Scope of
// Impact with Cell-Based Architecture"; Vitillo, "Understanding Distributed Systems", cellular
// architecture).
//
// Semantics, in the order a request meets them:
// - Cells: the target's N nodes are `cells` equal cells of N / cells consecutive nodes (cell 0
//   is the first nodes; `cells` must divide N).
// - Pinning: the request's tenant (RpcRequest.tenant: the originating client's group, whose
//   name the run's recorder knows) is pinned to a cell by rendezvous (highest random weight)
//   hashing of the tenant's name over the cells: tenant key = fnv1a64(name), cell c's identity
//   = fnv1a64("cell/<c>"), score = rendezvous_score(key, identity)
//   (models/balancing/lb_policy.hpp: two SplitMix64 rounds), the highest score wins (a tie,
//   probability 2^-64, keeps the lower cell). Each tenant lands in each cell with probability
//   1/cells, independently, and going from C to C + 1 cells moves only the tenants whose new
//   highest score is the new cell's: 1/(C + 1) of them, all into the new cell. The pinning
//   depends on the name only: adding a tenant moves no one, every router replica agrees, and it
//   is the same in every run seed. Tenant indices that name no group (a request started by a
//   model that records into no group) are one anonymous tenant, pinned by the empty name. The
//   table is computed once, at the first start (every client has named its group by then).
// - A request whose deadline has already passed is answered Timeout at once, unforwarded
//   (expired_before_forward).
// - Forwarding: one logical request of the router's own Caller (models/shared/caller.hpp) to its
//   tenant's cell (Caller shards, set_shard_size): each try goes to a node of that cell drawn
//   uniformly at random, and `timeout`, `retry`, `circuit_breaker` and `hedge` act per call,
//   staying within the cell (a retry or a hedge never leaves it). The request's deadline is
//   always propagated (gRPC's deadline propagation, as the sharder's). Same key, operation,
//   tenant and poison flag; the originating client's request_id and origin; hops + 1.
// - Answer: the Caller's outcome, mapped as a relay maps it (models/services/relay.hpp,
//   relay_answer): Ok -> Ok, Timeout -> Timeout, any other failure -> Error.
// - A dead cell stays dead for its tenants: no failover to another cell (the point of cells:
//   what broke there must not be carried elsewhere). A whole-cell outage in a scenario is a
//   crash fault naming the cell's nodes ("target": ["api[4]", "api[5]", ...]; cell c of size s
//   is api[c*s] .. api[c*s + s - 1]).
// - Concurrency is unbounded and routing costs no time (the router is meant to be thin).
// - Per cell (measured interval): the requests routed to it, those answered with a failure,
//   and the tenants pinned to it.
// - A crash loses the requests being forwarded (unanswered: the upstream times out) and the
//   Caller's retry budget and breaker; the pinning is configuration and survives.
// Randomness: replica choices from the node's own stream, backoff jitter from "retry" (the
// Caller's); the pinning draws nothing.
//
// Differences from AWS's cell-based architecture:
// - AWS's cell routers usually look the partition key up in a mapping table (a cell map kept
//   in a database), which lets operators move a tenant between cells or place a big tenant on
//   a cell of its own; here the map is a pure hash of the tenant's name: no table, no
//   migration, no placement by size.
// - An AWS cell is a whole stack (load balancers, services, storage), with its own deployment
//   and its own capacity; here a cell is a slice of one component's nodes. For several tiers
//   per cell, make the target per-cell entry points (one relay or load balancer per cell) of
//   components of their own.
// - AWS cells are sized to a maximum and new cells are added as tenants grow; here the cell
//   count is fixed for the run.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "models/shared/caller.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/request_recorder.hpp"
#include "models/shared/rpc.hpp"
#include "models/shared/slot_table.hpp"

namespace models {

struct CellRouterConfig {
  static constexpr const char* kSummary =
      "A cell router: the target's nodes are `cells` equal cells of consecutive nodes; each "
      "tenant (client group) is pinned to one cell by rendezvous hashing of its name, and every "
      "request goes to a node of its tenant's cell through the router's own caller (`timeout`, "
      "`retry`, `hedge` stay within the cell; the deadline is propagated). No failover: a dead "
      "cell fails only its own tenants. Reports each cell's requests, failures and tenants.";

  /// The most cells (three figures each).
  static constexpr std::int64_t kMaxCells = 256;

  std::int64_t cells = 1;
  CallerConfig call;  // target (the cells' nodes), timeout, retry, circuit_breaker, hedge

  template <class V>
  void describe(V& v) {
    call.describe(v);
    v.field("cells", cells,
            "the target's nodes are this many equal cells of consecutive nodes (it must divide "
            "their count); each tenant is pinned to one",
            Limits{1, static_cast<double>(kMaxCells)});
  }
};

class CellRouter final : public Model, private CallerListener {
 public:
  using Config = CellRouterConfig;
  /// kCall is the first of the Caller's Caller::kTimerKinds kinds.
  enum TimerKind : std::uint32_t { kCall = 1 };

  static Wiring wiring(const Config& c) {
    return {.serves = {Protocol::Rpc, Protocol::Health},
            .calls = {{"target", c.call.target, c.call.speaks()}}};
  }
  static FigureDocs figure_docs();
  /// Problems against the target's node count (`nodes` of a reference): cells that do not
  /// divide it.
  static std::vector<ConfigProblem> check_targets(
      const Config& config, const std::function<std::size_t(const ComponentRef&)>& nodes);
  /// The instance for ctx.nodes[replica]. Throws std::invalid_argument (a scenario error) when
  /// the target has no nodes or `cells` does not divide them.
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  /// The cell of the tenant named `tenant` among `cells` cells (rendezvous hashing, above).
  static std::uint32_t cell_of(std::string_view tenant, std::uint32_t cells);

  /// `targets`: the target's nodes, cell by cell. `tenants`: the run's recorder, whose group
  /// names are the tenants. Figures count over [measure_from, measure_to].
  CellRouter(const Config& config, std::vector<sim::NodeId> targets, const RequestRecorder& tenants,
             sim::Time measure_from, sim::Time measure_to);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  std::vector<const StateTimeline*> state_timelines() const override {
    return caller_.state_timelines();
  }

  const Caller& caller() const { return caller_; }
  /// The cell of tenant (group index) `tenant`, once started.
  std::uint32_t cell_of_tenant(std::uint16_t tenant) const;
  std::size_t cell_size() const { return cell_size_; }
  /// Requests received and not yet answered.
  std::size_t in_progress() const { return inbound_.size(); }

 private:
  struct Inbound {
    sim::NodeId from = sim::kNoNode;
    std::uint64_t call_id = 0;  // the upstream caller's
    std::uint32_t cell = 0;
  };

  void on_request(sim::Node& node, const sim::Message& message);
  void on_call_done(sim::Node& node, const CallResult& result) override;
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  CellRouterConfig config_;
  std::size_t cell_size_;  // nodes per cell
  Caller caller_;
  const RequestRecorder& tenants_;
  std::vector<std::uint32_t> cell_of_;  // per tenant, the last for the anonymous one
  SlotTable<Inbound> inbound_;
  sim::Time measure_from_, measure_to_;
  std::vector<std::uint64_t> cell_requests_, cell_failed_, cell_tenants_;
  std::uint64_t requests_ = 0, answered_ok_ = 0, answered_failed_ = 0, expired_ = 0;
};

}  // namespace models
