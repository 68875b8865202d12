// A consistency checker for replicated key-value stores: an omniscient observer (ghost state,
// models/shared/invariants.hpp) that the store feeds with the ground truth of every write and read
// and that judges every read: stale or not, by how many versions and for how long, against the
// time since the last write (PBS plots), whether a session's reads went backwards or missed its
// own writes, and at the end which acknowledged writes were lost and, for small runs, whether each
// key's history is linearizable. Pure bookkeeping: no network, no randomness, no clock of its own.
// Ghost state is for measuring only: a store must never let it change what it does.
//
// References:
// - Bailis, Venkataraman, Franklin, Hellerstein, Stoica, "Probabilistically Bounded Staleness for
//   Practical Partial Quorums", VLDB 2012 (PBS): the time convention, t-visibility (staleness
//   against the time since a write committed) and k-staleness (versions behind).
// - Terry, Demers, Petersen, Spreitzer, Theimer, Welch, "Session Guarantees for Weakly Consistent
//   Replicated Data", PDIS 1994: monotonic reads and read your writes.
// - Herlihy and Wing, "Linearizability", TOPLAS 1990; Gibbons and Korach, "Testing Shared
//   Memories", SIAM J. Computing 1997: with the order of the writes and the write each read
//   returned both given, a register history is linearizable iff a precedence graph is acyclic.
//
// Time convention (PBS's): every time passed in is TRUE simulator time (never a node's clock) as
// seen at the coordinator that handles the request. A write is `invoked` when the coordinator
// receives it and `acked` ("commits") when the coordinator acknowledges it to its client; a read
// is `invoked` ("begins") when the coordinator receives it and `answered` when the coordinator
// sends the answer. A store calls write_acked at the moment it acknowledges and read_answered at
// the moment it answers, so that acked times (over all write_acked calls) and answered times
// (over all read_answered calls) each come in non-decreasing order (asserted).
//
// Versions totally order the writes of one key as the store orders them (a log index, a
// (timestamp, writer) pair packed into 64 bits, ...): unique per write of a key, 0 = never
// written (the initial value). Each version is acknowledged at most once.
//
// Judgements of a read of key k by session s, invoked at t, answered with version v:
// 1. Stale: some write of k with a version > v had been acknowledged strictly before t (a write
//    acknowledged at t or later is concurrent with the read: whatever the read returns, it is not
//    stale). Its staleness in versions is the number of those missed writes; its staleness in
//    time is t minus the ack time of the EARLIEST missed write: how long the returned version had
//    already been superseded by an acknowledged one (PBS's t-visibility seen from the read).
// 2. Age (for P(stale | time since the write), PBS's Figure 5 style plots): t minus the ack time
//    of the latest write of k acknowledged strictly before t. Reads of keys with no write acked
//    before them have no age and are not counted. Ages are bucketed by `age_bucket`: bucket i
//    holds ages in [i * age_bucket, (i + 1) * age_bucket), the last one is open-ended.
// 3. Monotonic-read violation: v is lower than the version of a read of k by s answered strictly
//    before t (Terry's "before": here the real-time order; overlapping reads of one session
//    constrain nothing).
// 4. Read-your-writes violation: v is lower than the version of a write of k by s acknowledged
//    strictly before t.
// 5. Lost write (at finish): an acknowledged write that the store's final state does not hold, by
//    the store's own predicate (leader-follower: "the final leader's log holds this entry";
//    leaderless: "some replica holds this version or a newer one").
// 6. Linearizability (`linearizability`, small runs): for each key, the graph over its
//    operations with the edges a -> b when a was answered strictly before b was invoked (real
//    time; an unacknowledged write is answered at +infinity), write -> next write in version
//    order, write -> each read that returned it, read -> the write after the one it returned; the
//    key's history is linearizable iff the graph is acyclic (checked by Kahn's algorithm; the
//    real-time edges go through a chain of n auxiliary "prefix" nodes, so the graph has O(n)
//    edges, not O(n^2)). A write enters the history when it is acknowledged or when some read
//    returned it (write_versioned tells the checker of writes that may be read before, or
//    without, being acknowledged); a read that returned a version the checker never heard of
//    makes its key a violation (a value nobody wrote). Keys with more than
//    `linearizability_max_ops` operations are skipped, their history freed, and counted.
// Only reads invoked and writes acknowledged in [measure_from, measure_to] are counted; every
// write and read is recorded whatever its time, so that the judgements are right at the start of
// the measured interval.
//
// Bounds (TigerBeetle: a limit on everything), and what happens at them:
// - Per key, the last `history` (H) acknowledged writes are kept (version and ack time). Older
//   ones are summarized by their highest version and latest ack time. A read that missed one of
//   those older writes is still judged stale (exactly), but its missed writes are counted as the
//   kept ones it missed plus ONE for the older ones, capped at H (saturation): for a store whose
//   versions grow with ack order (every leader-follower store) that is exactly H; and its
//   staleness in time is the lower bound t minus the latest ack time of the older writes. Such
//   reads are counted in `saturated_reads`.
// - A read that stayed in flight while more than H writes of its key were acknowledged (a
//   summarized write may have come after it began) is judged on the kept writes only, has no age
//   unless a kept write was acknowledged before it, and is counted in `saturated_reads`.
// - Per (session, key), the last 3 rises of the highest version read, and of the highest version
//   written, are kept with their times, plus the newest one pushed out (Steps): exact unless more
//   than 3 of them happened while one read was in flight; then that read is not judged for that
//   guarantee and is counted in `saturated_reads`.
// Memory: per key written, sizeof(KeyState) = 72 bytes + a std::map node (about 48 bytes) +
// 16 bytes per kept write (at most H: 1 KiB at the default 64) + 8 bytes per write acknowledged
// in the measured interval (the lost-write check at the end must see each; the one part that
// grows with the run). Per (session, key) pair that read or wrote: sizeof(SessionKeyState) =
// 144 bytes + a map node (about 48). The staleness histogram: 432 KiB, once. With
// linearizability: 32 bytes per operation + a map node (about 48) per write, freed when a key is
// skipped.
// Reads allocate nothing in the steady state beyond map and vector growth.
//
// Differences from the references, all of them:
// 1. PBS defines t-visibility per write ("a read starting t after a write commits returns that
//    write or a later one") in a model with one write and then reads; in a run with many writes
//    the age of a read is measured from the latest write acknowledged before it, and "stale"
//    means it missed ANY write acknowledged before it (which, for the latest one, is PBS's).
// 2. PBS's k-staleness ("the read returns one of the last k versions") is here the number of
//    missed acknowledged writes (k - 1 when the read returned the k-th newest), per read.
// 3. Terry's session guarantees are defined over a session's sequence of operations and all keys
//    (the sets of writes a read reflects); here per key, by the store's version order, and
//    "earlier" means answered or acknowledged strictly before the read was invoked.
// 4. Gibbons and Korach decide linearizability (and sequential consistency) for histories with
//    or without the write order given; here the order is always the store's, so a history that
//    would be linearizable under some other order of the writes still counts as a violation:
//    the store claims its order.
//
// Figures: see figure_docs() (counts are sums; ratios, means, percentiles and maxima are
// maxima). The checker is shared by all replicas of a store component, so the store emits the
// figures from one replica only and zero_figures() from the others: zeros for the sums and "no
// value" (NaN, skipped by a maximum) for the maxima, so the combined figure is the checker's.
// Determinism: keys and session-keys are kept in sorted maps; nothing iterates an unordered
// container, so the figures are a pure function of the calls.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "models/shared/figures.hpp"
#include "models/shared/params.hpp"
#include "sim/latency_histogram.hpp"
#include "sim/time.hpp"

