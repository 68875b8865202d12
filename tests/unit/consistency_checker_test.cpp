// Consistency checker mechanics: stale reads with exact staleness in versions and time, reads
// concurrent with a write, monotonic-read and read-your-writes violations with their near
// misses, lost writes, the age buckets, the saturation of the kept history, linearizability of
// classic register histories and its operation limit, the figures and their zeros.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "models/replication/consistency_checker.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;
using models::ConsistencyChecker;
using models::ConsistencyCheckerConfig;

namespace {

constexpr ConsistencyChecker::Key kKey = 1, kOtherKey = 2;
constexpr ConsistencyChecker::Session kAlice = 1, kBob = 2, kWriter = 9;

std::map<std::string, double> figures_of(const ConsistencyChecker& checker) {
  models::Figures out;
  checker.figures(out);
  std::map<std::string, double> by_name;
  for (const auto& f : out.items()) by_name[f.name] = f.value;
  return by_name;
}

ConsistencyCheckerConfig with_linearizability(int max_ops = 5000) {
  ConsistencyCheckerConfig config;
  config.linearizability = true;
  config.linearizability_max_ops = max_ops;
  return config;
}

// A write of `key` invoked at `from` ms and acknowledged at `to` ms.
void write(ConsistencyChecker& c, ConsistencyChecker::Key key, ConsistencyChecker::Version v,
           std::int64_t from, std::int64_t to, ConsistencyChecker::Session s = kWriter) {
  c.write_acked(key, v, s, at_ms(from), at_ms(to));
}

ConsistencyChecker::ReadVerdict read(ConsistencyChecker& c, ConsistencyChecker::Key key,
                                     std::int64_t from, std::int64_t to,
                                     ConsistencyChecker::Version returned,
                                     ConsistencyChecker::Session s = kBob) {
  return c.read_answered(key, s, at_ms(from), at_ms(to), returned);
}

bool survives_all(ConsistencyChecker::Key, ConsistencyChecker::Version) {
  return true;
}

}  // namespace

TEST_CASE("consistency checker: a planted stale read is caught with exact staleness") {
  ConsistencyChecker c;
  write(c, kKey, 1, 0, 1);
  write(c, kKey, 2, 2, 3);
  write(c, kKey, 3, 4, 5);

  const auto stale = read(c, kKey, 10, 11, 1);  // missed versions 2 and 3
  CHECK(stale.stale);
  CHECK(stale.missed_versions == 2);
  CHECK(stale.staleness == 7_ms);  // since version 2 was acknowledged, at 3 ms
  CHECK(stale.age == 5_ms);        // since version 3, the latest
  CHECK_FALSE(stale.saturated);

  const auto fresh = read(c, kKey, 12, 13, 3);
  CHECK_FALSE(fresh.stale);
  CHECK(fresh.missed_versions == 0);
  CHECK(fresh.staleness == Duration::zero());

  const auto f = figures_of(c);
  CHECK(f.at("reads") == 2);
  CHECK(f.at("stale_reads") == 1);
  CHECK(f.at("stale_read_fraction") == 0.5);
  CHECK(f.at("staleness_versions_mean") == 2);
  CHECK(f.at("staleness_versions_max") == 2);
  CHECK(f.at("staleness_p50_ms") == 7);
  CHECK(f.at("staleness_max_ms") == 7);
  CHECK(f.at("writes_acked") == 3);
}

TEST_CASE("consistency checker: reads concurrent with a write are never stale") {
  ConsistencyChecker c;
  write(c, kKey, 1, 0, 5);
  // Invoked at the ack itself or before it: concurrent, whatever they return.
  CHECK_FALSE(read(c, kKey, 5, 6, 0).stale);
  CHECK_FALSE(read(c, kKey, 4, 6, 0).stale);
  CHECK_FALSE(read(c, kKey, 4, 6, 1).stale);
  write(c, kKey, 2, 6, 8);
  // Invoked at 6 ms: version 1 was acknowledged before it, version 2 only after.
  CHECK_FALSE(read(c, kKey, 6, 9, 1).stale);
  CHECK_FALSE(read(c, kKey, 6, 9, 2).stale);
  const auto missed_one = read(c, kKey, 6, 9, 0);
  CHECK(missed_one.stale);
  CHECK(missed_one.missed_versions == 1);
  CHECK(missed_one.staleness == 1_ms);
  CHECK(figures_of(c).at("stale_reads") == 1);
}

