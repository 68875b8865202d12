// Hedged and tied requests (Dean and Barroso, "The Tail at Scale", CACM 2013): ways for a caller
// to stop waiting for one slow replica.
//
// Hedged requests: when a try has not been answered after the hedge delay, the caller sends a
// second copy of it to another replica of the same target (another replica of the same shard,
// for a scatter/gather root) and takes whichever answer comes first. The delay is `delay`, or,
// with `percentile` > 0, that percentile of the latencies of the caller's recent successful tries
// (the paper hedges "after the request has been outstanding for more than the 95th-percentile
// expected latency"), over the last `window` of them; until 100 have been seen, `delay`.
// A budget bounds the extra load: each try deposits `max_extra_load` tokens, each hedge takes one
// (at most 10 + 100 x max_extra_load banked), so hedges stay below that fraction of the tries.
//
// Tied requests: both copies go at once, each marked tied; a server that starts serving a tied
// copy tells the caller (RpcStarted), and the caller cancels the other copy (RpcCancel), which a
// server removes from its queue if it has not started it yet. Both copies stay in flight: if
// both had started, the first answer wins. (A cancelled copy is never answered: should the
// started one then fail, the try ends at its timeout.)
//
// What the Caller does with two copies in flight (models/shared/caller.hpp): the first Ok answer
// ends the try and the other copy is forgotten (its answer is a late response; tied: it is also
// cancelled); a failure of one copy while the other is in flight is ignored; the per-try timeout
// covers both; the circuit breaker sees one result per try. Only idempotent requests are hedged
// (a hedge of a non-idempotent request could take effect twice by design).
//
// Differences from the paper: in Dean and Barroso's tied requests the servers tell each other
// directly; here the cancel goes through the caller (two network hops instead of one, so both
// copies start more often when queues are empty). One hedge per try, not several.
#pragma once

#include <cstdint>
#include <vector>

#include "models/shared/params.hpp"
#include "sim/time.hpp"

namespace models {

struct HedgeConfig {
  bool enabled = false;
  sim::Duration delay = sim::Duration::nanoseconds(10'000'000);
  double percentile = 0;
  std::int64_t window = 1000;
  Probability max_extra_load{0.05};
  bool tied = false;

  template <class V>
  void describe(V& v) {
    v.field("enabled", enabled, "send a second copy of a slow try to another replica");
    v.field("delay", delay,
            "hedge after this long without an answer (with `percentile`: until 100 latencies "
            "have been seen)",
            Limits{0});
    v.field("percentile", percentile,
            "> 0: hedge after this percentile of the recent successful tries' latency (the "
            "paper: 95); 0: after `delay`",
            Limits{0, 99.99});
    v.field("window", window, "recent latencies the percentile is taken over", Limits{10, 1e6});
    v.field("max_extra_load", max_extra_load,
            "hedges at most this fraction of the tries (a budget of extra load)");
    v.field("tied", tied,
            "tied requests: both copies at once; the server that starts one first gets the "
            "other cancelled (targets must serve `cancel`)");
  }
};

/// The hedge delay and the extra-load budget of one caller.
class HedgePolicy {
 public:
  explicit HedgePolicy(const HedgeConfig& config);

  const HedgeConfig& config() const { return config_; }
  /// How long a try waits before its hedge goes.
  sim::Duration delay() const { return delay_; }
  /// A try started: it deposits into the budget.
  void on_try();
  /// A hedge may go (and is paid for), or the budget is empty.
  bool try_spend();
  /// A successful try took `latency` (from its first copy to its first Ok answer).
  void observed(sim::Duration latency);

 private:
  void recompute();

  HedgeConfig config_;
  double tokens_ = 0;
  double cap_;
  std::vector<std::int64_t> recent_;  // ring of the last `window` latencies (ns)
  std::vector<std::int64_t> scratch_;
  std::size_t next_ = 0, seen_ = 0;
  sim::Duration delay_;
};

}  // namespace models