namespace models {

struct ConsistencyCheckerConfig {
  int history = 64;
  sim::Duration age_bucket = sim::Duration::nanoseconds(1'000'000);  // 1 ms
  int age_buckets = 50;
  bool linearizability = false;
  int linearizability_max_ops = 5000;

  template <class V>
  void describe(V& v) {
    v.field("history", history,
            "acknowledged writes kept per key to count a stale read's missed versions (the count "
            "saturates at this)",
            Limits{1, 4096});
    v.field("age_bucket", age_bucket,
            "width of one bucket of the time since the last acknowledged write (reads_at_age)",
            Limits{1});
    v.field("age_buckets", age_buckets, "buckets of reads_at_age / stale_at_age, the last open",
            Limits{1, 1000});
    v.field("linearizability", linearizability,
            "check that each key's history is linearizable (keeps every operation: small runs)");
    v.field("linearizability_max_ops", linearizability_max_ops,
            "operations of one key beyond which its linearizability is not checked (skipped)",
            Limits{1, 1e6});
  }
};

class ConsistencyChecker {
 public:
  using Key = std::uint64_t;
  using Version = std::uint64_t;  // 0: never written
  using Session = std::uint32_t;

  /// What the checker made of one read (counted or not, by the measured interval).
  struct ReadVerdict {
    bool stale = false;
    std::uint64_t missed_versions = 0;  // saturates at `history`
    sim::Duration staleness;            // 0 unless stale
    bool has_age = false;
    sim::Duration age;  // time since the latest write acknowledged before the read
    bool monotonic_read_violation = false;
    bool read_your_writes_violation = false;
    bool saturated = false;  // judged against a bound (see the header)
  };

