#include "models/replication/consistency_checker.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "sim/assert.hpp"

namespace models {

// The sizes the header states: keep them true.
static_assert(sizeof(ConsistencyChecker::KeyState) == 72);
static_assert(sizeof(ConsistencyChecker::SessionKeyState) == 144);

namespace {

double millis(std::int64_t ns) {
  return static_cast<double>(ns) * 1e-6;
}

}  // namespace

// ---- Steps -----------------------------------------------------------------------------------

void ConsistencyChecker::Steps::add(Version version, sim::Time at) {
  const Version highest = size_ > 0 ? steps_[size_ - 1].version : 0;
  if (version <= highest) return;
  if (size_ == kSteps) {
    dropped_ = steps_[0];
    has_dropped_ = true;
    std::shift_left(steps_.begin(), steps_.end(), 1);
    steps_[kSteps - 1] = {version, at};
    return;
  }
  steps_[size_++] = {version, at};
}

ConsistencyChecker::Version ConsistencyChecker::Steps::before(sim::Time t, bool& known) const {
  known = true;
  for (std::size_t i = size_; i-- > 0;)
    if (steps_[i].at < t) return steps_[i].version;
  if (!has_dropped_) return 0;
  // Every kept step is at or after t: the pushed-out one answers if it came before t; otherwise
  // an older pushed-out step might have, and only a bound is known.
  known = dropped_.at < t;
  return dropped_.version;
}

// ---- set-up ----------------------------------------------------------------------------------

ConsistencyChecker::ConsistencyChecker(const ConsistencyCheckerConfig& config,
                                       sim::Time measure_from, sim::Time measure_to) {
  configure(config, measure_from, measure_to);
}

void ConsistencyChecker::configure(const ConsistencyCheckerConfig& config, sim::Time measure_from,
                                   sim::Time measure_to) {
  DSIM_ASSERT(keys_.empty() && sessions_.empty() && histories_.empty() && reads_ == 0,
              "configure the consistency checker before the first write or read");
  DSIM_ASSERT(config.history >= 1 && config.age_buckets >= 1 && config.linearizability_max_ops >= 1,
              "consistency checker bounds must be positive");
  DSIM_ASSERT(config.age_bucket > sim::Duration::zero(), "an age bucket must have a width");
  config_ = config;
  measure_from_ = measure_from;
  measure_to_ = measure_to;
  reads_at_age_.assign(static_cast<std::size_t>(config.age_buckets), 0);
  stale_at_age_.assign(static_cast<std::size_t>(config.age_buckets), 0);
  configured_ = true;
}

// ---- writes ----------------------------------------------------------------------------------

void ConsistencyChecker::write_versioned(Key key, Version version, sim::Time invoked) {
  DSIM_ASSERT(version > 0, "version 0 is the initial value, never a write's");
  DSIM_ASSERT(!finished_, "a write after the checker finished");
  if (config_.linearizability) remember_write(key, version, invoked, sim::Time::max());
}

void ConsistencyChecker::write_acked(Key key, Version version, Session session, sim::Time invoked,
                                     sim::Time acked) {
  DSIM_ASSERT(version > 0, "version 0 is the initial value, never a write's");
  DSIM_ASSERT(invoked <= acked, "a write acknowledged before it was invoked");
  DSIM_ASSERT(acked >= last_ack_, "writes must be reported in the order of their acks");
  DSIM_ASSERT(!finished_, "a write after the checker finished");
  last_ack_ = acked;

  KeyState& state = keys_[key];
  const auto h = static_cast<std::size_t>(config_.history);
  if (state.kept.size() < h) {
    state.kept.push_back({version, acked});
  } else {
    // The ring is full: the oldest write moves into the summary of older writes.
    Step& oldest = state.kept[state.next % h];
    state.older_max = std::max(state.older_max, oldest.version);
    state.older_last = std::max(state.older_last, oldest.at);
    oldest = {version, acked};
  }
  ++state.next;
  if (measured(acked)) {
    ++writes_acked_;
    state.measured.push_back(version);
  }
  sessions_[{session, key}].writes.add(version, acked);
  if (config_.linearizability) remember_write(key, version, invoked, acked);
}

// ---- reads -----------------------------------------------------------------------------------

ConsistencyChecker::ReadVerdict ConsistencyChecker::read_answered(Key key, Session session,
                                                                  sim::Time invoked,
                                                                  sim::Time answered,
                                                                  Version returned) {
  DSIM_ASSERT(invoked <= answered, "a read answered before it was invoked");
  DSIM_ASSERT(answered >= last_answer_, "reads must be reported in the order of their answers");
  DSIM_ASSERT(!finished_, "a read after the checker finished");
  last_answer_ = answered;

  ReadVerdict verdict;
  if (const auto it = keys_.find(key); it != keys_.end())
    judge_staleness(it->second, invoked, returned, verdict);
  judge_session(key, session, invoked, answered, returned, verdict);
  if (config_.linearizability) remember_read(key, invoked, answered, returned);
  if (measured(invoked)) count(verdict);
  return verdict;
}

void ConsistencyChecker::judge_staleness(const KeyState& key, sim::Time invoked, Version returned,
                                         ReadVerdict& verdict) const {
  std::uint64_t missed = 0;
  sim::Time earliest_missed = sim::Time::max();
  bool has_latest = false;
  sim::Time latest;  // the latest ack strictly before the read
  for (const Step& write : key.kept) {
    if (write.at >= invoked) continue;  // concurrent with the read, or after it
    if (!has_latest || write.at > latest) latest = write.at;
    has_latest = true;
    if (write.version > returned) {
      ++missed;
      earliest_missed = std::min(earliest_missed, write.at);
    }
  }
  if (key.next > key.kept.size()) {  // some writes were pushed out of the ring
    if (key.older_last < invoked) {
      // All of them came before the read (they were acked no later than older_last).
      if (!has_latest) latest = key.older_last;  // every kept write is at or after it
      has_latest = true;
      if (key.older_max > returned) {  // missed at least one: counted as one, time a bound
        ++missed;
        earliest_missed = key.older_last;
        verdict.saturated = true;
      }
    } else if (key.older_max > returned || !has_latest) {
      verdict.saturated = true;  // in flight across more than `history` acks
    }
  }
  verdict.stale = missed > 0;
  verdict.missed_versions = std::min<std::uint64_t>(missed, config_.history);
  if (verdict.stale) verdict.staleness = invoked - earliest_missed;
  verdict.has_age = has_latest;
  if (has_latest) verdict.age = invoked - latest;
}

void ConsistencyChecker::judge_session(Key key, Session session, sim::Time invoked,
                                       sim::Time answered, Version returned, ReadVerdict& verdict) {
  const auto it = sessions_.find({session, key});
  if (it != sessions_.end()) {
    bool known = true;
    const Version read_before = it->second.reads.before(invoked, known);
    if (returned < read_before) {
      verdict.monotonic_read_violation = known;
      verdict.saturated |= !known;  // only a bound is known: not judged
    }
    const Version wrote_before = it->second.writes.before(invoked, known);
    if (returned < wrote_before) {
      verdict.read_your_writes_violation = known;
      verdict.saturated |= !known;
    }
  }
  if (returned == 0) return;  // the initial value raises nothing: no record needed
  if (it != sessions_.end()) {
    it->second.reads.add(returned, answered);
  } else {
    sessions_[{session, key}].reads.add(returned, answered);
  }
}

void ConsistencyChecker::count(const ReadVerdict& verdict) {
  ++reads_;
  if (verdict.saturated) ++saturated_reads_;
  if (verdict.monotonic_read_violation) ++monotonic_violations_;
  if (verdict.read_your_writes_violation) ++ryw_violations_;
  if (verdict.stale) {
    ++stale_reads_;
    missed_versions_sum_ += verdict.missed_versions;
    missed_versions_max_ = std::max(missed_versions_max_, verdict.missed_versions);
    staleness_.record(verdict.staleness);
  }
  if (!verdict.has_age) return;
  const auto bucket = static_cast<std::size_t>(
      std::min<std::int64_t>(verdict.age.ns() / config_.age_bucket.ns(), config_.age_buckets - 1));
  ++reads_at_age_[bucket];
  if (verdict.stale) ++stale_at_age_[bucket];
}

// ---- linearizability: recording --------------------------------------------------------------

ConsistencyChecker::History* ConsistencyChecker::history_of(Key key) {
  History& history = histories_[key];
  if (history.skipped) return nullptr;
  return &history;
}

void ConsistencyChecker::remember_write(Key key, Version version, sim::Time invoked,
                                        sim::Time answered) {
  History* history = history_of(key);
  if (history == nullptr) return;
  const auto found = history->writes.find(version);
  if (found != history->writes.end()) {  // versioned, then acked: one operation
    Op& op = history->ops[found->second];
    op.invoked = std::min(op.invoked, invoked);
    op.answered = std::min(op.answered, answered);
    return;
  }
  if (history->ops.size() >= static_cast<std::size_t>(config_.linearizability_max_ops)) {
    *history = History{.skipped = true};  // frees the operations
    ++lin_skipped_keys_;
    return;
  }
  history->writes.emplace(version, static_cast<std::uint32_t>(history->ops.size()));
  history->ops.push_back({invoked, answered, version, false});
}

void ConsistencyChecker::remember_read(Key key, sim::Time invoked, sim::Time answered,
                                       Version returned) {
  History* history = history_of(key);
  if (history == nullptr) return;
  if (history->ops.size() >= static_cast<std::size_t>(config_.linearizability_max_ops)) {
    *history = History{.skipped = true};
    ++lin_skipped_keys_;
    return;
  }
  history->ops.push_back({invoked, answered, returned, true});
}

// ---- linearizability: the check --------------------------------------------------------------

namespace {

// A directed graph in compressed rows, built from an edge list; acyclic() by Kahn's algorithm.
class Digraph {
 public:
  explicit Digraph(std::size_t nodes) : nodes_(nodes) {}
  void edge(std::uint32_t from, std::uint32_t to) { edges_.push_back({from, to}); }

