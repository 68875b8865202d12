// Raft's leader election, mechanics. First the part on its own (one member under test among
// scripted members that record what it sends): votes, terms, majorities, heartbeats, pre-votes.
// Then whole groups of raft_node: a single leader emerges, a minority cannot elect, pre-vote and
// check-quorum, drifting clocks, durable state and the invariant, steady state without allocation.
// Last, the leader crasher that times elections after a leader's crash.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "models/election/leader_crasher.hpp"
#include "models/election/raft_election.hpp"
#include "models/election/raft_node.hpp"
#include "models/shared/health.hpp"
#include "sim/cluster.hpp"
#include "sim/simulator.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;
using models::RaftAppendEntries;
using models::RaftAppendReply;
using models::RaftElection;
using models::RaftElectionConfig;
using models::RaftGhost;
using models::RaftNode;
using models::RaftNodeConfig;
using models::RaftRequestVote;
using models::RaftRole;
using models::RaftVoteReply;

namespace {

// ---- the part, among scripted members ----------------------------------------------------------

// The member under test: a process that composes the part, as a model does.
class Member : public Process {
 public:
  Member(const RaftElectionConfig& config, std::vector<NodeId> members, RaftGhost& ghost, Rng rng)
      : election(config, std::move(members), 0, 0, ghost, rng, Time::zero(), Time::max()) {}
  void on_start(Node& node) override { election.start(node); }
  void on_message(Node& node, const Message& message) override {
    election.on_message(node, message);
  }
  void on_timer(Node& node, TimerTag tag) override { election.on_timer(node, tag); }
  void on_crash(Node& node) override { election.on_crash(node); }
  RaftElection election;
};

// A scripted member: records the raft messages it receives.
class Peer : public Process {
 public:
  struct Got {
    Time at;
    bool is_vote_reply = false, is_request = false, is_append = false;
    RaftVoteReply vote;
    RaftRequestVote request;
    RaftAppendEntries append;
  };
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    Got g{.at = node.true_now()};
    if (message.holds<RaftVoteReply>()) {
      g.is_vote_reply = true;
      g.vote = message.as<RaftVoteReply>();
    } else if (message.holds<RaftRequestVote>()) {
      g.is_request = true;
      g.request = message.as<RaftRequestVote>();
    } else if (message.holds<RaftAppendEntries>()) {
      g.is_append = true;
      g.append = message.as<RaftAppendEntries>();
    }
    got.push_back(g);
  }
  std::vector<RaftVoteReply> vote_replies() const {
    std::vector<RaftVoteReply> out;
    for (const Got& g : got)
      if (g.is_vote_reply) out.push_back(g.vote);
    return out;
  }
  std::vector<Got> got;
};

template <class T>
struct Send {
  Cluster* cluster;
  NodeId from, to;
  T payload;
  void operator()() const { cluster->node(from).send(to, payload); }
};

// Member 0 is the part under test, members 1 .. n-1 scripted; a zero-latency network.
struct PartBench {
  PartBench(std::size_t n, RaftElectionConfig config) : sim(7), cluster(sim) {
    for (std::size_t i = 0; i < n; ++i) ids.push_back(cluster.add_node("m" + std::to_string(i)));
    std::vector<std::string> names;
    for (const NodeId id : ids) names.push_back(cluster.node(id).name());
    ghost().configure("group", names, &invariants, config.heartbeat_interval, Time::zero(),
                      Time::max());
    auto m =
        std::make_unique<Member>(config, ids, ghost(), cluster.node(ids[0]).stream("election"));
    member = m.get();
    cluster.attach(ids[0], std::move(m));
    for (std::size_t i = 1; i < n; ++i) {
      auto p = std::make_unique<Peer>();
      peers.push_back(p.get());
      cluster.attach(ids[i], std::move(p));
    }
    cluster.start();
  }
  RaftGhost& ghost() { return invariants.ghost<RaftGhost>("group"); }
  const RaftElection& part() const { return member->election; }
  // Peer `from` (1 ..) sends `payload` to the member under test at `at`.
  template <class T>
  void send(std::size_t from, Time at, T payload) {
    sim.schedule_at(at, Send<T>{&cluster, ids[from], ids[0], payload});
  }
  Peer& peer(std::size_t i) { return *peers[i - 1]; }

  models::Invariants invariants;
  Simulator sim;
  Cluster cluster;
  std::vector<NodeId> ids;
  Member* member = nullptr;
  std::vector<Peer*> peers;
};

// Long timeouts: the member under test never starts an election by itself.
RaftElectionConfig quiet() {
  RaftElectionConfig c;
  c.election_timeout_min = 10_s;
  c.election_timeout_max = 10_s;
  c.heartbeat_interval = 50_ms;
  return c;
}

}  // namespace