  /// Value-initialized for Invariants::ghost: default config, measures everything. A store
  /// configures it once, from its first replica (configure).
  ConsistencyChecker() : ConsistencyChecker(ConsistencyCheckerConfig{}) { configured_ = false; }
  explicit ConsistencyChecker(const ConsistencyCheckerConfig& config,
                              sim::Time measure_from = sim::Time::zero(),
                              sim::Time measure_to = sim::Time::max());
  /// Sets the configuration and the measured interval; only before the first call below.
  void configure(const ConsistencyCheckerConfig& config, sim::Time measure_from,
                 sim::Time measure_to);
  bool configured() const { return configured_; }
  const ConsistencyCheckerConfig& config() const { return config_; }

  /// The store gave a write of `key` its version; the write was invoked at `invoked`. Optional:
  /// lets the linearizability check accept reads of writes never (or not yet) acknowledged.
  void write_versioned(Key key, Version version, sim::Time invoked);
  /// A write was acknowledged to its client `session` at `acked` (non-decreasing across calls).
  void write_acked(Key key, Version version, Session session, sim::Time invoked, sim::Time acked);
  /// A read succeeded at `answered` (non-decreasing across calls) and returned `returned`.
  ReadVerdict read_answered(Key key, Session session, sim::Time invoked, sim::Time answered,
                            Version returned);
  /// At the end of the run, once: `survives(key, version)` is the store's ground truth for each
  /// acknowledged write (counted in the measured interval); false makes it a lost write. Runs
  /// the linearizability check too.
  void finish(const std::function<bool(Key, Version)>& survives);
  bool finished() const { return finished_; }

  std::uint64_t reads() const { return reads_; }
  std::uint64_t stale_reads() const { return stale_reads_; }
  std::uint64_t saturated_reads() const { return saturated_reads_; }
  std::uint64_t monotonic_read_violations() const { return monotonic_violations_; }
  std::uint64_t read_your_writes_violations() const { return ryw_violations_; }
  std::uint64_t writes_acked() const { return writes_acked_; }
  std::uint64_t lost_writes() const { return lost_writes_; }
  /// The first kKept lost writes (key, version), in key then ack order (after finish).
  const std::vector<std::pair<Key, Version>>& lost() const { return lost_; }
  std::uint64_t linearizability_violations() const { return lin_violations_; }
  /// The first kKept keys whose history is not linearizable, in key order (after finish).
  const std::vector<Key>& non_linearizable_keys() const { return non_linearizable_; }
  std::uint64_t linearizability_checked_ops() const { return lin_checked_ops_; }
  std::uint64_t linearizability_skipped_keys() const { return lin_skipped_keys_; }
  /// Reads, and stale reads, whose age fell in bucket i (i < age_buckets).
  std::uint64_t reads_at_age(std::size_t i) const { return reads_at_age_.at(i); }
  std::uint64_t stale_at_age(std::size_t i) const { return stale_at_age_.at(i); }

