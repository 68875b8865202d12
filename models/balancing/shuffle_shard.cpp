#include "models/balancing/shuffle_shard.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

#include "sim/assert.hpp"
#include "sim/rng.hpp"

namespace models {

std::vector<std::uint32_t> shuffle_shard(std::string_view tenant, std::uint64_t seed,
                                         std::uint32_t n, std::uint32_t k) {
  DSIM_ASSERT(k > 0 && k <= n, "a shuffle shard has 1 to n backends");
  sim::Rng rng = sim::Rng::stream(seed, tenant);
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  for (std::uint32_t i = 0; i < k; ++i) {
    const auto j = i + static_cast<std::uint32_t>(rng.below(n - i));
    std::swap(order[i], order[j]);
  }
  order.resize(k);
  std::sort(order.begin(), order.end());
  return order;
}

ShuffleShards::ShuffleShards(const std::vector<std::string>& names, std::uint64_t seed,
                             std::uint32_t n, std::uint32_t k)
    : tenants_(names.size()), k_(k) {
  members_.reserve((names.size() + 1) * k);
  for (const std::string& name : names) {
    const auto shard = shuffle_shard(name, seed, n, k);
    members_.insert(members_.end(), shard.begin(), shard.end());
  }
  const auto anonymous = shuffle_shard("", seed, n, k);
  members_.insert(members_.end(), anonymous.begin(), anonymous.end());
}

}  // namespace models
