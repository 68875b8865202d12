// An optimistic-concurrency store: `keys` versioned values (one is enough for a contention
// study), each read for its version and updated only by a conditional write that names the
// version it read -- the resource of Marc Brooker's "Exponential Backoff and Jitter" (AWS
// Architecture Blog, 2015), on which many clients contend.
//
// Protocol (payload OccRequest = an RpcRequest plus the expected version):
// - operation kRead: answered Ok with RpcResponse.value = the key's current version.
// - operation kWrite with expected_version: if it equals the current version, the version
//   becomes version + 1 and the answer is Ok with value = the new version; otherwise nothing
//   changes and the answer is Rejected ("conflict": someone wrote since you read) with value =
//   the current version.
// - a key >= `keys`, or an unknown operation: Error (a bad request, not worth retrying).
// - A plain RpcRequest (a generic client's, even one marked kOpWrite: it names no version) is a
//   read.
// Versions start at 0.
//
// Timing: the store is one serialized resource (one request at a time, FIFO, unbounded queue),
// each request taking a draw of `service_time` times the node's slowdown. The read or the
// compare-and-set happens when service completes -- that instant is the linearization point --
// and the answer is sent then. Deadlines are not looked at.
//
// Faults: a pause holds everything; a crash loses the queue and the request in service (their
// callers time out) but not the versions, which are durable (what a store writes is on disk).
// Service draws come from the node's stream "service".
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/rpc.hpp"
#include "sim/distribution.hpp"
#include "sim/ring_buffer.hpp"

namespace models {

/// RpcRequest.operation of the store's two verbs: the generic read and write (rpc.hpp).
inline constexpr std::uint8_t kOccRead = kOpRead;
inline constexpr std::uint8_t kOccWrite = kOpWrite;

/// What an OCC client sends: the request and, for a conditional write, the version it read
/// (RpcRequest has no field for it; the whole still fits a message's inline payload).
struct OccRequest {
  RpcRequest rpc;
  std::uint64_t expected_version = 0;
};

struct OccStoreConfig {
  static constexpr const char* kSummary =
      "An optimistic-concurrency store: `keys` versioned values; a read returns a key's version, "
      "a conditional write naming the version read succeeds (version + 1) or is Rejected as a "
      "conflict. One request at a time (FIFO), each taking a draw of `service_time`. Speaks the "
      "occ protocol only (occ_client).";

  // 100us: a conditional write of one row in a real store takes 0.1 - 1 ms; what the AWS study
  // needs is that it be small against the 10 ms network hops, so that the contention pattern,
  // not the store's throughput, decides the outcome. Serialization is kept: the store still
  // orders the conflicting writes one after the other.
  sim::Distribution service_time = sim::Distribution::constant(100'000);
  std::int64_t keys = 1;

  template <class V>
  void describe(V& v) {
    v.field("service_time", service_time,
            "time to serve one read or conditional write, one at a time (the store is a "
            "serialized resource); small against network delays, as in the AWS study",
            Limits{0});
    v.field("keys", keys, "versioned values held, keys 0 .. keys-1 (one suffices for contention)",
            Limits{1, 1e7});
  }
};

class OccStore final : public Model {
 public:
  using Config = OccStoreConfig;
  static Wiring wiring(const Config&) { return {.serves = {Protocol::Occ}}; }
  static FigureDocs figure_docs();

  static constexpr std::uint32_t kServiceDone = 1;

  /// Measures its figures over [measure_from, measure_to]; draws service times from
  /// `service_rng`.
  OccStore(const OccStoreConfig& config, sim::Rng service_rng, sim::Time measure_from,
           sim::Time measure_to);

  /// The instance for ctx.nodes[replica]. Does not attach it.
  static std::unique_ptr<Model> make(const OccStoreConfig& config, BuildContext& ctx,
                                     std::size_t replica);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  /// reads, writes (conditional writes served), conflicts (of them, rejected), errors,
  /// queue_max (longest wait line seen).
  void figures(Figures& out) const override;

  /// The current version of `key` (< keys).
  std::uint64_t version(std::uint64_t key) const { return versions_.at(key); }
  std::size_t queued() const { return queue_.size(); }

 private:
  struct Pending {
    sim::NodeId from = sim::kNoNode;
    std::uint64_t call_id = 0;
    std::uint64_t key = 0;
    std::uint64_t expected_version = 0;
    std::uint8_t operation = kOccRead;
  };

  void serve_next(sim::Node& node);
  RpcResponse apply(const Pending& request, bool counted);

  OccStoreConfig config_;
  std::vector<std::uint64_t> versions_;  // durable
  sim::RingBuffer<Pending> queue_;       // volatile: waiting, the front one in service
  bool busy_ = false;
  sim::Rng service_rng_;
  sim::Time measure_from_, measure_to_;
  std::uint64_t reads_ = 0, writes_ = 0, conflicts_ = 0, errors_ = 0;
  std::size_t queue_max_ = 0;
};

}  // namespace models