TEST_CASE("raft: one vote per term, and a newer term resets the vote") {
  PartBench b(3, quiet());
  b.send(1, at_ms(10), RaftRequestVote{.term = 1});
  b.send(2, at_ms(20), RaftRequestVote{.term = 1});
  b.send(1, at_ms(30), RaftRequestVote{.term = 1});  // asked again: the same answer
  b.send(2, at_ms(40), RaftRequestVote{.term = 2});
  b.sim.run_until(at_ms(50));
  const auto one = b.peer(1).vote_replies();
  const auto two = b.peer(2).vote_replies();
  REQUIRE(one.size() == 2);
  REQUIRE(two.size() == 2);
  CHECK((one[0].granted == 1 && one[0].term == 1));
  CHECK((two[0].granted == 0 && two[0].term == 1));  // already voted for member 1 in term 1
  CHECK((one[1].granted == 1 && one[1].term == 1));
  CHECK((two[1].granted == 1 && two[1].term == 2));
  CHECK(b.part().term() == 2);
  CHECK(b.part().voted_for() == 2);
  CHECK(b.part().role() == RaftRole::Follower);
}

TEST_CASE("raft: an older term is refused with the voter's term") {
  PartBench b(3, quiet());
  b.send(1, at_ms(10), RaftRequestVote{.term = 5});
  b.send(2, at_ms(20), RaftRequestVote{.term = 3});
  b.send(2, at_ms(30), RaftAppendEntries{.term = 4});
  b.sim.run_until(at_ms(40));
  const auto two = b.peer(2).vote_replies();
  REQUIRE(two.size() == 1);
  CHECK((two[0].granted == 0 && two[0].term == 5));
  CHECK(b.part().leader() == RaftElection::kNone);  // the stale heartbeat was refused
  CHECK(b.part().term() == 5);
}

TEST_CASE("raft: a candidate needs a majority, and a duplicated vote counts once") {
  RaftElectionConfig c = quiet();
  c.election_timeout_min = c.election_timeout_max = 100_ms;
  PartBench b(5, c);
  b.sim.run_until(at_ms(100));
  CHECK(b.part().role() == RaftRole::Candidate);
  CHECK(b.part().term() == 1);
  for (std::size_t p = 1; p <= 4; ++p) {
    REQUIRE(b.peer(p).got.size() == 1);
    CHECK(b.peer(p).got[0].is_request);
    CHECK(b.peer(p).got[0].request.term == 1);
    CHECK(b.peer(p).got[0].at == at_ms(100));
  }
  b.send(1, at_ms(101), RaftVoteReply{.term = 1, .granted = 1});
  b.send(1, at_ms(102), RaftVoteReply{.term = 1, .granted = 1});  // a duplicate
  b.send(3, at_ms(103), RaftVoteReply{.term = 1, .granted = 0});
  b.sim.run_until(at_ms(104));
  CHECK(b.part().role() == RaftRole::Candidate);  // 2 of 5
  b.send(2, at_ms(105), RaftVoteReply{.term = 1, .granted = 1});
  b.sim.run_until(at_ms(105));
  CHECK(b.part().role() == RaftRole::Leader);  // 3 of 5
  CHECK(b.ghost().winner(1) == 0);
  for (std::size_t p = 1; p <= 4; ++p) {  // a heartbeat to everyone at once, then every 50 ms
    REQUIRE(b.peer(p).got.size() == 2);
    CHECK(b.peer(p).got[1].is_append);
    CHECK(b.peer(p).got[1].at == at_ms(105));
  }
  b.sim.run_until(at_ms(205));
  CHECK(b.peer(4).got.size() == 4);
  CHECK(b.peer(4).got.back().at == at_ms(205));
}

TEST_CASE("raft: a split vote: the candidate's timer fires again and a new term starts") {
  RaftElectionConfig c = quiet();
  c.election_timeout_min = c.election_timeout_max = 100_ms;
  PartBench b(3, c);
  b.sim.run_until(at_ms(150));
  CHECK(b.part().role() == RaftRole::Candidate);
  b.sim.run_until(at_ms(200));
  CHECK(b.part().term() == 2);
  CHECK(b.peer(1).got.back().request.term == 2);
}

