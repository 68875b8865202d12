// Who a client's requests belong to: the group they are reported under, which every request
// carries as its tenant (RpcRequest.tenant), and which share of them are poison requests.
// One part of every client's configuration (its fields sit at the top level of the client's
// JSON), so that both clients name tenants and draw poison the same way.
//
// - `group`: the report's row for these requests; empty: the component's name. Client
//   components with the same group are pooled into one tenant.
// - `tenant_per_node`: each node of the component is a tenant of its own, named
//   `<group>/<i>` for the i-th node (0-based): one component models many tenants, and the
//   report counts how many of them were affected (report-format.md, "tenants").
// - `poison_fraction`: the share of requests that are poison (RpcRequest.poison): a request that
//   crashes or stalls the worker serving it (a server's `poison` section says which). Drawn from
//   the node's stream "poison", only when above 0, so that clients without poison draw nothing
//   new.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/rpc.hpp"
#include "sim/rng.hpp"

namespace models {

struct Tenancy {
  std::string group;
  bool tenant_per_node = false;
  Probability poison_fraction{0};

  template <class V>
  void describe(V& v) {
    v.field("group", group,
            "the group (tenant) its requests are reported under and carry (a row of the table "
            "per group); empty: the component's name. Client components with the same group are "
            "pooled");
    v.field("tenant_per_node", tenant_per_node,
            "each node is a tenant of its own, reported as group `<group>/<i>` (i: the node's "
            "index from 0); the report counts the tenants affected and untouched");
    v.field("poison_fraction", poison_fraction,
            "share of the requests that are poison: they crash or stall the worker that serves "
            "them (the server's `poison` section)");
  }

  /// A component of `count` nodes: with tenant_per_node, at most kMaxTenants of them.
  std::vector<ConfigProblem> check(std::size_t count) const {
    if (!tenant_per_node || count <= kMaxTenants) return {};
    return {{"tenant_per_node", "expected at most " + std::to_string(kMaxTenants) +
                                    " tenants (nodes), got " + std::to_string(count)}};
  }
  /// The recorder group of the component's replica-th node.
  std::uint32_t group_of(BuildContext& ctx, std::size_t replica) const {
    if (!tenant_per_node) return ctx.group(group);
    return ctx.recorder.group((group.empty() ? ctx.component : group) + "/" +
                              std::to_string(replica));
  }
  /// The node's stream "poison" when poison() draws from it (poison_fraction above 0), else
  /// null: a client without poison holds no generator for it.
  std::unique_ptr<sim::Rng> stream_for_poison(const sim::Node& node) const {
    return poison_fraction.value > 0 ? std::make_unique<sim::Rng>(node.stream("poison")) : nullptr;
  }
  /// Whether the next request is poison: drawn from `rng` (stream_for_poison) only when
  /// poison_fraction > 0.
  bool poison(sim::Rng* rng) const {
    return poison_fraction.value > 0 && rng->bernoulli(poison_fraction.value);
  }
};

}  // namespace models