TEST_CASE("consistency checker: monotonic-read violations and their near misses") {
  ConsistencyChecker c;
  write(c, kKey, 1, 0, 1);
  write(c, kKey, 2, 2, 3);
  CHECK_FALSE(read(c, kKey, 8, 10, 2, kAlice).monotonic_read_violation);
  // Alice read version 2 (answered at 10 ms); her next read goes back to 1.
  CHECK(read(c, kKey, 11, 12, 1, kAlice).monotonic_read_violation);
  // Near misses: overlapping the read of version 2 (invoked before it was answered), another
  // session, another key.
  CHECK_FALSE(read(c, kKey, 9, 12, 1, kAlice).monotonic_read_violation);
  CHECK_FALSE(read(c, kKey, 13, 14, 1, kBob).monotonic_read_violation);
  CHECK_FALSE(read(c, kOtherKey, 13, 14, 0, kAlice).monotonic_read_violation);
  const auto f = figures_of(c);
  CHECK(f.at("monotonic_read_violations") == 1);
  CHECK(f.at("read_your_writes_violations") == 0);
}

TEST_CASE("consistency checker: read-your-writes violations and their near misses") {
  ConsistencyChecker c;
  write(c, kKey, 1, 0, 5, kAlice);
  CHECK(read(c, kKey, 6, 7, 0, kAlice).read_your_writes_violation);
  // Near misses: another session (stale, but not its write), another key.
  const auto bob = read(c, kKey, 6, 7, 0, kBob);
  CHECK(bob.stale);
  CHECK_FALSE(bob.read_your_writes_violation);
  CHECK_FALSE(read(c, kOtherKey, 6, 7, 0, kAlice).read_your_writes_violation);
  // Alice's second write is acknowledged only after her read began: the read owes it nothing.
  write(c, kKey, 2, 7, 10, kAlice);
  const auto during = read(c, kKey, 8, 11, 1, kAlice);
  CHECK_FALSE(during.read_your_writes_violation);
  CHECK_FALSE(during.stale);
  const auto f = figures_of(c);
  CHECK(f.at("read_your_writes_violations") == 1);
  CHECK(f.at("monotonic_read_violations") == 0);
}

TEST_CASE("consistency checker: lost writes come from the store's final state") {
  ConsistencyChecker c(ConsistencyCheckerConfig{}, at_ms(10), at_ms(100));
  write(c, kKey, 1, 0, 5);  // before the measured interval: not counted
  write(c, kKey, 2, 11, 12);
  write(c, kKey, 3, 13, 14);
  write(c, kOtherKey, 1, 13, 14);
  c.finish([](ConsistencyChecker::Key key, ConsistencyChecker::Version v) {
    return !(key == kKey && v <= 2);
  });
  CHECK(c.writes_acked() == 3);
  CHECK(c.lost_writes() == 1);
  REQUIRE(c.lost().size() == 1);
  CHECK(c.lost()[0] == std::pair<ConsistencyChecker::Key, ConsistencyChecker::Version>{kKey, 2});
  CHECK(figures_of(c).at("lost_writes") == 1);
}