TEST_CASE("raft: a leader steps down on a newer term, and a candidate on a heartbeat of its term") {
  RaftElectionConfig c = quiet();
  c.election_timeout_min = c.election_timeout_max = 100_ms;
  PartBench b(3, c);
  b.send(1, at_ms(101), RaftVoteReply{.term = 1, .granted = 1});
  b.sim.run_until(at_ms(110));
  REQUIRE(b.part().role() == RaftRole::Leader);
  CHECK(b.ghost().has_leader() == false);  // nobody has accepted its heartbeat yet
  b.send(2, at_ms(120), RaftAppendReply{.term = 4, .success = 0});
  b.sim.run_until(at_ms(130));
  CHECK(b.part().role() == RaftRole::Follower);
  CHECK(b.part().term() == 4);
  CHECK(b.part().voted_for() == RaftElection::kNone);
  const auto heartbeats = b.peer(1).got.size();
  b.sim.run_until(at_ms(200));
  CHECK(b.peer(1).got.size() == heartbeats);  // no more heartbeats
  // Its election timer runs again: at 230 it stands for term 5; a heartbeat of term 5 ends that.
  b.sim.run_until(at_ms(230));
  CHECK(b.part().role() == RaftRole::Candidate);
  CHECK(b.part().term() == 5);
  b.send(2, at_ms(231), RaftAppendEntries{.term = 5});
  b.sim.run_until(at_ms(232));
  CHECK(b.part().role() == RaftRole::Follower);
  CHECK(b.part().leader() == 2);
}

TEST_CASE("raft: a pre-vote changes nothing at the voter, and is refused within a leader's reach") {
  RaftElectionConfig c = quiet();
  c.election_timeout_min = 150_ms;
  c.election_timeout_max = 300_ms;
  c.pre_vote = true;
  PartBench b(3, c);
  b.send(1, at_ms(10), RaftRequestVote{.term = 1, .round = 7, .pre_vote = 1});
  b.send(2, at_ms(20), RaftAppendEntries{.term = 1});  // a leader of term 1 is heard
  b.send(1, at_ms(30), RaftRequestVote{.term = 2, .round = 8, .pre_vote = 1});
  b.sim.run_until(at_ms(40));
  auto one = b.peer(1).vote_replies();
  REQUIRE(one.size() == 2);
  CHECK((one[0].granted == 1 && one[0].term == 1 && one[0].round == 7 && one[0].pre_vote == 1));
  CHECK((one[1].granted == 0 && one[1].term == 1 && one[1].round == 8));
  CHECK(b.part().term() == 1);  // from the heartbeat, not from the pre-votes
  CHECK(b.part().voted_for() == RaftElection::kNone);
  // 150 ms after the last heartbeat a pre-vote is granted again (its timer fired meanwhile:
  // it is a pre-candidate, and a pre-candidate grants too).
  b.send(1, at_ms(171), RaftRequestVote{.term = 2, .round = 9, .pre_vote = 1});
  b.sim.run_until(at_ms(172));
  one = b.peer(1).vote_replies();
  REQUIRE(one.size() == 3);
  CHECK(one[2].granted == 1);
}

TEST_CASE("raft: a pre-candidate raises its term only with a majority of pre-votes") {
  RaftElectionConfig c = quiet();
  c.election_timeout_min = c.election_timeout_max = 100_ms;
  c.pre_vote = true;
  PartBench b(3, c);
  b.sim.run_until(at_ms(100));
  CHECK(b.part().role() == RaftRole::PreCandidate);
  CHECK(b.part().term() == 0);
  REQUIRE(b.peer(1).got.size() == 1);
  const RaftRequestVote asked = b.peer(1).got[0].request;
  CHECK((asked.pre_vote == 1 && asked.term == 1));
  // A grant of another round does not count; one of this round does: an election of term 1.
  b.send(1, at_ms(101),
         RaftVoteReply{.term = 1, .round = asked.round + 1, .granted = 1, .pre_vote = 1});
  b.sim.run_until(at_ms(101));
  CHECK(b.part().role() == RaftRole::PreCandidate);
  b.send(2, at_ms(102),
         RaftVoteReply{.term = 1, .round = asked.round, .granted = 1, .pre_vote = 1});
  b.sim.run_until(at_ms(102));
  CHECK(b.part().role() == RaftRole::Candidate);
  CHECK(b.part().term() == 1);
  // A refusal with a newer term makes it a follower of that term.
  b.send(1, at_ms(103), RaftVoteReply{.term = 6, .granted = 0, .pre_vote = 1});
  b.sim.run_until(at_ms(103));
  CHECK(b.part().role() == RaftRole::Follower);
  CHECK(b.part().term() == 6);
}

