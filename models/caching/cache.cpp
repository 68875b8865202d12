#include "models/caching/cache.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "models/shared/health.hpp"
#include "sim/assert.hpp"

namespace models {

Cache::Cache(const CacheConfig& config, sim::Node& node, std::vector<sim::NodeId> store,
             sim::Time measure_from, sim::Time measure_to)
    : config_(config),
      store_(std::move(store)),
      hit_rng_(node.stream("hits")),
      refresh_rng_(node.stream("refresh")),
      store_rng_(node.stream("store")),
      measure_from_(measure_from),
      measure_to_(measure_to),
      table_(static_cast<std::uint64_t>(config.capacity)) {
  DSIM_ASSERT(!store_.empty(), "a cache needs a store");
  DSIM_ASSERT(config.ttl > sim::Duration::zero(), "a ttl is positive");
  DSIM_ASSERT(config.fetch_timeout >= sim::Duration::zero(), "a fetch timeout cannot be negative");
  DSIM_ASSERT(config.beta > 0, "XFetch's beta is positive");
}

std::unique_ptr<Model> Cache::make(const CacheConfig& config, BuildContext& ctx,
                                   std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "cache replica out of range");
  if (config.store.empty())
    throw std::invalid_argument("store: required, the component behind the cache");
  std::vector<sim::NodeId> store = ctx.resolve(config.store);
  if (store.empty())
    throw std::invalid_argument("store: component '" + config.store.name + "' has no nodes");
  return std::make_unique<Cache>(config, ctx.cluster.node(ctx.nodes[replica]), std::move(store),
                                 ctx.warmup_end, ctx.end);
}

void Cache::on_start(sim::Node& /*node*/) {
  // Cold: after a restart, on_crash has already emptied everything.
}

bool Cache::measuring(const sim::Node& node) const {
  const sim::Time now = node.true_now();
  return now >= measure_from_ && now <= measure_to_;
}

void Cache::on_message(sim::Node& node, const sim::Message& message) {
  if (answer_health_probe(node, message)) return;  // checkable behind a load balancer
  if (message.holds<RpcResponse>()) {
    on_store_answer(node, message.as<RpcResponse>());
  } else {
    on_request(node, message);
  }
}

bool Cache::refresh_early(sim::Time now, const CacheEntry& entry) {
  // XFetch: refresh iff now - delta * beta * ln(U) >= expiry, U in (0, 1]. Computed in seconds;
  // -ln(U) is in [0, 36.8], so the product cannot overflow.
  const double gap = (entry.expiry - now).seconds();
  const double boost =
      -entry.recompute.seconds() * config_.beta * std::log(refresh_rng_.uniform01_open_low());
  return boost >= gap;
}

void Cache::on_request(sim::Node& node, const sim::Message& message) {
  const auto request = message.as<RpcRequest>();
  const sim::Time now = node.now();
  const bool measured = measuring(node);
  if (measured) ++requests_;
  const Waiter waiter{.from = message.from, .call_id = request.call_id};
  if (request.operation == kOpWrite) {  // never from the cache: to the store
    if (measured) ++writes_;
    start_fetch(node, request, nullptr, waiting_.insert(waiter), true);
    return;
  }

  CacheEntry* entry = table_.find(request.key);
  if (entry != nullptr && entry->has_value && now < entry->expiry) {
    table_.touch(*entry);
    const bool joinable = config_.coalesce && entry->in_flight > 0;
    if (config_.early_refresh && !joinable && refresh_early(now, *entry)) {
      if (measured) ++early_refreshes_;
      start_fetch(node, request, entry, waiting_.insert(waiter), false);
      return;
    }
    if (measured) ++hits_;
    answer_hit_later(node,
                     Waiter{.from = waiter.from, .call_id = waiter.call_id, .value = entry->value});
    return;
  }

  if (measured) ++misses_;
  bool evicted = false;
  entry = table_.acquire(request.key, evicted);  // also marks it used
  if (evicted && measured) ++evictions_;
  const Id id = waiting_.insert(waiter);
  if (config_.coalesce && entry != nullptr && entry->leader != 0) {
    Fetch* leader = fetches_.find(entry->leader);
    DSIM_ASSERT(leader != nullptr, "an entry's leader is a fetch in flight");
    waiting_.find(leader->last)->next = id;
    leader->last = id;
    if (measured) ++coalesced_;
    return;
  }
  start_fetch(node, request, entry, id, false);
}

