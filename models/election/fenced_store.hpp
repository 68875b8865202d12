// A store that owners write to, able to check fencing tokens (Kleppmann, "How to do distributed
// locking", 2016; Chubby's sequencers, Burrows 2006): the protected resource of an ownership
// election.
//
// Semantics: a FencedWrite{key, token} (models/election/lease_protocol.hpp) is applied at once
// (no service time: the store is not the bottleneck being studied) and answered. The store
// remembers the largest token it has accepted per key. With `check_fencing`, a write whose token
// is below it is rejected: it comes from an owner that has since been replaced. Without it, such
// a write is accepted, and counted as a stale write -- a safety violation: the resource was
// changed by a node that no longer held the lock. Keys are the owners' keys (a handful); the
// largest tokens survive a crash (they are the stored data).
// Differences from Kleppmann's sketch: the token is compared per key, not per object written;
// equal tokens are the same owner and always accepted.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "models/shared/model.hpp"
#include "models/shared/params.hpp"

namespace models {

struct FencedStoreConfig {
  static constexpr const char* kSummary =
      "The resource owners write to: accepts writes carrying a fencing token and, with "
      "`check_fencing`, rejects a token below the largest it has accepted. Counts the writes "
      "accepted from stale owners (safety violations) and those fencing rejected.";

  bool check_fencing = true;

  template <class V>
  void describe(V& v) {
    v.field("check_fencing", check_fencing,
            "reject a write whose token is below the largest accepted for its key");
  }
};

class FencedStore final : public Model {
 public:
  using Config = FencedStoreConfig;
  static Wiring wiring(const Config&) { return {.serves = {Protocol::Fenced, Protocol::Health}}; }
  static FigureDocs figure_docs();
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  FencedStore(const Config& config, sim::Time measure_from, sim::Time measure_to)
      : config_(config), measure_from_(measure_from), measure_to_(measure_to) {}

  void on_start(sim::Node& /*node*/) override {}  // the largest tokens survive a restart
  void on_message(sim::Node& node, const sim::Message& message) override;
  void figures(Figures& out) const override;

 private:
  Config config_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> largest_;  // (key, largest token)
  sim::Time measure_from_, measure_to_;
  std::uint64_t writes_ = 0, accepted_ = 0, stale_accepted_ = 0, stale_rejected_ = 0;
};

}  // namespace models