TEST_CASE("raft: durable state survives a crash, volatile state does not") {
  for (const bool durable : {true, false}) {
    INFO("durable_state " << durable);
    RaftElectionConfig c = quiet();
    c.durable_state = durable;
    PartBench b(3, c);
    b.send(1, at_ms(10), RaftRequestVote{.term = 3});
    b.sim.run_until(at_ms(20));
    b.cluster.crash(b.ids[0]);
    b.cluster.restart(b.ids[0]);
    CHECK(b.part().role() == RaftRole::Follower);
    CHECK(b.part().term() == (durable ? 3u : 0u));
    CHECK(b.part().voted_for() == (durable ? 1u : RaftElection::kNone));
    b.send(2, at_ms(30), RaftRequestVote{.term = 3});
    b.sim.run_until(at_ms(40));
    const auto two = b.peer(2).vote_replies();
    REQUIRE(two.size() == 1);
    CHECK(two[0].granted == (durable ? 0 : 1));  // without it: a second vote in term 3
  }
}

TEST_CASE("raft: with persist_time, votes and a candidate's requests wait for the write") {
  RaftElectionConfig c = quiet();
  c.persist_time = 15_ms;
  PartBench b(3, c);
  b.send(1, at_ms(10), RaftRequestVote{.term = 1});  // a vote: written, then answered
  b.send(2, at_ms(12), RaftRequestVote{.term = 1});  // refused: nothing to write, answered at once
  b.send(2, at_ms(40), RaftRequestVote{.term = 2});  // a newer term and a vote: written first
  b.send(1, at_ms(45), RaftRequestVote{.term = 3});  // newer again, while term 2's write runs
  b.sim.run_until(at_ms(100));
  std::vector<Peer::Got> one, two;
  for (const auto& g : b.peer(1).got)
    if (g.is_vote_reply) one.push_back(g);
  for (const auto& g : b.peer(2).got)
    if (g.is_vote_reply) two.push_back(g);
  REQUIRE(one.size() == 2);
  REQUIRE(two.size() == 2);
  CHECK(one[0].at == at_ms(25));
  CHECK((one[0].vote.granted == 1 && one[0].vote.term == 1));
  CHECK(two[0].at == at_ms(12));
  CHECK(two[0].vote.granted == 0);
  // Term 2's vote leaves after its write although term 3 arrived meanwhile (in memory at once).
  CHECK(two[1].at == at_ms(55));
  CHECK((two[1].vote.granted == 1 && two[1].vote.term == 2));
  CHECK(one[1].at == at_ms(60));
  CHECK((one[1].vote.granted == 1 && one[1].vote.term == 3));

  // A candidate writes its term and vote before asking; a crash during the write sends nothing.
  RaftElectionConfig eager = quiet();
  eager.persist_time = 15_ms;
  eager.election_timeout_min = eager.election_timeout_max = 100_ms;
  PartBench k(3, eager);
  k.sim.run_until(at_ms(110));
  CHECK(k.part().role() == RaftRole::Candidate);
  CHECK(k.peer(1).got.empty());  // still writing
  k.sim.run_until(at_ms(120));
  REQUIRE(k.peer(1).got.size() == 1);
  CHECK(k.peer(1).got[0].at == at_ms(115));
  CHECK((k.peer(1).got[0].is_request && k.peer(1).got[0].request.term == 1));
  k.sim.run_until(at_ms(210));  // term 2's election (no votes came) ...
  k.cluster.crash(k.ids[0]);    // ... crashes 10 ms into its write
  k.sim.run_until(at_ms(300));
  CHECK(k.peer(1).got.size() == 1);
  CHECK(k.part().term() == 2);  // durable all the same: the safe side
}

// ---- whole groups of raft_node ---------------------------------------------------------------

namespace {

struct Group {
  Group(std::size_t n, RaftNodeConfig config, std::uint64_t seed = 1, double latency_ms = 1,
        Time end = at_ms(60'000))
      : h(seed, Time::zero(), end) {
    h.cluster.network().set_default_link({Distribution::constant(latency_ms * 1e6)});
    nodes = h.build<RaftNode>("raft", n, config);
  }
  const RaftElection& member(std::size_t i) const { return nodes[i]->election(); }
  NodeId id(std::size_t i) const { return h.nodes("raft")[i]; }
  RaftGhost& ghost() { return h.invariants.ghost<RaftGhost>("raft"); }
  void run_until(Time t) {
    if (!started) h.cluster.start();
    started = true;
    h.sim.run_until(t);
  }
  // The members that are leaders now.
  std::vector<std::size_t> leaders() const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < nodes.size(); ++i)
      if (h.cluster.node(id(i)).is_up() && member(i).role() == RaftRole::Leader) out.push_back(i);
    return out;
  }
  // A figure of the group (from the ghost: every member emits the same).
  double figure(const std::string& name) const { return dsimtest::figure(*nodes[0], name); }
  // A per-member figure summed over the members.
  double sum(const std::string& name) const {
    double total = 0;
    for (const RaftNode* n : nodes) total += dsimtest::figure(*n, name);
    return total;
  }

