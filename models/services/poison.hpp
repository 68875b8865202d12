// What a poison request does to the server that serves it: a request whose content triggers a
// bug (a parser crash, an unbounded loop, an out-of-memory), so that it fails not alone but
// takes its worker or its whole process with it. Clients mark a share of their requests as
// poison (`poison_fraction`, models/clients/tenancy.hpp; RpcRequest.poison); the server's
// `poison` section says what they do. Nothing happens until a worker starts serving one: a
// poison request refused at arrival, shed or dropped as expired does no harm.
//
// Effects (`effect`):
// - none (the default): a poison request is served like any other.
// - crash: the node crashes the moment its service starts (Cluster::crash: the queue and every
//   request in service are lost unanswered, the poison request among them, counted in
//   lost_in_crash), and restarts `restart_after` later, as a supervisor (systemd's
//   Restart=on-failure, Kubernetes restarting a container) would, on true time. Only a node
//   still down from that same crash is restarted: if someone else restarted it meanwhile (or
//   restarted and crashed it again) the supervisor leaves it alone, as a failure process does.
//   The caller gets no answer: it times out and, with retries on, retries -- to another replica
//   (a client picks a fresh random replica per try; a load balancer its policy's choice), which
//   crashes in turn. That is the classic "poison pill takes down the fleet": with R replicas
//   and retries, one poison request can crash every replica, and its clients' other requests
//   fail with it.
// - stall: the worker serving it is stuck for exactly `stall_for` (on the node's clock; not
//   scaled by slowdown or contention), then the request is answered Error, as a server-side
//   watchdog (a request timeout, a stuck-thread detector) would fail it and free the worker. Its
//   caller, if it has given up by then, counts a late answer. The other workers go on serving.
//   The stall counts as a completion that failed (completed, errors; wasted_work if after the
//   deadline).
// Figures: poison_crashes and poison_stalls count the poison requests whose service started in
// the measured interval, by effect.
//
// The fault log: each poison crash is recorded (kind "crash", the node, detail "poison request",
// ending at the restart), up to kLoggedCrashes per server replica; later ones are counted as
// unlisted in the FaultInjector (as a failure process does), so that a crash loop in a long run
// does not flood the report. sim::FaultInjector::crash is not used: it plans faults before the
// run, and would record (and allocate for) every one.
//
// Differences from a real supervisor: the restart delay is fixed (Kubernetes' CrashLoopBackOff
// doubles it, 10 s to 5 min, and resets it after 10 minutes of running; systemd has
// StartLimitBurst), and a restarted node takes no time to start beyond `restart_after`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "models/shared/params.hpp"
#include "sim/faults.hpp"
#include "sim/node.hpp"
#include "sim/time.hpp"

namespace models {

enum class PoisonEffect : std::uint8_t { None, Crash, Stall };

inline constexpr std::array<Choice<PoisonEffect>, 3> kPoisonEffectChoices{{
    {"none", PoisonEffect::None, "served like any other request"},
    {"crash", PoisonEffect::Crash,
     "the node crashes when its service starts, and restarts `restart_after` later"},
    {"stall", PoisonEffect::Stall,
     "its worker is stuck for `stall_for`, then the request is answered Error"},
}};

struct PoisonConfig {
  PoisonEffect effect = PoisonEffect::None;
  sim::Duration restart_after = sim::Duration::nanoseconds(10'000'000'000);
  sim::Duration stall_for = sim::Duration::nanoseconds(10'000'000'000);

  template <class V>
  void describe(V& v) {
    v.field("effect", effect, "what a poison request does when its service starts",
            kPoisonEffectChoices);
    v.field("restart_after", restart_after,
            "crash: the node restarts this long after the crash (a supervisor's restart)",
            Limits{1});
    v.field("stall_for", stall_for,
            "stall: how long the worker is stuck before the request is answered Error", Limits{0});
  }
};

/// Crashes a node for a poison request and restarts it later: the supervisor of one replica.
class PoisonSupervisor {
 public:
  /// Poison crashes recorded in the fault log, per replica; later ones are counted unlisted.
  static constexpr std::size_t kLoggedCrashes = 10;

  /// Records crashes in `log` if not null.
  PoisonSupervisor(sim::Duration restart_after, sim::FaultInjector* log)
      : restart_after_(restart_after), log_(log) {}

  /// Crashes `node` now (its process's on_crash runs before this returns) and plans its
  /// restart. The caller must not touch the node's state afterwards: it is a crashed node's.
  void crash(sim::Node& node);

 private:
  struct Restart;
  static constexpr std::size_t kNoRecord = static_cast<std::size_t>(-1);
  void restart(sim::Cluster& cluster, sim::NodeId node, std::uint32_t incarnation,
               std::size_t record);

  sim::Duration restart_after_;
  sim::FaultInjector* log_;
  std::size_t logged_ = 0;
};

}  // namespace models