TEST_CASE("consistency checker: ages land in their buckets, the last one open-ended") {
  ConsistencyCheckerConfig config;
  config.age_bucket = 1_ms;
  config.age_buckets = 3;
  ConsistencyChecker c(config);
  write(c, kKey, 1, 0, 10);
  const auto in = [&](std::int64_t us) { return Time::zero() + Duration::nanoseconds(us * 1000); };
  CHECK_FALSE(c.read_answered(kKey, kBob, in(10'000), in(20'000), 1).has_age);  // at the ack
  CHECK(c.read_answered(kKey, kBob, in(10'500), in(20'000), 1).age == 500_us);  // bucket 0
  c.read_answered(kKey, kBob, in(11'000), in(20'000), 1);                       // bucket 1
  c.read_answered(kKey, kBob, in(11'999), in(20'000), 1);                       // bucket 1
  c.read_answered(kKey, kBob, in(12'000), in(20'000), 1);                       // bucket 2
  c.read_answered(kKey, kBob, in(19'000), in(20'000), 0);       // bucket 2 (open), stale
  c.read_answered(kOtherKey, kBob, in(19'000), in(20'000), 0);  // never written: no age
  const auto f = figures_of(c);
  CHECK(f.at("reads") == 7);
  CHECK(f.at("reads_at_age[0]") == 1);
  CHECK(f.at("reads_at_age[1]") == 2);
  CHECK(f.at("reads_at_age[2]") == 2);
  CHECK(f.count("reads_at_age[3]") == 0);
  CHECK(f.at("stale_at_age[0]") == 0);
  CHECK(f.at("stale_at_age[1]") == 0);
  CHECK(f.at("stale_at_age[2]") == 1);
}

TEST_CASE("consistency checker: the kept history saturates the count of missed versions") {
  ConsistencyCheckerConfig config;
  config.history = 4;
  ConsistencyChecker c(config);
  for (int v = 1; v <= 10; ++v) write(c, kKey, static_cast<ConsistencyChecker::Version>(v), v, v);
  // Kept: versions 7..10; versions 1..6 are summarized (highest 6, last acked at 6 ms).

  // A read invoked at 3.5 ms and answered now: versions 1..3 came before it, but they were
  // pushed out and their ack times are gone: judged on the kept writes only (not stale).
  const auto in_flight = c.read_answered(kKey, kBob, at_ms(3) + 500_us, at_ms(20), 0);
  CHECK_FALSE(in_flight.stale);
  CHECK(in_flight.saturated);

  const auto very_stale = read(c, kKey, 20, 21, 0);  // missed all ten
  CHECK(very_stale.stale);
  CHECK(very_stale.missed_versions == 4);  // saturated at `history`
  CHECK(very_stale.staleness == 14_ms);    // a lower bound: since 6 ms (truly since 1 ms)
  CHECK(very_stale.saturated);

  const auto exact = read(c, kKey, 20, 21, 7);  // missed 8, 9, 10: all kept
  CHECK(exact.missed_versions == 3);
  CHECK(exact.staleness == 12_ms);
  CHECK_FALSE(exact.saturated);

  CHECK_FALSE(read(c, kKey, 20, 21, 10).stale);
  const auto f = figures_of(c);
  CHECK(f.at("saturated_reads") == 2);
  CHECK(f.at("staleness_versions_max") == 4);
}

TEST_CASE("consistency checker: a session's history keeps its newest rises") {
  ConsistencyChecker c;
  for (int v = 1; v <= 6; ++v) write(c, kKey, static_cast<ConsistencyChecker::Version>(v), 0, 1);
  // Alice reads 1, 2, 3, 4, 5 one after another (5 rises: the first two are pushed out).
  for (int v = 1; v <= 5; ++v) read(c, kKey, 2 * v, 2 * v + 1, static_cast<unsigned>(v), kAlice);
  // Exact: her latest read before 12 ms returned 5.
  CHECK(read(c, kKey, 12, 13, 4, kAlice).monotonic_read_violation);
  // Invoked at 4.5 ms: only version 1 (answered at 3 ms) came before it; it was pushed out, and
  // so was version 2 (answered at 5 ms), the newest pushed out: only a bound is known.
  const auto unknown = c.read_answered(kKey, kAlice, at_ms(4) + 500_us, at_ms(14), 1);
  CHECK_FALSE(unknown.monotonic_read_violation);
  CHECK(unknown.saturated);
}