void Cache::answer_hit_later(sim::Node& node, const Waiter& waiter) {
  const Id id = waiting_.insert(waiter);
  node.set_timer(config_.hit_time.sample_duration(hit_rng_), {kHitDone, id});
}

void Cache::start_fetch(sim::Node& node, const RpcRequest& request, CacheEntry* entry, Id waiter,
                        bool write) {
  DSIM_ASSERT(!write || entry == nullptr, "a write neither pins nor leads an entry");
  const Id id = fetches_.insert(Fetch{.key = request.key,
                                      .first = waiter,
                                      .last = waiter,
                                      .started = node.now(),
                                      .has_entry = entry != nullptr,
                                      .write = write,
                                      .writes_seen = entry != nullptr ? entry->writes : 0});
  std::uint32_t concurrent = 1;
  if (entry != nullptr) {
    concurrent = ++entry->in_flight;
    entry->leader = id;
  }
  if (!write && measuring(node)) {
    ++fetches_sent_;
    max_fetches_per_key_ = std::max(max_fetches_per_key_, concurrent);
  }
  const bool timed = config_.fetch_timeout > sim::Duration::zero();
  sim::Time deadline = timed ? node.true_now() + config_.fetch_timeout : sim::Time::max();
  if (config_.propagate_deadline) deadline = std::min(deadline, request.deadline);
  const RpcRequest fetch{.call_id = id,
                         .key = request.key,
                         .deadline = deadline,
                         .hops = static_cast<std::uint16_t>(request.hops + 1),
                         .request_id = request.request_id,
                         .origin = request.origin,
                         .operation = request.operation,
                         .idempotent = request.idempotent};
  node.send(store_[store_rng_.below(store_.size())], fetch);
  if (timed)
    fetches_.find(id)->timeout = node.set_timer(config_.fetch_timeout, {kFetchTimeout, id});
}

void Cache::on_store_answer(sim::Node& node, const RpcResponse& response) {
  Fetch* fetch = fetches_.find(response.call_id);
  if (fetch == nullptr) {  // it timed out already, or the answer was duplicated
    if (measuring(node)) ++late_answers_;
    return;
  }
  if (fetch->timeout.serial != 0) node.cancel_timer(fetch->timeout);
  finish_fetch(node, response.call_id, response.outcome, response.value);
}

void Cache::on_timer(sim::Node& node, sim::TimerTag tag) {
  switch (tag.kind) {
    case kHitDone: {
      const Waiter* w = waiting_.find(tag.value);
      DSIM_ASSERT(w != nullptr, "a hit waiting for its answer");
      node.send(w->from,
                RpcResponse{.call_id = w->call_id, .outcome = Outcome::Ok, .value = w->value});
      waiting_.erase(tag.value);
      return;
    }
    case kFetchTimeout:
      // A timeout cancelled by its answer never fires, so the fetch is still in flight here.
      if (fetches_.find(tag.value) != nullptr) finish_fetch(node, tag.value, Outcome::Timeout, 0);
      return;
    default:
      DSIM_ASSERT(false, "unknown cache timer");
  }
}

void Cache::invalidate(sim::Node& node, std::uint64_t key) {
  CacheEntry* entry = table_.find(key);
  if (entry == nullptr) return;  // nothing cached, and no fetch of it with an entry in flight
  if (entry->has_value && measuring(node)) ++invalidations_;
  entry->has_value = false;
  ++entry->writes;    // fetches in flight may have read the old value: they will not store it
  entry->leader = 0;  // nor will later misses join them
}

