// A TTL cache node in front of a slower store (a look-aside cache with its own fetch logic),
// with the two classic defences against a cache stampede.
//
// Semantics, for a read (RpcRequest.operation kOpRead, or any other verb but kOpWrite) about
// key k (RpcRequest.key):
// - Hit: k has a value that has not expired (now < expiry, on the cache node's clock). The
//   request is answered Ok with the value after a draw of `hit_time`.
// - Miss: k has no value, or it has expired. The cache fetches k from one node of `store`
//   (picked uniformly at random), and answers the request with the fetch's outcome when it
//   comes back. A successful fetch stores the value with expiry = now + `ttl` and remembers how
//   long it took (its recompute time, XFetch's delta). A failed fetch (Rejected, Error, ... from
//   the store) is passed on to its waiting requests; a fetch that gets no answer within
//   `fetch_timeout` fails them with Error. Except: if the key holds a fresh value by then (a
//   failed early refresh, or another fetch that succeeded meanwhile), they get that value, Ok.
//   A late answer to a timed-out fetch is ignored.
// - Deadlines (`propagate_deadline`, on by default): a fetch carries the deadline of the request
//   that started it, if that is sooner than `fetch_timeout` (so a store can drop a fetch nobody
//   waits for). A coalesced fetch carries its first requester's deadline: the others wait for
//   the same fetch, whatever their own deadlines.
// - Naive (the default): every miss sends its own fetch. When a hot key expires, every request
//   for it that arrives before the first fetch returns misses and fetches too: a stampede of
//   about rate(k) x fetch time calls on the store, which slows the store, which lengthens the
//   window, which lets more misses in.
// - `coalesce` (request coalescing, single flight): while a fetch of k is in flight, a miss for
//   k waits for that fetch (it is "coalesced") instead of sending its own.
// - `early_refresh` (probabilistic early expiration, "XFetch": Vattani, Chierichetti and
//   Lowenstein, "Optimal Probabilistic Cache Stampede Prevention", VLDB 2015): a request that
//   finds a valid value refreshes it anyway if  now - delta * beta * ln(U) >= expiry,  with U
//   uniform in (0, 1], delta the key's last recompute time and beta = `beta`. That is, with
//   probability exp(-(expiry - now) / (delta * beta)): negligible until the last few deltas
//   before expiry, so a hot key is refreshed by one request shortly before it expires, while
//   the others still hit. As in the paper, the request that refreshes waits for the fetch.
//   With `coalesce` too, a request does not refresh a key that already has a fetch in flight.
// - `capacity`: at most that many keys (with or without a value) are kept; a new key takes the
//   place of the least recently used one (LRU; a hit or a miss counts as a use). A key with a
//   fetch in flight is never evicted. If every entry has a fetch in flight, a miss for a new key
//   still fetches, but without an entry: it is not coalesced, and its value is not stored.
//
// Writes (RpcRequest.operation kOpWrite; clients' `write_fraction`): write-around with
// invalidation, the look-aside discipline of memcache at Facebook (Nishtala et al., "Scaling
// Memcache at Facebook", NSDI 2013: the web server updates the database, then deletes the key
// from memcache; a later read misses and fills it). A write is never answered from the cache
// nor coalesced: it goes to one node of `store` (with `fetch_timeout` and the deadline rules of
// a fetch), and when its answer comes back -- whatever the outcome: a failed or timed-out write
// may have taken effect -- the key's value is dropped and the writer gets the store's answer
// (a timeout as Error). Fetches of the key in flight at that moment may have read the old
// value: they still answer their waiters (whose reads overlapped the write), but they do not
// store it, and later misses do not join them -- the role of the paper's leases, which are
// invalidated by a delete so that a stale "set" is refused. Differences from the paper: the
// cache node does the fetches and the delete itself (memcache clients do them), there are no
// lease tokens, hot-key "stale values" or delete buffering, and a read reaching the cache
// while a write is in flight may still hit the old value (as it may in memcache until the
// delete). Not covered: a fetch made without an entry (every entry pinned) stores what it read
// even if a write overtook it, and a write the store applies after the cache stopped waiting
// for it can leave an old value cached until `ttl`.
//
// Figures (measured over requests that arrive after the warm-up): requests (reads and writes),
// hits, misses, coalesced (misses that joined another's fetch), early_refreshes (requests that
// refreshed a valid value), fetches (reads' calls to the store), fetch_failures, evictions,
// writes, invalidations (values dropped by writes), fills_discarded (fetched values not stored
// because a write overtook them), hit_ratio (hits / reads), and max_concurrent_fetches_per_key,
// the largest number of fetches of one key in flight at once: the size of the worst stampede
// (1 with coalescing).
//
// The cache's own fetches are not client requests: they are not recorded by the run's
// RequestRecorder (so the report's table shows what the clients saw). Randomness: hit times from
// the node's stream "hits", XFetch draws from "refresh", the store replica from "store".
// State is volatile: a crash loses the entries, the fetches in flight and the requests waiting
// (unanswered), and a restart begins cold. Nothing allocates per request once the tables of
// waiting requests and fetches have grown to their peak.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/caching/cache_table.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/rpc.hpp"
#include "models/shared/slot_table.hpp"
#include "sim/distribution.hpp"
#include "sim/node.hpp"

namespace models {

struct CacheConfig {
  static constexpr const char* kSummary =
      "A TTL cache in front of `store`: a hit (a value younger than `ttl`) is answered after "
      "`hit_time`; a miss fetches from the store and answers with its outcome. `coalesce`: misses "
      "for a key being fetched wait for that fetch (single flight). `early_refresh`: XFetch "
      "probabilistic early expiration with `beta`. At most `capacity` keys, LRU eviction. A "
      "write goes to the store and drops the key's value (delete on write).";