  bool acyclic() const {
    std::vector<std::uint32_t> start(nodes_ + 1, 0), indegree(nodes_, 0);
    for (const auto& [from, to] : edges_) {
      ++start[from + 1];
      ++indegree[to];
    }
    for (std::size_t i = 0; i < nodes_; ++i) start[i + 1] += start[i];
    std::vector<std::uint32_t> targets(edges_.size()), fill(start.begin(), start.end() - 1);
    for (const auto& [from, to] : edges_) targets[fill[from]++] = to;
    std::vector<std::uint32_t> ready;
    for (std::uint32_t i = 0; i < nodes_; ++i)
      if (indegree[i] == 0) ready.push_back(i);
    std::size_t removed = 0;
    while (!ready.empty()) {
      const std::uint32_t node = ready.back();
      ready.pop_back();
      ++removed;
      for (std::uint32_t e = start[node]; e < start[node + 1]; ++e)
        if (--indegree[targets[e]] == 0) ready.push_back(targets[e]);
    }
    return removed == nodes_;  // nodes left over lie on a cycle or behind one
  }

 private:
  std::size_t nodes_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges_;
};

constexpr std::uint32_t kNone = UINT32_MAX;

}  // namespace

bool ConsistencyChecker::linearizable(const History& history) const {
  const std::vector<Op>& ops = history.ops;
  // Which write each read returned; a version nobody wrote is a violation by itself.
  std::vector<std::uint32_t> source(ops.size(), kNone);
  std::vector<bool> read_from(ops.size(), false);
  for (std::uint32_t i = 0; i < ops.size(); ++i) {
    if (!ops[i].is_read || ops[i].version == 0) continue;
    const auto found = history.writes.find(ops[i].version);
    if (found == history.writes.end()) return false;
    source[i] = found->second;
    read_from[found->second] = true;
  }
  // The writes in the history, in version order (the map is sorted by version): acknowledged
  // ones, and pending ones that some read returned; others may be left out of a linearization.
  std::vector<std::uint32_t> order, rank(ops.size(), kNone);
  for (const auto& [version, index] : history.writes) {
    if (ops[index].answered == sim::Time::max() && !read_from[index]) continue;
    rank[index] = static_cast<std::uint32_t>(order.size());
    order.push_back(index);
  }
  // Nodes: the operations in the history (by op index; left-out writes are isolated nodes),
  // then one auxiliary node per position in the order of answers.
  std::vector<std::uint32_t> members;
  for (std::uint32_t i = 0; i < ops.size(); ++i)
    if (ops[i].is_read || rank[i] != kNone) members.push_back(i);
  const auto n = static_cast<std::uint32_t>(ops.size());
  Digraph graph(ops.size() + members.size());
  for (std::size_t j = 0; j + 1 < order.size(); ++j) graph.edge(order[j], order[j + 1]);
  for (std::uint32_t i = 0; i < n; ++i) {
    if (!ops[i].is_read) continue;
    std::size_t next = 0;  // the position of the write after the one returned
    if (source[i] != kNone) {
      graph.edge(source[i], i);
      next = rank[source[i]] + 1;
    }
    if (next < order.size()) graph.edge(i, order[next]);
  }
  // Real time: a -> b when a was answered strictly before b was invoked, through the prefix
  // chain: by_answer[k] -> P_k, P_(k-1) -> P_k, and P_(j-1) -> b where j operations were
  // answered before b was invoked. A path a -> P.. -> b exists iff a precedes b in real time.
  std::vector<std::uint32_t> by_answer = members;
  std::stable_sort(by_answer.begin(), by_answer.end(), [&](std::uint32_t a, std::uint32_t b) {
    return ops[a].answered < ops[b].answered;
  });
  std::vector<sim::Time> answers;
  answers.reserve(by_answer.size());
  for (std::uint32_t k = 0; k < by_answer.size(); ++k) {
    answers.push_back(ops[by_answer[k]].answered);
    graph.edge(by_answer[k], n + k);
    if (k > 0) graph.edge(n + k - 1, n + k);
  }
  for (const std::uint32_t b : members) {
    const auto j =
        std::lower_bound(answers.begin(), answers.end(), ops[b].invoked) - answers.begin();
    if (j > 0) graph.edge(n + static_cast<std::uint32_t>(j) - 1, b);
  }
  return graph.acyclic();
}

// ---- the end ---------------------------------------------------------------------------------

void ConsistencyChecker::finish(const std::function<bool(Key, Version)>& survives) {
  DSIM_ASSERT(!finished_, "the consistency checker finishes once");
  finished_ = true;
  for (const auto& [key, state] : keys_) {
    for (const Version version : state.measured) {
      if (survives(key, version)) continue;
      ++lost_writes_;
      if (lost_.size() < kKept) lost_.push_back({key, version});
    }
  }
  for (const auto& [key, history] : histories_) {
    if (history.skipped) continue;
    lin_checked_ops_ += history.ops.size();
    if (linearizable(history)) continue;
    ++lin_violations_;
    if (non_linearizable_.size() < kKept) non_linearizable_.push_back(key);
  }
}

// ---- figures ---------------------------------------------------------------------------------

FigureDocs ConsistencyChecker::figure_docs() {
  return {
      {"reads", "reads", Combine::Sum,
       "reads answered (successful) whose invocation fell in the measured interval"},
      {"stale_reads", "reads", Combine::Sum,
       "reads that returned a version older than one acknowledged strictly before they were "
       "invoked"},
      {"stale_read_fraction", "fraction", Combine::Max, "stale_reads / reads (null without reads)"},
      {"staleness_versions_mean", "versions", Combine::Max,
       "mean over stale reads of the acknowledged writes they missed (null without any)"},
      {"staleness_versions_max", "versions", Combine::Max,
       "most acknowledged writes one stale read missed, saturating at `history` (null without "
       "any)"},
      {"staleness_p50_ms", "ms", Combine::Max,
       "median over stale reads of the time since the earliest write they missed was "
       "acknowledged (null without any)"},
      {"staleness_p99_ms", "ms", Combine::Max,
       "99th percentile (nearest rank, within 0.1 %) of that time (null without any)"},
      {"staleness_max_ms", "ms", Combine::Max, "the longest of that time (null without any)"},
      {"saturated_reads", "reads", Combine::Sum,
       "reads judged against a bound: missed writes older than the kept `history` (counted as "
       "one, time a lower bound), or needed history pushed out while they were in flight"},
      {"monotonic_read_violations", "reads", Combine::Sum,
       "reads that returned a version lower than a read of the same key by the same session "
       "answered before they were invoked"},
      {"read_your_writes_violations", "reads", Combine::Sum,
       "reads that returned a version lower than a write of the same key by the same session "
       "acknowledged before they were invoked"},
      {"writes_acked", "writes", Combine::Sum,
       "writes acknowledged to their clients in the measured interval"},
      {"lost_writes", "writes", Combine::Sum,
       "of those, writes the store's final state does not hold (by the store's predicate)"},
      {"reads_at_age[i]", "reads", Combine::Sum,
       "reads whose key's latest acknowledged write was acknowledged between i and i + 1 "
       "age_bucket before them (the last bucket: i age_bucket or more)"},
      {"stale_at_age[i]", "reads", Combine::Sum,
       "of those, the stale ones: stale_at_age / reads_at_age is P(stale | time since the write)"},
      {"linearizability_checked_ops", "operations", Combine::Sum,
       "operations of the keys whose history was checked for linearizability (0: not checked)"},
      {"linearizability_violations", "keys", Combine::Sum,
       "keys whose history (the whole run) is not linearizable in the store's order of writes"},
      {"linearizability_skipped_keys", "keys", Combine::Sum,
       "keys not checked: more than linearizability_max_ops operations"},
  };
}

void ConsistencyChecker::figures(Figures& out) const {
  const double none = std::nan("");
  const bool any_stale = stale_reads_ > 0;
  out.sum("reads", static_cast<double>(reads_));
  out.sum("stale_reads", static_cast<double>(stale_reads_));
  out.max("stale_read_fraction",
          reads_ > 0 ? static_cast<double>(stale_reads_) / static_cast<double>(reads_) : none);
  out.max("staleness_versions_mean",
          any_stale ? static_cast<double>(missed_versions_sum_) / static_cast<double>(stale_reads_)
                    : none);
  out.max("staleness_versions_max", any_stale ? static_cast<double>(missed_versions_max_) : none);
  out.max("staleness_p50_ms", any_stale ? millis(staleness_.quantile_ns(0.5)) : none);
  out.max("staleness_p99_ms", any_stale ? millis(staleness_.quantile_ns(0.99)) : none);
  out.max("staleness_max_ms", any_stale ? millis(staleness_.max_ns()) : none);
  out.sum("saturated_reads", static_cast<double>(saturated_reads_));
  out.sum("monotonic_read_violations", static_cast<double>(monotonic_violations_));
  out.sum("read_your_writes_violations", static_cast<double>(ryw_violations_));
  out.sum("writes_acked", static_cast<double>(writes_acked_));
  out.sum("lost_writes", static_cast<double>(lost_writes_));
  for (std::size_t i = 0; i < reads_at_age_.size(); ++i)
    out.sum(indexed_name("reads_at_age", i), static_cast<double>(reads_at_age_[i]));
  for (std::size_t i = 0; i < stale_at_age_.size(); ++i)
    out.sum(indexed_name("stale_at_age", i), static_cast<double>(stale_at_age_[i]));
  out.sum("linearizability_checked_ops", static_cast<double>(lin_checked_ops_));
  out.sum("linearizability_violations", static_cast<double>(lin_violations_));
  out.sum("linearizability_skipped_keys", static_cast<double>(lin_skipped_keys_));
}

void ConsistencyChecker::zero_figures(const ConsistencyCheckerConfig& config, Figures& out) {
  for (const FigureDoc& doc : figure_docs()) {
    const std::string_view name = doc.name;
    const std::size_t copies = is_indexed(name) ? static_cast<std::size_t>(config.age_buckets) : 1;
    for (std::size_t i = 0; i < copies; ++i) {
      std::string emitted =
          is_indexed(name) ? indexed_name(name.substr(0, name.size() - 3), i) : std::string(name);
      if (doc.combine == Combine::Max) {
        out.max(std::move(emitted), std::nan(""));  // no value: the owner's maximum stands
      } else {
        out.sum(std::move(emitted), 0);
      }
    }
  }
}

}  // namespace models
