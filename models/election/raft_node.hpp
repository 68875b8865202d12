// A Raft server reduced to its leader election: one member of a group made of the component's
// nodes (a component with "count": 5 is a five-server cluster). Everything it does is the
// election part's (models/election/raft_election.hpp, which states the semantics, the reference
// -- Ongaro and Ousterhout 2014, Ongaro's thesis -- and every difference from it); this model
// adds only:
// - the members: the component's nodes, in replica order; member i is node NAME[i];
// - health probes (models/shared/health.hpp) answered at once, so that a failure detector or a
//   load balancer's health checker can watch the members;
// - the invariant "one leader per term", checked in every run through the run's Invariants
//   (a violation is reported with its term and the two winners, and `dsim run` exits 3).
// Randomness: election timeouts from the node's stream "election".
// A crash keeps currentTerm and votedFor (durable_state) and loses the rest.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/election/raft_election.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"

namespace models {

struct RaftNodeConfig {
  static constexpr const char* kSummary =
      "One member of a Raft group made of the component's nodes, running only Raft's leader "
      "election: terms, randomized election timeouts in [election_timeout_min, "
      "election_timeout_max], RequestVote with a majority, heartbeats every heartbeat_interval, "
      "stepping down on a newer term; `pre_vote` and `check_quorum` as options; currentTerm and "
      "votedFor durable unless `durable_state` is false. The invariant \"one leader per term\" "
      "is checked in every run; figures: elections, split votes, terms, leader changes and the "
      "time without a leader. Answers health probes.";

  RaftElectionConfig election;

  template <class V>
  void describe(V& v) {
    election.describe(v);  // at the top level: scenario files stay flat
  }
};

class RaftNode : public Model {
 public:
  using Config = RaftNodeConfig;

  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);
  static Wiring wiring(const Config& /*config*/) {
    return {.serves = {Protocol::Raft, Protocol::Health}, .calls = {}};
  }
  static FigureDocs figure_docs() { return RaftElection::figure_docs(); }
  static std::vector<ConfigProblem> check(const Config& config) {
    return RaftElection::check(config.election);
  }

  RaftNode(const Config& config, std::vector<sim::NodeId> members, std::uint32_t self,
           RaftGhost& ghost, sim::Rng rng, sim::Time measure_from, sim::Time measure_to);

  void on_start(sim::Node& node) override { election_.start(node); }
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override { election_.on_crash(node); }
  void figures(Figures& out) const override { election_.figures(out); }
  std::vector<const StateTimeline*> state_timelines() const override {
    return {&election_.timeline()};
  }

  const RaftElection& election() const { return election_; }
  /// A harness's hand in the log's length (RaftElection::set_log_length).
  void set_log_length(std::uint64_t length) { election_.set_log_length(length); }

 private:
  static constexpr std::uint32_t kElectionTimers = 1;  // to 3: RaftElection::kTimerKinds

  RaftElection election_;
};

}  // namespace models