TEST_CASE("consistency checker: linearizable register histories pass") {
  ConsistencyChecker c(with_linearizability());
  // Sequential: a write, then a read of it.
  write(c, 10, 1, 0, 1);
  read(c, 10, 2, 3, 1);
  // Overlapping (from 100 ms): w1 [100,110] and w2 [105,112] overlap reads; the order
  // r1 w1 r2 r3 r5 w2 r4 works.
  read(c, 11, 101, 102, 0);  // r1: before w1 took effect
  read(c, 11, 103, 104, 1);  // r2
  read(c, 11, 105, 106, 1);  // r3
  read(c, 11, 108, 109, 1);  // r5: w2 not yet in effect
  write(c, 11, 1, 100, 110);
  write(c, 11, 2, 105, 112);
  read(c, 11, 107, 113, 2);  // r4
  // A pending write may take effect: read while never acknowledged; another never read.
  c.write_versioned(12, 1, at_ms(200));
  c.write_versioned(12, 2, at_ms(201));
  read(c, 12, 202, 203, 1);
  c.finish(survives_all);
  CHECK(c.linearizability_violations() == 0);
  CHECK(c.linearizability_checked_ops() == 2 + 7 + 3);
  CHECK(c.non_linearizable_keys().empty());
}

TEST_CASE("consistency checker: non-linearizable register histories are caught") {
  ConsistencyChecker c(with_linearizability());
  // (Reads are reported in the order of their answers, writes in the order of their acks.)
  // 20: a read returns a write that began after the read ended.
  read(c, 20, 0, 1, 1);
  // 21: two sequential reads go backwards while a long write (version 2) is in flight.
  read(c, 21, 3, 4, 2);
  // 22: a read returns an old value after a newer write completed.
  read(c, 22, 4, 5, 1);
  // 23: a read returns a version nobody wrote.
  read(c, 23, 4, 5, 9);
  // 24: linearizable, for contrast.
  read(c, 24, 4, 5, 0);
  read(c, 21, 5, 6, 1);  // 21's second read
  write(c, 21, 1, 0, 1);
  write(c, 22, 1, 0, 1);
  write(c, 22, 2, 2, 3);
  write(c, 20, 1, 2, 3);
  write(c, 21, 2, 2, 10);
  c.finish(survives_all);
  CHECK(c.linearizability_violations() == 4);
  CHECK(c.non_linearizable_keys() == std::vector<ConsistencyChecker::Key>{20, 21, 22, 23});
  CHECK(figures_of(c).at("linearizability_violations") == 4);
}

TEST_CASE("consistency checker: keys beyond the operation limit are skipped") {
  ConsistencyChecker c(with_linearizability(5));
  for (int i = 0; i < 6; ++i) read(c, 30, i, i, 0);  // 6 operations: skipped
  c.write_versioned(31, 1, at_ms(0));                // versioned then acked: one operation
  write(c, 31, 1, 0, 1);
  for (int i = 0; i < 4; ++i) read(c, 31, 10 + i, 10 + i, 1);  // 5 operations: checked
  c.finish(survives_all);
  CHECK(c.linearizability_skipped_keys() == 1);
  CHECK(c.linearizability_checked_ops() == 5);
  CHECK(c.linearizability_violations() == 0);
  const auto f = figures_of(c);
  CHECK(f.at("linearizability_skipped_keys") == 1);
  CHECK(f.at("linearizability_checked_ops") == 5);
}

TEST_CASE("consistency checker: figures are declared, and zeros from other replicas") {
  ConsistencyCheckerConfig config;
  config.age_buckets = 4;
  ConsistencyChecker c(config);
  models::Figures emitted, zeros;
  c.figures(emitted);
  ConsistencyChecker::zero_figures(config, zeros);
  REQUIRE(emitted.items().size() == zeros.items().size());
  const auto docs = ConsistencyChecker::figure_docs();
  for (std::size_t i = 0; i < emitted.items().size(); ++i) {
    const auto& e = emitted.items()[i];
    const auto& z = zeros.items()[i];
    CHECK(e.name == z.name);
    CHECK(e.combine == z.combine);
    const bool declared = std::any_of(docs.begin(), docs.end(), [&](const models::FigureDoc& d) {
      return models::names_figure(d.name, e.name) && d.combine == e.combine;
    });
    CHECK(declared);
    if (z.combine == models::Combine::Sum) CHECK(z.value == 0);
    if (z.combine == models::Combine::Max) CHECK(std::isnan(z.value));
  }
  CHECK(emitted.items().size() == docs.size() - 2 + 2 * 4);
  // Without reads, the ratios and percentiles have no value.
  CHECK(std::isnan(figures_of(c).at("stale_read_fraction")));
  CHECK(std::isnan(figures_of(c).at("staleness_p99_ms")));
}

