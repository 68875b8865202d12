#include "scenario/model_catalog.hpp"

#include <algorithm>

#include "models/cache.hpp"
#include "models/closed_loop_client.hpp"
#include "models/load_balancer.hpp"
#include "models/occ_client.hpp"
#include "models/occ_store.hpp"
#include "models/open_loop_client.hpp"
#include "models/relay.hpp"
#include "models/server.hpp"

namespace scenario {
namespace {

// Cross-field checks describe() cannot express.
void require_target(const models::CallerConfig& call, const std::string& path, Problems& problems) {
  if (call.target.empty())
    problems.add(path + "/target", "missing (required): the component this client calls");
}

std::vector<ModelBinding> all_models() {
  using namespace models;
  std::vector<ModelBinding> all;
  all.push_back(bind_model<ServerConfig>(
      "server",
      "A queueing server: `workers` serve requests concurrently from a queue of at most "
      "`queue_limit` waiting requests (full: Rejected at once), in `queue` order: fifo, lifo, "
      "adaptive_lifo or codel (sheds at dequeue, Rejected, when the queueing delay stays above "
      "`codel_target` for `codel_interval`). Overload controls: a token bucket (`rate_limit`, "
      "`burst`: RateLimited at once), `drop_expired` (answers Dropped instead of serving a "
      "request whose deadline passed, or is less than `expiry_margin` away). Each request takes "
      "a draw of `service_time`, times the node's slowdown (gray failure), times 1 + "
      "`contention` x max(0, in_system - `contention_knee`); it fails with probability "
      "`error_rate`. Completions after their deadline are counted as wasted work. A crash loses "
      "the queue and the requests in service.",
      &Server::make));
  all.push_back(bind_model<OpenLoopClientConfig>(
      "open_loop_client",
      "Requests arrive at `rate` per client node (Poisson or evenly spaced), whether or not "
      "earlier ones were "
      "answered, stepped by `schedule` and scaled by load faults. Each request calls one random "
      "node of "
      "`target` and fails with a timeout after `timeout`. Latency is what the client saw.",
      &OpenLoopClient::make,
      [](const OpenLoopClientConfig& c, const std::string& path, Problems& p) {
        require_target(c.call, path, p);
        if (c.key_popularity == KeyPopularity::Zipf && c.keys > 10'000'000)
          p.add(path + "/keys",
                "expected at most 1e7 keys with zipf popularity (its table is built up front)");
        for (std::size_t i = 1; i < c.schedule.size(); ++i)
          if (c.schedule[i].at < c.schedule[i - 1].at)
            p.add(path + "/schedule/" + std::to_string(i) + "/at",
                  "expected the steps in time order");
      },
      /*generates_load=*/true));
  all.push_back(bind_model<ClosedLoopClientConfig>(
      "closed_loop_client",
      "`users` per client node, each sending one request, waiting for its outcome, thinking for a "
      "draw of "
      "`think_time`, and sending again: load that backs off when the system slows down.",
      &ClosedLoopClient::make,
      [](const ClosedLoopClientConfig& c, const std::string& path, Problems& p) {
        require_target(c.call, path, p);
      }));
  all.push_back(bind_model<LoadBalancerConfig>(
      "load_balancer",
      "A load balancer in front of the replicas of `backends`: forwards each request to one "
      "backend in rotation chosen by `policy` (round_robin, random, least_outstanding, p2c, "
      "sticky) and relays the answer; optional per-forward `timeout` (answered Timeout). Active "
      "`health_check` probes and passive `outlier_detection` take failing backends out of "
      "rotation; with none left, requests are answered Rejected. No retries of its own.",
      &LoadBalancer::make, [](const LoadBalancerConfig& c, const std::string& path, Problems& p) {
        for (const auto& [field, message] : check_load_balancer(c))
          p.add(path + "/" + field, message);
      }));
  all.push_back(bind_model<OccStoreConfig>(
      "occ_store",
      "An optimistic-concurrency store: `keys` versioned values; a read returns a key's version, "
      "a conditional write naming the version read succeeds (version + 1) or is Rejected as a "
      "conflict. One request at a time (FIFO), each taking a draw of `service_time`.",
      &OccStore::make));
  all.push_back(bind_model<OccClientConfig>(
      "occ_client",
      "Makes `writes` successful updates of an occ_store, each as read + conditional write, "
      "backing off (`retry`: backoff and jitter as in AWS's \"Exponential Backoff and Jitter\") "
      "after every conflict and trying again. Attempts per request = calls per write; latency = "
      "time to complete the write.",
      &OccClient::make, [](const OccClientConfig& c, const std::string& path, Problems& p) {
        if (c.target.empty())
          p.add(path + "/target", "missing (required): the occ_store this client writes to");
      }));
  all.push_back(bind_model<CacheConfig>(
      "cache",
      "A TTL cache in front of `store`: a hit (a value younger than `ttl`) is answered after "
      "`hit_time`; a miss fetches from the store and answers with its outcome. `coalesce`: misses "
      "for a key being fetched wait for that fetch (single flight). `early_refresh`: XFetch "
      "probabilistic early expiration with `beta`. At most `capacity` keys, LRU eviction.",
      &Cache::make, [](const CacheConfig& c, const std::string& path, Problems& p) {
        if (c.store.empty())
          p.add(path + "/store", "missing (required): the component behind the cache");
      }));
  all.push_back(bind_model<RelayConfig>(
      "relay",
      "A middle tier: each request waits a draw of `service_time`, then is forwarded to a random "
      "node of `target` through the relay's own caller (`timeout`, `retry`, `circuit_breaker`, "
      "as a client's); the final outcome is answered upstream (Ok; a timeout as Timeout; any "
      "other failure as Error). Unbounded concurrency. Retries compose across relays.",
      &Relay::make, [](const RelayConfig& c, const std::string& path, Problems& p) {
        require_target(c.call, path, p);
      }));
  std::sort(all.begin(), all.end(),
            [](const ModelBinding& a, const ModelBinding& b) { return a.name < b.name; });
  return all;
}

}  // namespace

const std::vector<ModelBinding>& model_catalog() {
  static const std::vector<ModelBinding> catalog = all_models();
  return catalog;
}

const ModelBinding* find_model(std::string_view name) {
  for (const auto& m : model_catalog())
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace scenario