  ComponentRef store;
  sim::Duration ttl = sim::Duration::nanoseconds(5'000'000'000);
  sim::Distribution hit_time = sim::Distribution::constant(100e3);
  sim::Duration fetch_timeout = sim::Duration::nanoseconds(1'000'000'000);
  bool coalesce = false;
  bool early_refresh = false;
  double beta = 1.0;
  std::int64_t capacity = 10'000;
  bool propagate_deadline = true;

  template <class V>
  void describe(V& v) {
    v.field("store", store,
            "the component behind the cache (required), called on a miss; one of its nodes is "
            "picked uniformly at random for each fetch");
    v.field("ttl", ttl, "how long a fetched value stays fresh, on the cache node's clock (> 0)",
            Limits{1});
    v.field("hit_time", hit_time, "time to answer a hit", Limits{0});
    v.field("fetch_timeout", fetch_timeout,
            "a fetch (or write) not answered by then fails its waiting requests with an error; "
            "0: wait forever",
            Limits{0});
    v.field("coalesce", coalesce,
            "request coalescing (single flight): a miss for a key whose fetch is in flight waits "
            "for it instead of fetching again");
    v.field("early_refresh", early_refresh,
            "probabilistic early expiration (XFetch): a hit refreshes the key with probability "
            "exp(-(expiry - now) / (delta x beta)), delta being the key's last fetch time");
    v.field("beta", beta, "XFetch's beta (> 0): larger refreshes earlier", Limits{1e-9, 1e6});
    v.field("capacity", capacity,
            "most keys kept; a new key evicts the least recently used one (a table of this size "
            "is allocated at start)",
            Limits{1, 1e7});
    v.field("propagate_deadline", propagate_deadline,
            "a fetch carries the deadline of the request that started it when that is sooner "
            "than fetch_timeout; false: only fetch_timeout");
  }
};

class Cache final : public Model {
 public:
  using Config = CacheConfig;
  static Wiring wiring(const Config& c) {
    return {.serves = {Protocol::Rpc, Protocol::Health},
            .calls = {{"store", c.store, {Protocol::Rpc}}}};
  }
  static FigureDocs figure_docs();

  enum TimerKind : std::uint32_t { kHitDone = 1, kFetchTimeout = 2 };

  /// `store`: the store's nodes (not empty). Figures are measured over [measure_from,
  /// measure_to] in true time.
  Cache(const CacheConfig& config, sim::Node& node, std::vector<sim::NodeId> store,
        sim::Time measure_from, sim::Time measure_to);

  /// The instance for ctx.nodes[replica]. Throws std::invalid_argument if `store` is not named
  /// or has no nodes. Does not attach it.
  static std::unique_ptr<Model> make(const CacheConfig& config, BuildContext& ctx,
                                     std::size_t replica);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;

  std::size_t fetches_in_flight() const { return fetches_.size(); }
  /// Requests waiting for a hit's answer or for a fetch.
  std::size_t requests_waiting() const { return waiting_.size(); }
  std::uint64_t entries() const { return table_.size(); }

 private:
  using Id = SlotTable<int>::Id;
  /// A request waiting to be answered; waiters of one fetch form a list through `next`.
  struct Waiter {
    sim::NodeId from = sim::kNoNode;
    std::uint64_t call_id = 0;
    std::uint64_t value = 0;  // a hit's answer
    Id next = 0;              // the next waiter of the same fetch (0: the last)
  };
  struct Fetch {
    std::uint64_t key = 0;
    Id first = 0, last = 0;  // its waiters, in arrival order
    sim::Time started;       // on the node's clock
    sim::TimerId timeout;
    bool has_entry = false;         // counted in its entry's in_flight (the entry is pinned)
    bool write = false;             // a client's write passed to the store, not a fetch
    std::uint32_t writes_seen = 0;  // its entry's `writes` when it started
  };

  void on_request(sim::Node& node, const sim::Message& message);
  void on_store_answer(sim::Node& node, const RpcResponse& response);
  /// The XFetch test for a valid entry (draws one uniform).
  bool refresh_early(sim::Time now, const CacheEntry& entry);
  void answer_hit_later(sim::Node& node, const Waiter& waiter);
  /// Sends `request`'s key to the store for `waiter`: a fetch (pinning `entry` if not null) or a
  /// write (no entry).
  void start_fetch(sim::Node& node, const RpcRequest& request, CacheEntry* entry, Id waiter,
                   bool write);
  void finish_fetch(sim::Node& node, Id fetch, Outcome outcome, std::uint64_t value);
  /// A write of `key` was answered: drop its value; fetches in flight will not store theirs.
  void invalidate(sim::Node& node, std::uint64_t key);
  /// Sends the answer to a list of waiters (through Waiter::next) and forgets them.
  void answer_waiters(sim::Node& node, Id first, Outcome outcome, std::uint64_t value);
  bool measuring(const sim::Node& node) const;

  CacheConfig config_;
  std::vector<sim::NodeId> store_;
  sim::Rng hit_rng_, refresh_rng_, store_rng_;
  sim::Time measure_from_, measure_to_;
  CacheTable table_;
  SlotTable<Waiter> waiting_;
  SlotTable<Fetch> fetches_;  // keyed by the fetch's call id

  std::uint64_t requests_ = 0, hits_ = 0, misses_ = 0, coalesced_ = 0, early_refreshes_ = 0;
  std::uint64_t fetches_sent_ = 0, fetch_failures_ = 0, evictions_ = 0, late_answers_ = 0;
  std::uint64_t writes_ = 0, invalidations_ = 0, fills_discarded_ = 0;
  std::uint32_t max_fetches_per_key_ = 0;
};

}  // namespace models
