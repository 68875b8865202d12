// A node that competes for ownership of a resource (a singleton job, a shard) through a lock
// service's lease, and acts -- writes to a store -- while it believes it holds it (Burns,
// "Designing Distributed Systems", ownership election: locks with TTLs, renewals, a watchdog).
//
// Semantics, per node, on its own clock (`lease_clock`: the monotonic clock, or the wall clock
// that steps):
// - The service: one node, or a replicated service's nodes: it asks the one it believes leads
//   (at first the first), moves to the leader a not_leader answer names (asking again at once),
//   and to the next node when a request times out.
// - Seeking: it asks the service for the key (LeaseAcquire{key, ttl}, expecting it free). A
//   refusal, or no answer within `request_timeout`, is retried after `retry_interval` (plus up to
//   10 % jitter from the node's stream "lease"). The replica i's first try waits i x `stagger`.
// - Owner: a grant makes it the owner with the grant's fencing token. It believes it holds the
//   lease until t_sent + ttl - `safety_margin`, where t_sent is its clock's reading when it SENT
//   the request that the grant or the last renewal answered (the service started the ttl later,
//   so without drift the belief ends first). Every `renew_interval` it sends a keep-alive; a
//   renewal moves the belief's end to that keep-alive's t_sent + ttl - margin; a refused
//   keep-alive (the lease expired at the service) ends the ownership at once.
// - Expiry: when its clock reaches the belief's end without a renewal -- at a timer for that
//   reading, or at the next write's check -- it steps down and seeks again. On the wall clock a
//   step backwards postpones this (the timer re-reads the clock), a step forwards brings it to
//   the next check: that is what wall-clock leases do.
// - Acting: every `write_interval` while it owns, it checks its belief; if it holds, the write
//   is prepared for `action_time` and then sent to `store` (a component of one node) with the
//   token -- whether or not the belief still holds by then (check, then act: a pause in between
//   is the classic bug).
// - `watchdog` (Burns' watchdog): when the belief ends without a release, the process is killed
//   (the node crashes, restarting after `watchdog_restart`), so nothing it had started is sent.
// - A crash forgets everything (the lease expires at the service); a restart seeks again. A
//   pause freezes it, beliefs included: on resuming, the timers that came due run in the order
//   they were due.
// Requests: every write is one of the run's requests (the table's rows): succeeded when the
// store accepted it, Rejected when fencing refused it; its latency is the write's round trip.
// So goodput falls while nobody owns, and availability counts the writes fencing turned away.
// Figures per node are summed; the ownership figures come from ghost state shared by the
// component's nodes (models/election/ownership_ledger.hpp): time with two or more nodes
// believing they own (overlap_s: a safety violation), time with none (unowned_s).
// State timeline per node: "seeking" / "owner".
//
// References: Burns (2018), "Ownership Election" (TTL locks, renewal, the watchdog); etcd's
// concurrency/election recipe (campaign, keep-alive, resign); Kleppmann (2016), "How to do
// distributed locking" (pauses, clocks, fencing tokens); Gray and Cheriton, "Leases" (SOSP
// 1989: the margin for clock drift).
// Differences: a refused acquire is retried by polling, not by watching the key (etcd's
// campaign waits on the previous key's deletion); no resign on shutdown; one key per component.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "models/election/ownership_ledger.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/slot_table.hpp"
#include "models/shared/state_timeline.hpp"
#include "sim/rng.hpp"

namespace models {

enum class LeaseClock : std::uint8_t { Monotonic, Wall };

inline constexpr std::array<Choice<LeaseClock>, 2> kLeaseClockChoices{{
    {"monotonic", LeaseClock::Monotonic, "the node's monotonic clock: drifts, never steps"},
    {"wall", LeaseClock::Wall, "the node's wall clock: drifts and steps (NTP jumps)"},
}};

struct LeaseOwnerConfig {
  static constexpr const char* kSummary =
      "Competes for a key of a lock `service` (a lease with `ttl`, renewed every "
      "`renew_interval`) and, while it believes it holds it -- on its own clock, minus a "
      "`safety_margin` -- writes to `store` with its fencing token. Reports the time with two "
      "owners and with none; a `watchdog` option kills a process whose lease ran out.";

