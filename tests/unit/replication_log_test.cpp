// The replicated log's bookkeeping: versions, terms by runs, the backlog ring, snapshots.
#include <catch2/catch.hpp>

#include "models/replication/replication_log.hpp"

using models::ReplicationLog;

TEST_CASE("replication_log: versions name term and index, and order by them") {
  const std::uint64_t v = ReplicationLog::version(3, 17);
  CHECK(ReplicationLog::term_of(v) == 3);
  CHECK(ReplicationLog::index_of(v) == 17);
  CHECK(ReplicationLog::version(4, 1) > ReplicationLog::version(3, 1'000'000));
}

TEST_CASE("replication_log: terms of every index, entries of the last backlog only") {
  ReplicationLog log(4);
  for (int i = 0; i < 3; ++i) log.append(1, 10 + i);  // 1 .. 3 in term 1
  for (int i = 0; i < 4; ++i) log.append(2, 20 + i);  // 4 .. 7 in term 2
  log.append(5, 30);                                  // 8 in term 5
  CHECK(log.last_index() == 8);
  CHECK(log.last_term() == 5);
  CHECK(log.term_at(0) == 0);
  CHECK(log.term_at(1) == 1);
  CHECK(log.term_at(3) == 1);
  CHECK(log.term_at(4) == 2);
  CHECK(log.term_at(7) == 2);
  CHECK(log.term_at(8) == 5);
  CHECK(log.term_at(9) == 0);  // beyond the last
  CHECK(log.first_held() == 5);
  CHECK(!log.holds(4));
  CHECK(log.holds(5));
  CHECK(log.at(5).key == 21);
  CHECK(log.at(8).version == ReplicationLog::version(5, 8));
  CHECK(log.up_to_date_rank() == ReplicationLog::version(5, 8));
}

TEST_CASE("replication_log: a snapshot takes the other's terms up to a point and no entries") {
  ReplicationLog leader(16), follower(16);
  for (int i = 0; i < 5; ++i) leader.append(1, i);
  for (int i = 0; i < 5; ++i) leader.append(3, i);
  for (int i = 0; i < 7; ++i) follower.append(1, 100 + i);  // diverged after 5
  follower.reset_to(leader, 8);
  CHECK(follower.last_index() == 8);
  CHECK(follower.term_at(5) == 1);
  CHECK(follower.term_at(6) == 3);
  CHECK(follower.term_at(8) == 3);
  CHECK(!follower.holds(8));  // in the snapshot, not the backlog
  follower.append_received(leader.at(9));
  CHECK(follower.holds(9));
  CHECK(follower.first_held() == 9);
  CHECK(follower.last_term() == 3);
}
