// Shuffle sharding: each tenant is given its own small random subset ("shard") of k of a
// balancer's n backends, so that a tenant whose requests poison or overload its backends hurts
// only the tenants that share all of them with it: with n = 8 and k = 2, one in C(8, 2) = 28;
// with n = 100 and k = 5, one in 75 million (AWS Builders' Library, "Workload isolation using
// shuffle-sharding"; Vitillo, "Understanding Distributed Systems", shuffle sharding).
//
// The shard of a tenant is a function of (seed, the tenant's name, n, k) only:
// - a partial Fisher-Yates shuffle of 0 .. n-1 drawn from the tenant's own stream
//   sim::Rng::stream(seed, name) (key = splitmix64(seed) XOR fnv1a64(name), sim/rng.hpp): step i
//   swaps position i with a position drawn uniformly in [i, n); the first k positions are the
//   shard (then sorted). Every ordered k-tuple of distinct backends is equally likely, so every
//   one of the C(n, k) combinations is too; two tenants' shards are independent, so the size of
//   their overlap follows the hypergeometric law (k draws from n, k of them "successes").
// - by the name, not by the tenant's index in the run: adding a client component (a new
//   tenant) reshuffles no one, and every replica of a balancer computes the same shards.
// - not by the run's seed: an assignment is configuration, the same in every seed of a scenario
//   (as a deployed one is); vary `seed` across variants to compare assignments.
// Backends are numbered in the order of their component's nodes.
//
// Differences from AWS's shuffle sharding (the Builders' Library article's worked example is 8
// workers and shards of 2: 28 combinations; Route 53 gives each hosted zone 4 name servers):
// - Route 53 draws one name server from each of four "stripes" (top-level domains) and
//   enforces at assignment that no hosted zone overlaps any earlier one in more than two name
//   servers; here shards are independent draws from all n backends, so overlaps follow the
//   hypergeometric law without a cap (the article's arithmetic assumes exactly that).
// - Route 53's resolvers retry across the shard's name servers; here the shard restricts a
//   load balancer's choice, and retrying is the caller's.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace models {

/// The shuffle shard of the tenant named `tenant`: k distinct indices of 0 .. n-1, ascending
/// (0 < k <= n).
std::vector<std::uint32_t> shuffle_shard(std::string_view tenant, std::uint64_t seed,
                                         std::uint32_t n, std::uint32_t k);

/// The shards of every tenant of a run, computed once: tenant t (the RequestRecorder's group t,
/// RpcRequest.tenant) has the shard of names[t]. A tenant index beyond the names (a request
/// started by a model that records into no group) gets the shard of the empty name: such
/// requests are one anonymous tenant.
class ShuffleShards {
 public:
  ShuffleShards() = default;
  ShuffleShards(const std::vector<std::string>& names, std::uint64_t seed, std::uint32_t n,
                std::uint32_t k);

  /// The shard of tenant `tenant`, ascending (k indices).
  std::span<const std::uint32_t> of(std::uint32_t tenant) const {
    const std::size_t t = tenant < tenants_ ? tenant : tenants_;  // the anonymous one
    return {members_.data() + t * k_, k_};
  }
  /// The named tenants (the anonymous one not counted).
  std::size_t tenants() const { return tenants_; }
  std::uint32_t size() const { return k_; }
  bool empty() const { return k_ == 0; }

 private:
  std::size_t tenants_ = 0;
  std::uint32_t k_ = 0;
  std::vector<std::uint32_t> members_;  // (tenants_ + 1) x k_, tenant by tenant
};

}  // namespace models