  ComponentRef service;
  ComponentRef store;
  std::int64_t key = 0;
  sim::Duration ttl = sim::Duration::nanoseconds(5'000'000'000);
  sim::Duration renew_interval = sim::Duration::nanoseconds(1'000'000'000);
  sim::Duration safety_margin = sim::Duration::zero();
  sim::Duration retry_interval = sim::Duration::nanoseconds(500'000'000);
  sim::Duration request_timeout = sim::Duration::nanoseconds(500'000'000);
  sim::Duration write_interval = sim::Duration::nanoseconds(100'000'000);
  sim::Duration action_time = sim::Duration::zero();
  sim::Duration stagger = sim::Duration::zero();
  LeaseClock lease_clock = LeaseClock::Monotonic;
  bool watchdog = false;
  sim::Duration watchdog_restart = sim::Duration::nanoseconds(1'000'000'000);

  template <class V>
  void describe(V& v) {
    v.field("service", service, "the lock service (lease protocol)");
    v.field("store", store, "the resource written while owning (fenced protocol); empty: none");
    v.field("key", key, "the key competed for", Limits{0, 1e18});
    v.field("ttl", ttl, "the lease's time to live", Limits{1e-9});
    v.field("renew_interval", renew_interval, "time between keep-alives while owning",
            Limits{1e-9});
    v.field("safety_margin", safety_margin,
            "the belief ends this long before t_sent + ttl (covers clock drift: at least "
            "drift x ttl)",
            Limits{0});
    v.field("retry_interval", retry_interval, "wait before seeking again (plus up to 10 %)",
            Limits{1e-9});
    v.field("request_timeout", request_timeout, "no answer from the service within this: retry",
            Limits{1e-9});
    v.field("write_interval", write_interval, "time between writes while owning", Limits{1e-9});
    v.field("action_time", action_time,
            "time between checking the belief and sending the write (where a pause bites)",
            Limits{0});
    v.field("stagger", stagger, "replica i first seeks after i x stagger", Limits{0});
    v.field("lease_clock", lease_clock, "the clock the belief is measured on", kLeaseClockChoices);
    v.field("watchdog", watchdog,
            "crash the node when its belief ends without a release (Burns' watchdog)");
    v.field("watchdog_restart", watchdog_restart, "a watchdog-killed node restarts after this",
            Limits{0});
  }
};

class LeaseOwner final : public Model {
 public:
  using Config = LeaseOwnerConfig;
  static Wiring wiring(const Config& c);
  static FigureDocs figure_docs();
  static std::vector<ConfigProblem> check(const Config& c);
  /// Problems against the node counts of the components it names: a `store` of more than one
  /// node (the resource is one node).
  static std::vector<ConfigProblem> check_targets(
      const Config& config, const std::function<std::size_t(const ComponentRef&)>& nodes);
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  enum TimerKind : std::uint32_t { kSeek = 1, kTimeout, kRenew, kExpire, kWrite, kAction };

  LeaseOwner(const Config& config, BuildContext& ctx, std::size_t replica,
             std::vector<sim::NodeId> service, std::optional<sim::NodeId> store);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  std::vector<const StateTimeline*> state_timelines() const override { return {&timeline_}; }

  bool owner() const { return owner_; }
  std::uint64_t token() const { return token_; }

 private:
  enum class Waiting : std::uint8_t { Nothing, Grant, Renewal };

  sim::Time clock_now(const sim::Node& node) const;
  void seek(sim::Node& node);
  void send_keep_alive(sim::Node& node);
  /// A replica answered not_leader (or did not answer): ask the leader it names, or the next.
  void ask_elsewhere(sim::NodeId leader);
  void retry_later(sim::Node& node);
  void become_owner(sim::Node& node, std::uint64_t lease, std::uint64_t token, sim::Duration ttl);
  void extend_belief(sim::Node& node, sim::Duration ttl);
  void arm_expiry(sim::Node& node);
  void step_down(sim::Node& node);
  bool believes(const sim::Node& node) const { return owner_ && clock_now(node) < belief_end_; }
  /// Whether it still owns; if its belief has run out, steps down (the watchdog kills it).
  bool check_belief(sim::Node& node);
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  Config config_;
  sim::FaultInjector& faults_;
  RequestRecorder& recorder_;
  std::uint32_t group_;
  SlotTable<sim::Time> writes_in_flight_;  // write id -> when it was sent
  OwnershipLedger& ledger_;
  std::vector<sim::NodeId> service_;  // its nodes: one, or a replicated service's group
  std::size_t ask_ = 0;               // the one asked: the leader, as far as it knows
  std::optional<sim::NodeId> store_;
  std::size_t replica_;
  sim::Rng rng_;
  StateTimeline timeline_{"ownership", "seeking"};
  sim::Time measure_from_, measure_to_;

  bool owner_ = false;
  std::uint64_t epoch_ = 0;  // bumped at every change of ownership: older timers are ignored
  std::uint64_t lease_ = 0, token_ = 0;
  sim::Time belief_end_;  // on the lease clock
  Waiting waiting_ = Waiting::Nothing;
  std::uint64_t request_ = 0;  // the outstanding request's id
  sim::Time sent_at_;          // the lease clock when it was sent
  std::uint64_t next_request_ = 1;

  std::uint64_t acquisitions_ = 0, expired_ = 0, lost_ = 0, writes_ = 0, rejected_ = 0,
                watchdog_crashes_ = 0;
};

}  // namespace models