  static constexpr std::size_t kKept = 20;

  void figures(Figures& out) const;
  static FigureDocs figure_docs();
  /// The same figures for a replica that does not own the checker: 0 for the sums, NaN (no
  /// value, skipped by a maximum) for the maxima.
  static void zero_figures(const ConsistencyCheckerConfig& config, Figures& out);

  // ---- state (public for the size statements above; not an interface) ----------------------

  struct Step {
    Version version = 0;
    sim::Time at;
  };
  /// The rises of a highest version over time (a staircase), the last kSteps kept in time order
  /// plus the newest one pushed out: "the highest version added strictly before t" is exact
  /// unless every kept step and the pushed-out one are at or after t.
  class Steps {
   public:
    static constexpr std::size_t kSteps = 3;
    /// `at` is non-decreasing across calls; a version not above the highest is ignored.
    void add(Version version, sim::Time at);
    /// The highest version added strictly before `t` (0 if none); `known` false when it was
    /// pushed out.
    Version before(sim::Time t, bool& known) const;

   private:
    std::array<Step, kSteps> steps_{};
    Step dropped_{};
    std::uint8_t size_ = 0;
    bool has_dropped_ = false;
  };
  struct SessionKeyState {
    Steps reads;   // versions this session read
    Steps writes;  // versions this session had acknowledged
  };
  struct KeyState {
    std::vector<Step> kept;  // the last H acknowledged writes (version, ack), a ring once full
    std::uint64_t next = 0;  // acknowledged writes so far (kept[next % H] is the oldest when full)
    Version older_max = 0;   // the highest version of the writes pushed out of `kept`
    sim::Time older_last;    // the latest ack time of those writes
    std::vector<Version> measured;  // versions acknowledged in the measured interval
  };

 private:
  struct Op {
    sim::Time invoked, answered;  // answered = Time::max(): an unacknowledged write
    Version version = 0;          // written, or returned
    bool is_read = false;
  };
  struct History {
    std::vector<Op> ops;
    std::map<Version, std::uint32_t> writes;  // version -> index in ops
    bool skipped = false;
  };

  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }
  void judge_staleness(const KeyState& key, sim::Time invoked, Version returned,
                       ReadVerdict& verdict) const;
  void judge_session(Key key, Session session, sim::Time invoked, sim::Time answered,
                     Version returned, ReadVerdict& verdict);
  void count(const ReadVerdict& verdict);
  void remember_write(Key key, Version version, sim::Time invoked, sim::Time answered);
  void remember_read(Key key, sim::Time invoked, sim::Time answered, Version returned);
  History* history_of(Key key);
  bool linearizable(const History& history) const;

  ConsistencyCheckerConfig config_;
  sim::Time measure_from_, measure_to_;
  bool configured_ = false, finished_ = false;
  sim::Time last_ack_, last_answer_;

  std::map<Key, KeyState> keys_;
  std::map<std::pair<Session, Key>, SessionKeyState> sessions_;
  std::map<Key, History> histories_;  // with `linearizability` only

  std::uint64_t reads_ = 0, stale_reads_ = 0, saturated_reads_ = 0;
  std::uint64_t monotonic_violations_ = 0, ryw_violations_ = 0;
  std::uint64_t missed_versions_sum_ = 0, missed_versions_max_ = 0;
  sim::LatencyHistogram staleness_;
  std::vector<std::uint64_t> reads_at_age_, stale_at_age_;
  std::uint64_t writes_acked_ = 0, lost_writes_ = 0;
  std::vector<std::pair<Key, Version>> lost_;
  std::uint64_t lin_violations_ = 0, lin_checked_ops_ = 0, lin_skipped_keys_ = 0;
  std::vector<Key> non_linearizable_;
};

}  // namespace models