void Cache::finish_fetch(sim::Node& node, Id id, Outcome outcome, std::uint64_t value) {
  const Fetch fetch = *fetches_.find(id);
  fetches_.erase(id);
  const sim::Time now = node.now();
  if (fetch.write) {
    // Whatever the outcome: a write that failed or timed out may still have taken effect.
    invalidate(node, fetch.key);
    answer_waiters(node, fetch.first, outcome == Outcome::Timeout ? Outcome::Error : outcome,
                   value);
    return;
  }
  CacheEntry* entry = nullptr;
  if (fetch.has_entry) {
    entry = table_.find(fetch.key);
    DSIM_ASSERT(entry != nullptr && entry->in_flight > 0, "a fetch's entry is pinned");
    --entry->in_flight;
    if (entry->leader == id) entry->leader = 0;
  }
  const bool overtaken = entry != nullptr && entry->writes != fetch.writes_seen;
  if (overtaken && outcome == Outcome::Ok && measuring(node)) ++fills_discarded_;
  if (outcome == Outcome::Ok && !overtaken) {
    if (entry == nullptr) {
      bool evicted = false;
      entry = table_.acquire(fetch.key, evicted);
      if (evicted && measuring(node)) ++evictions_;
    }
    if (entry != nullptr) {
      entry->has_value = true;
      entry->value = value;
      entry->expiry = now + config_.ttl;
      entry->recompute = std::max(now - fetch.started, sim::Duration::zero());  // a clock step
    }
  } else if (outcome != Outcome::Ok && measuring(node)) {
    ++fetch_failures_;
  }
  // A failed fetch is passed on (a timeout as the cache's own Error), unless the key holds a
  // fresh value by now: a failed early refresh, or another fetch that succeeded meanwhile.
  Outcome answer = outcome == Outcome::Timeout ? Outcome::Error : outcome;
  if (answer != Outcome::Ok && entry != nullptr && entry->has_value && now < entry->expiry) {
    answer = Outcome::Ok;
    value = entry->value;
  }
  answer_waiters(node, fetch.first, answer, value);
}

void Cache::answer_waiters(sim::Node& node, Id first, Outcome outcome, std::uint64_t value) {
  for (Id w = first; w != 0;) {
    const Waiter waiter = *waiting_.find(w);
    waiting_.erase(w);
    node.send(waiter.from,
              RpcResponse{.call_id = waiter.call_id, .outcome = outcome, .value = value});
    w = waiter.next;
  }
}

void Cache::on_crash(sim::Node& /*node*/) {
  // Timers die with the node's incarnation; late store answers find no fetch (new generations).
  waiting_.clear();
  fetches_.clear();
  table_.clear();
}

FigureDocs Cache::figure_docs() {
  return {
      {"requests", "requests", Combine::Sum, "requests that reached the cache (reads and writes)"},
      {"hits", "requests", Combine::Sum, "answered from a fresh value"},
      {"misses", "requests", Combine::Sum, "found no fresh value"},
      {"coalesced", "requests", Combine::Sum, "misses that joined a fetch already in flight"},
      {"early_refreshes", "requests", Combine::Sum,
       "hits that refreshed the value early (XFetch) and waited for the fetch"},
      {"fetches", "calls", Combine::Sum, "calls to the store"},
      {"fetch_failures", "calls", Combine::Sum, "fetches that failed or timed out"},
      {"evictions", "keys", Combine::Sum, "keys evicted to make room (LRU)"},
      {"late_fetch_answers", "answers", Combine::Sum, "store answers after the fetch timed out"},
      {"writes", "requests", Combine::Sum,
       "write requests: passed to the store, never answered from the cache"},
      {"invalidations", "keys", Combine::Sum, "cached values dropped by a write's answer"},
      {"fills_discarded", "calls", Combine::Sum,
       "fetched values not stored because a write of the key was answered meanwhile"},
      {"hit_ratio", "fraction", Combine::Mean, "hits / read requests (writes cannot hit)"},
      {"max_concurrent_fetches_per_key", "calls", Combine::Max,
       "the most fetches of one key in flight at once: the worst stampede (1 with coalescing)"},
  };
}

void Cache::figures(Figures& out) const {
  out.sum("requests", static_cast<double>(requests_));
  out.sum("hits", static_cast<double>(hits_));
  out.sum("misses", static_cast<double>(misses_));
  out.sum("coalesced", static_cast<double>(coalesced_));
  out.sum("early_refreshes", static_cast<double>(early_refreshes_));
  out.sum("fetches", static_cast<double>(fetches_sent_));
  out.sum("fetch_failures", static_cast<double>(fetch_failures_));
  out.sum("evictions", static_cast<double>(evictions_));
  out.sum("late_fetch_answers", static_cast<double>(late_answers_));
  out.sum("writes", static_cast<double>(writes_));
  out.sum("invalidations", static_cast<double>(invalidations_));
  out.sum("fills_discarded", static_cast<double>(fills_discarded_));
  const std::uint64_t reads = requests_ - writes_;
  out.mean("hit_ratio", reads == 0 ? 0.0 : static_cast<double>(hits_) / static_cast<double>(reads));
  out.max("max_concurrent_fetches_per_key", static_cast<double>(max_fetches_per_key_));
}

}  // namespace models
