#include "models/shared/hot_keys.hpp"

#include <algorithm>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>

#include "sim/assert.hpp"

namespace models {

namespace {

std::string number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

}  // namespace

std::vector<ConfigProblem> HotKeySampler::check(std::uint64_t keys,
                                                const std::vector<HotKey>& hot) {
  if (hot.empty())
    return {{"hot_keys",
             R"(required with "key_popularity": "hot_keys": a list of {"key": K, "share": S})"}};
  if (hot.size() > kMaxHotKeys)
    return {{"hot_keys", "expected at most " + std::to_string(kMaxHotKeys) + " named keys, got " +
                             std::to_string(hot.size())}};
  // first[i]: the first entry naming hot[i]'s key (i itself unless it is a repeat).
  std::vector<std::size_t> order(hot.size()), first(hot.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return hot[a].key < hot[b].key; });
  for (std::size_t j = 0; j < order.size(); ++j)
    first[order[j]] =
        j > 0 && hot[order[j - 1]].key == hot[order[j]].key ? first[order[j - 1]] : order[j];

  std::vector<ConfigProblem> problems;
  double sum = 0;
  for (std::size_t i = 0; i < hot.size(); ++i) {
    const std::string path = "hot_keys/" + std::to_string(i);
    const HotKey& h = hot[i];
    if (h.key < 0 || static_cast<std::uint64_t>(h.key) >= keys)
      problems.push_back({path + "/key", "expected a key below keys (" + std::to_string(keys) +
                                             "), got " + std::to_string(h.key)});
    else if (first[i] != i)
      problems.push_back({path + "/key", "key " + std::to_string(h.key) +
                                             " is named twice (also hot_keys/" +
                                             std::to_string(first[i]) + ")"});
    if (!(h.share > 0 && h.share <= 1))
      problems.push_back({path + "/share", "expected a share in (0, 1], got " + number(h.share)});
    sum += h.share;
  }
  if (!problems.empty()) return problems;
  if (sum > 1 + kShareSlack)
    problems.push_back({"hot_keys", "the shares add up to " + number(sum) + ", more than 1"});
  else if (sum < 1 - kShareSlack && hot.size() >= keys)
    problems.push_back({"hot_keys", "the shares add up to " + number(sum) +
                                        " but every key is named: no other key can take the "
                                        "remaining " +
                                        number(1 - sum)});
  return problems;
}

HotKeySampler::HotKeySampler(std::uint64_t keys, const std::vector<HotKey>& hot) : keys_(keys) {
  const std::vector<ConfigProblem> problems = check(keys, hot);
  if (!problems.empty())
    throw std::invalid_argument(problems.front().field + ": " + problems.front().message);
  double sum = 0;
  for (const HotKey& h : hot) {
    hot_.push_back(static_cast<std::uint64_t>(h.key));
    sum += h.share;
    cumulative_.push_back(sum);
  }
  if (sum >= 1 - kShareSlack) {
    cumulative_.back() = 1.0;  // a uniform in [0, 1) always finds a named key
  } else {
    rest_ = 1 - sum;
  }
  // The r-th other key is r plus the named keys below it: those whose skip_ value (the count
  // of other keys below them) is at most r.
  skip_ = hot_;
  std::sort(skip_.begin(), skip_.end());
  for (std::size_t i = 0; i < skip_.size(); ++i) skip_[i] -= i;
}

std::uint64_t HotKeySampler::sample(sim::Rng& rng) const {
  DSIM_ASSERT(!hot_.empty(), "a hot-key sampler with no named key");
  const double u = rng.uniform01();
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  if (it != cumulative_.end()) return hot_[static_cast<std::size_t>(it - cumulative_.begin())];
  const std::uint64_t r = rng.below(keys_ - hot_.size());
  return r + static_cast<std::uint64_t>(std::upper_bound(skip_.begin(), skip_.end(), r) -
                                        skip_.begin());
}

double HotKeySampler::probability(std::uint64_t key) const {
  DSIM_ASSERT(key < keys_, "a key beyond the sampler's");
  for (std::size_t i = 0; i < hot_.size(); ++i)
    if (hot_[i] == key) return cumulative_[i] - (i == 0 ? 0.0 : cumulative_[i - 1]);
  return rest_ / static_cast<double>(keys_ - hot_.size());
}

}  // namespace models