TEST_CASE("consistency checker: reads allocate nothing in the steady state") {
  ConsistencyChecker c;
  for (ConsistencyChecker::Version v = 1; v <= 100; ++v)
    c.write_acked(kKey, v, kAlice, at_ms(0), at_ms(1));
  read(c, kKey, 2, 3, 50, kAlice);
  read(c, kKey, 2, 3, 60, kBob);
  const std::uint64_t before = allocation_count();
  for (int i = 0; i < 1000; ++i) {
    c.read_answered(kKey, kAlice, at_ms(4), at_ms(5), 60);
    c.read_answered(kKey, kBob, at_ms(4), at_ms(5), 70);
    c.read_answered(kOtherKey, kBob, at_ms(4), at_ms(5), 0);
  }
  CHECK(allocation_count() - before == 0);
  CHECK(c.stale_reads() == 2002);
}

namespace {

// A small register history for the brute-force cross-check: all writes acknowledged.
struct SmallOp {
  bool is_read;
  std::int64_t invoked, answered;  // ms
  ConsistencyChecker::Version version;
};

// Whether some order of all the operations respects real time and the store's version order,
// with every read returning the latest write before it: linearizability by definition.
bool linearizable_by_brute_force(std::vector<SmallOp> ops) {
  std::vector<std::size_t> order(ops.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  do {
    bool ok = true;
    ConsistencyChecker::Version current = 0, last_written = 0;
    for (std::size_t p = 0; p < order.size() && ok; ++p) {
      const SmallOp& op = ops[order[p]];
      for (std::size_t q = p + 1; q < order.size() && ok; ++q)
        ok = !(ops[order[q]].answered < op.invoked);  // nothing later may precede it
      if (op.is_read) {
        ok = ok && op.version == current;
      } else {
        ok = ok && op.version > last_written;
        current = last_written = op.version;
      }
    }
    if (ok) return true;
  } while (std::next_permutation(order.begin(), order.end()));
  return false;
}

}  // namespace

TEST_CASE("consistency checker: linearizability agrees with brute force on small histories") {
  std::uint64_t state = 12345;
  const auto draw = [&](std::uint64_t n) {  // splitmix64: fixed, whatever the library
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (z ^ (z >> 31)) % n;
  };
  int linearizable = 0, not_linearizable = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const std::uint64_t writes = 1 + draw(3), reads = 1 + draw(3);
    std::vector<SmallOp> ops;
    std::vector<ConsistencyChecker::Version> versions;
    for (std::uint64_t v = 1; v <= writes; ++v) versions.push_back(v);
    for (std::size_t i = versions.size(); i > 1; --i) std::swap(versions[i - 1], versions[draw(i)]);
    for (std::uint64_t i = 0; i < writes + reads; ++i) {
      const auto invoked = static_cast<std::int64_t>(draw(10));
      const auto answered = invoked + static_cast<std::int64_t>(draw(5));
      const bool is_read = i >= writes;
      ops.push_back({is_read, invoked, answered, is_read ? draw(writes + 1) : versions[i]});
    }
    ConsistencyChecker c(with_linearizability());
    std::vector<SmallOp> by_answer = ops;
    std::stable_sort(by_answer.begin(), by_answer.end(),
                     [](const SmallOp& a, const SmallOp& b) { return a.answered < b.answered; });
    for (const SmallOp& op : by_answer) {
      if (op.is_read) {
        c.read_answered(kKey, kBob, at_ms(op.invoked), at_ms(op.answered), op.version);
      } else {
        c.write_acked(kKey, op.version, kAlice, at_ms(op.invoked), at_ms(op.answered));
      }
    }
    c.finish(survives_all);
    const bool expected = linearizable_by_brute_force(ops);
    INFO("trial " << trial);
    CHECK((c.linearizability_violations() == 0) == expected);
    ++(expected ? linearizable : not_linearizable);
  }
  // Both verdicts were exercised.
  CHECK(linearizable > 20);
  CHECK(not_linearizable > 20);
}