  dsimtest::ModelHarness h;
  std::vector<RaftNode*> nodes;
  bool started = false;
};

RaftNodeConfig standard() {
  RaftNodeConfig c;
  c.election.election_timeout_min = 150_ms;
  c.election.election_timeout_max = 300_ms;
  c.election.heartbeat_interval = 50_ms;
  return c;
}

}  // namespace

TEST_CASE("raft_node: a single leader emerges and every member follows it") {
  for (const std::uint64_t seed : {1, 2, 3, 4, 5}) {
    INFO("seed " << seed);
    Group g(5, standard(), seed);
    g.run_until(at_ms(3'000));
    const auto leaders = g.leaders();
    REQUIRE(leaders.size() == 1);
    const std::size_t l = leaders[0];
    for (std::size_t i = 0; i < 5; ++i) {
      CHECK(g.member(i).term() == g.member(l).term());
      CHECK(g.member(i).leader() == l);
    }
    CHECK(g.ghost().has_leader());
    CHECK(g.ghost().leader() == l);
    // The first timeout fires between 151 and 301 ms (the heartbeat of nobody resets it), and
    // the leader is established 3 one-way latencies later (request, vote, heartbeat), unless a
    // split vote costs another round.
    CHECK(g.ghost().leader_since() >= at_ms(153));
    CHECK(g.ghost().leader_since() <= at_ms(310 * g.member(l).term()));
    CHECK(g.figure("leader_changes") == 1);
    CHECK(g.sum("elections_started") >= 1);
    CHECK(g.sum("step_downs") == 0);
    CHECK(g.h.invariants.count() == 0);
    CHECK(g.figure("leaderless_periods") == 1);  // the start, until the first leader
    CHECK(g.figure("leaderless_fraction") ==
          Approx(g.ghost().leader_since().seconds() / 60.0).epsilon(1e-9));
  }
}

TEST_CASE("raft_node: a minority cannot elect a leader, the majority side can") {
  Group g(5, standard());
  g.h.faults.partition(Time::zero(), {{g.id(0), g.id(1)}, {g.id(2), g.id(3), g.id(4)}}, false);
  g.run_until(at_ms(5'000));
  const auto leaders = g.leaders();
  REQUIRE(leaders.size() == 1);
  CHECK(leaders[0] >= 2);
  CHECK(g.member(0).role() != RaftRole::Leader);
  CHECK(g.member(1).role() != RaftRole::Leader);
  CHECK(g.member(0).term() > 5);  // the minority keeps trying, term after term

  Group two(5, standard());
  for (std::size_t i = 2; i < 5; ++i) two.h.faults.crash(Time::zero(), two.id(i));
  two.run_until(at_ms(5'000));
  CHECK(two.leaders().empty());
  CHECK_FALSE(two.ghost().has_leader());
  CHECK(two.figure("leader_changes") == 0);
  CHECK(two.figure("split_votes") > 5);  // elections that could not reach 3 votes
  CHECK(two.figure("leaderless_fraction") == 1.0);
}

TEST_CASE("raft_node: pre-vote keeps a member that was cut off from disrupting the leader") {
  // A follower is cut off from 1 s to 4 s. Without pre-vote it raises its term at every timeout
  // and, back, its newer term makes the leader step down; with pre-vote it never gets a
  // majority of pre-votes, keeps its term, and follows the leader again when back.
  for (const bool pre_vote : {false, true}) {
    INFO("pre_vote " << pre_vote);
    RaftNodeConfig c = standard();
    c.election.pre_vote = pre_vote;
    Group g(5, c);
    g.run_until(at_ms(1'000));
    REQUIRE(g.leaders().size() == 1);
    const std::size_t leader = g.leaders()[0];
    const std::uint64_t term = g.member(leader).term();
    const std::size_t cut = (leader + 1) % 5;
    std::vector<NodeId> rest;
    for (std::size_t i = 0; i < 5; ++i)
      if (i != cut) rest.push_back(g.id(i));
    g.h.faults.partition(at_ms(1'000), {{g.id(cut)}, rest}, false, 3_s);
    g.run_until(at_ms(3'990));
    if (pre_vote) {
      CHECK(g.member(cut).term() == term);
      CHECK(g.sum("pre_votes_started") >= 8);  // a round per timeout while cut off
    } else {
      CHECK(g.member(cut).term() >= term + 8);  // 3 s / 300 ms at least
    }
    g.run_until(at_ms(6'000));
    REQUIRE(g.leaders().size() == 1);
    if (pre_vote) {
      CHECK(g.leaders()[0] == leader);
      CHECK(g.member(leader).term() == term);
      CHECK(g.sum("step_downs") == 0);
      CHECK(g.figure("leader_changes") == 1);
    } else {
      CHECK(g.sum("step_downs") >= 1);
      CHECK(g.figure("leader_changes") >= 2);
      CHECK(g.member(g.leaders()[0]).term() > term + 8);
    }
    CHECK(g.h.invariants.count() == 0);
  }
}

TEST_CASE("raft_node: check-quorum makes a leader cut off from the majority step down") {
  for (const bool check_quorum : {false, true}) {
    INFO("check_quorum " << check_quorum);
    RaftNodeConfig c = standard();
    c.election.check_quorum = check_quorum;
    Group g(5, c);
    g.run_until(at_ms(1'000));
    REQUIRE(g.leaders().size() == 1);
    const std::size_t leader = g.leaders()[0];
    std::vector<NodeId> rest;
    for (std::size_t i = 0; i < 5; ++i)
      if (i != leader) rest.push_back(g.id(i));
    g.h.faults.partition(at_ms(1'010), {{g.id(leader)}, rest}, false, 2_s);
    // The last answers reached it by 1.012 s at the latest (one sent before 1.010 s); the first
    // heartbeat at which they are more than 150 ms old comes by 1.212 s.
    g.run_until(at_ms(1'250));
    if (check_quorum) {
      CHECK(g.member(leader).role() == RaftRole::Follower);
      CHECK(g.sum("quorum_losses") == 1);
    } else {
      CHECK(g.member(leader).role() == RaftRole::Leader);
    }
    g.run_until(at_ms(2'990));
    CHECK((g.member(leader).role() == RaftRole::Leader) == !check_quorum);  // leads nobody
    CHECK(g.ghost().has_leader());  // the majority side elected one meanwhile
    CHECK(g.ghost().leader() != leader);
    CHECK(g.h.invariants.count() == 0);
  }
}

TEST_CASE("raft_node: election timeouts run on the member's own clock") {
  RaftNodeConfig c = standard();
  c.election.election_timeout_min = c.election.election_timeout_max = 100_ms;
  // A group of one elects itself at its first timeout: 100 ms on its clock.
  for (const double ppm : {0.0, 100'000.0, -200'000.0}) {
    INFO("drift " << ppm << " ppm");
    Group g(1, c);
    g.h.cluster.node(g.id(0)).clock().set_drift_ppm(ppm, Time::zero());
    g.run_until(at_ms(1'000));
    // 100 ms / (1 + drift), rounded up to the nanosecond: 90.909091 ms at +10 %, 125 ms at -20 %.
    const double expected_ms = 100.0 / (1.0 + ppm / 1e6);
    CHECK(g.ghost().leader_since().seconds() * 1e3 == Approx(expected_ms).margin(1e-6));
  }
  // A step of the wall clock does not move the timer (it runs on the monotonic clock).
  Group stepped(1, c);
  stepped.h.faults.clock_step(at_ms(50), stepped.id(0), -10_s);
  stepped.run_until(at_ms(1'000));
  CHECK(stepped.ghost().leader_since() == at_ms(100));
  // In a group of three with equal timeouts, the member whose clock runs 10 % fast times out
  // first and wins; the others vote for it before their own timers fire.
  Group g(3, c);
  g.h.cluster.node(g.id(2)).clock().set_drift_ppm(100'000, Time::zero());
  g.run_until(at_ms(1'000));
  REQUIRE(g.leaders().size() == 1);
  CHECK(g.leaders()[0] == 2);
  CHECK(g.member(2).term() == 1);
}

TEST_CASE("raft_node: without durable state, a crash can give one term two leaders") {
  // raft[2] is down until 1 s and cut off from raft[0] for good; raft[0]'s clock runs 50 %
  // fast, so it times out first (at 100-107 ms) and wins term 1 with raft[1]'s vote. At 500 ms
  // raft[1] crashes for 10 ms: without durable state it forgets its vote, learns term 1 again
  // from raft[0]'s next heartbeat, and when raft[2] times out (it never hears raft[0]) and asks
  // for term 1, raft[1] grants it a second vote in term 1. Durable, raft[1] refuses; raft[2]
  // wins term 2 instead.
  for (const bool durable : {true, false}) {
    INFO("durable_state " << durable);
    RaftNodeConfig c = standard();
    c.election.election_timeout_min = 150_ms;
    c.election.election_timeout_max = 160_ms;
    c.election.durable_state = durable;
    Group g(3, c);
    g.h.faults.partition(Time::zero(), {{g.id(0)}, {g.id(2)}}, false);
    g.h.faults.crash(Time::zero(), g.id(2), 1_s);
    // Set before the start: a drift applied later does not move a timer already armed.
    g.h.cluster.node(g.id(0)).clock().set_drift_ppm(500'000, Time::zero());
    g.h.faults.crash(at_ms(500), g.id(1), 10_ms);
    g.run_until(at_ms(1'400));
    CHECK(g.ghost().winner(1) == 0);
    if (durable) {
      CHECK(g.h.invariants.count() == 0);
      CHECK(g.ghost().winner(2) == 2);
    } else {
      REQUIRE(g.h.invariants.count() == 1);
      const models::InvariantViolation& v = g.h.invariants.violations()[0];
      CHECK(v.invariant == "one leader per term");
      CHECK(v.component == "raft");
      CHECK(v.detail == "term 1: raft-0 and raft-2 both won it");
      CHECK(v.at > at_ms(1'150));
      CHECK(v.at < at_ms(1'170));
      CHECK(g.leaders().size() == 2);  // both lead term 1
    }
  }
}

TEST_CASE("raft_node: answers health probes") {
  Group g(3, standard());
  auto probe = std::make_unique<Peer>();
  Peer* p = probe.get();
  const NodeId checker = g.h.add_process("checker", std::move(probe));
  struct Probe {
    Cluster* cluster;
    NodeId from, to;
    void operator()() const { cluster->node(from).send(to, models::HealthProbe{.seq = 9}); }
  };
  g.h.sim.schedule_at(at_ms(10), Probe{&g.h.cluster, checker, g.id(1)});
  g.run_until(at_ms(20));
  REQUIRE(p->got.size() == 1);  // a HealthReply (not a raft message)
  CHECK(p->got[0].at == at_ms(12));
}

TEST_CASE("raft_node: the configuration's cross-field checks") {
  RaftNodeConfig c = standard();
  CHECK(RaftNode::check(c).empty());
  c.election.election_timeout_max = 100_ms;
  c.election.heartbeat_interval = 150_ms;
  const auto problems = RaftNode::check(c);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].field == "election_timeout_max");
  CHECK(problems[0].message == "expected at least election_timeout_min (150ms), got 100ms");
  CHECK(problems[1].field == "heartbeat_interval");
}

TEST_CASE("raft_node: a group with a steady leader allocates nothing") {
  Group g(5, standard());
  g.run_until(at_ms(2'000));
  REQUIRE(g.leaders().size() == 1);
  const std::uint64_t events_before = g.h.sim.events_processed();
  const std::uint64_t before = allocation_count();
  g.run_until(at_ms(12'000));
  const std::uint64_t allocations = allocation_count() - before;  // before any CHECK allocates
  // Per 50 ms: 4 heartbeats, 4 answers, a tick: 1,800 events in 10 s.
  CHECK(g.h.sim.events_processed() - events_before >= 1'800);
  CHECK(allocations == 0);
}

// ---- the leader crasher ----------------------------------------------------------------------

namespace {

// A crasher of the group "raft": trials once the leader has led 500 ms, restarts after 200 ms.
models::LeaderCrasherConfig crasher_config(std::int64_t trials) {
  models::LeaderCrasherConfig k;
  k.target.name = "raft";
  k.stable_for = 500_ms;
  k.down_for = 200_ms;
  k.trials = trials;
  return k;
}

}  // namespace

TEST_CASE("leader_crasher: crashes the established leader, times the election, restarts it") {
  // Five members, 1 ms one-way, timeouts 150-300 ms, heartbeats every 75 ms. A trial's downtime
  // (no split vote) is T(1) + 4 x 1 ms - U: the first of four timeouts (>= 150 ms) after the
  // last heartbeat, minus how long after it the crash came (< 75 ms), plus the heartbeat's, the
  // request's, the vote's and the new heartbeat's delays. So every trial is in (79, 304] ms.
  RaftNodeConfig c = standard();
  c.election.heartbeat_interval = 75_ms;
  dsimtest::ModelHarness h(11, at_ms(0), at_ms(200'000));
  h.cluster.network().set_default_link({Distribution::constant(1e6)});
  auto nodes = h.build<RaftNode>("raft", 5, c);
  auto* crasher = h.build<models::LeaderCrasher>("crasher", 1, crasher_config(40))[0];
  h.run();
  const auto& downtimes = crasher->downtimes_ms();
  REQUIRE(downtimes.size() == 40);
  for (const double d : downtimes) {
    CHECK(d > 79);
    CHECK(d <= 304);
  }
  CHECK(dsimtest::figure(*crasher, "trials") == 40);
  CHECK(dsimtest::figure(*crasher, "unfinished_trials") == 0);
  CHECK(dsimtest::figure(*crasher, "split_trials") == 0);
  CHECK(dsimtest::figure(*crasher, "terms_per_trial") == 1);
  auto sorted = downtimes;
  std::sort(sorted.begin(), sorted.end());
  CHECK(dsimtest::figure(*crasher, "downtime_cdf_ms[0]") == sorted.front());
  CHECK(dsimtest::figure(*crasher, "downtime_cdf_ms[100]") == sorted.back());
  CHECK(dsimtest::figure(*crasher, "downtime_max_ms") == sorted.back());
  CHECK(dsimtest::figure(*crasher, "downtime_p50_ms") == sorted[19]);  // rank ceil(0.5 x 40)
  CHECK(dsimtest::figure(*crasher, "downtime_cdf_ms[50]") == sorted[19]);
  CHECK(dsimtest::figure(*crasher, "downtime_p99_ms") == sorted[39]);
  // 40 leaders crashed (one per trial, each a new term) and every one restarted.
  for (std::size_t i = 0; i < 5; ++i) CHECK(h.cluster.node(h.nodes("raft")[i]).is_up());
  CHECK(h.cluster.counters().crashes == 40);
  CHECK(h.cluster.counters().restarts == 40);
  CHECK(dsimtest::figure(*nodes[0], "leader_changes") == 41);
  CHECK(h.invariants.count() == 0);
}

TEST_CASE("leader_crasher: no trial without a stable leader, and none after `trials`") {
  RaftNodeConfig c = standard();
  dsimtest::ModelHarness h(3, at_ms(0), at_ms(20'000));
  h.cluster.network().set_default_link({Distribution::constant(1e6)});
  h.build<RaftNode>("raft", 3, c);
  models::LeaderCrasherConfig k;
  k.target.name = "raft";
  k.stable_for = 30_s;  // longer than the run
  auto* patient = h.build<models::LeaderCrasher>("patient", 1, k)[0];
  h.run();
  CHECK(patient->downtimes_ms().empty());
  CHECK(h.cluster.counters().crashes == 0);
  CHECK(std::isnan(dsimtest::figure(*patient, "downtime_p50_ms")));
  CHECK(std::isnan(dsimtest::figure(*patient, "terms_per_trial")));
}

TEST_CASE("raft: a voter refuses a candidate whose log is shorter than its own") {
  PartBench b(3, quiet());
  b.member->election.set_log_length(5);
  b.send(1, at_ms(10), RaftRequestVote{.term = 1, .last_log = 4});  // shorter: refused
  b.send(2, at_ms(20), RaftRequestVote{.term = 1, .last_log = 5});  // as long: granted
  b.send(1, at_ms(30), RaftRequestVote{.term = 2, .last_log = 4, .round = 1, .pre_vote = 1});
  b.sim.run_until(at_ms(40));
  const auto one = b.peer(1).vote_replies();
  const auto two = b.peer(2).vote_replies();
  REQUIRE(one.size() == 2);
  REQUIRE(two.size() == 1);
  CHECK((one[0].granted == 0 && one[0].term == 1));  // the term adopted all the same
  CHECK(two[0].granted == 1);
  CHECK((one[1].pre_vote == 1 && one[1].granted == 0));  // a pre-vote checks the log too
}

TEST_CASE("leader_crasher: distinct_logs leaves only the survivors with longer logs able to win") {
  // Five members: at each crash the leader gets the longest log and the four survivors 1 .. 4 in
  // a random order; a winner needs 3 votes, so only the survivors with logs 3 and 4 can win.
  RaftNodeConfig c = standard();
  c.election.heartbeat_interval = 75_ms;
  dsimtest::ModelHarness h(5, at_ms(0), at_ms(100'000));
  h.cluster.network().set_default_link({Distribution::constant(1e6)});
  auto nodes = h.build<RaftNode>("raft", 5, c);
  models::LeaderCrasherConfig k = crasher_config(30);
  k.distinct_logs = true;
  h.build<models::LeaderCrasher>("crasher", 1, k);
  std::vector<std::uint64_t> winners_logs;
  struct Watch : models::RaftWatcher {
    std::vector<RaftNode*>* nodes;
    std::vector<std::uint64_t>* logs;
    void on_leader_established(std::uint64_t, std::uint32_t member, Time) override {
      logs->push_back((*nodes)[member]->election().log_length());
    }
  } watch;
  watch.nodes = &nodes;
  watch.logs = &winners_logs;
  h.invariants.ghost<RaftGhost>("raft").watch(watch);
  h.run();
  REQUIRE(winners_logs.size() == 31);  // the first leader (all logs 0), then one per trial
  for (std::size_t i = 1; i < winners_logs.size(); ++i) CHECK(winners_logs[i] >= 3);
  std::vector<std::uint64_t> lengths;
  for (const RaftNode* n : nodes) lengths.push_back(n->election().log_length());
  std::sort(lengths.begin(), lengths.end());
  CHECK(lengths == std::vector<std::uint64_t>{1, 2, 3, 4, 5});  // distinct: a permutation
  CHECK(h.invariants.count() == 0);
}
