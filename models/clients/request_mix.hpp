// What a client asks for: which keys -- how many and how popular (uniform, Zipf, named hot
// keys: models/shared/zipf.hpp, hot_keys.hpp) -- and which share of the requests are writes.
// One part of every client's configuration (its fields sit at the top level of the client's
// JSON, as the caller's do), so that the clients describe, check and draw them the same way.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/shared/hot_keys.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/rpc.hpp"
#include "models/shared/zipf.hpp"
#include "sim/node.hpp"
#include "sim/rng.hpp"

namespace models {

struct RequestMix {
  std::int64_t keys = 1000;
  KeyPopularity key_popularity = KeyPopularity::Uniform;
  double zipf_s = 1.0;
  std::vector<HotKey> hot_keys;
  Probability write_fraction{0};

  template <class V>
  void describe(V& v) {
    v.field("keys", keys, "distinct request keys, 0 .. keys - 1 (zipf: at most 1e7)",
            Limits{1, 1e18});
    v.field("key_popularity", key_popularity, "how request keys are drawn", kKeyPopularityChoices);
    v.field("zipf_s", zipf_s, "Zipf exponent s: key r - 1 has weight 1 / r^s (zipf only)",
            Limits{0, 100});
    v.list("hot_keys", hot_keys,
           "the named keys of key_popularity hot_keys (required by it, refused otherwise): "
           "distinct keys below `keys`, shares in (0, 1] adding up to at most 1 (below 1: the "
           "rest is spread uniformly over the other keys)");
    v.field("write_fraction", write_fraction,
            "share of the requests that are writes (a cache passes them to its store and drops "
            "the key), idempotent unless `idempotent` is false; the others are reads");
  }

  std::vector<ConfigProblem> check() const {
    return KeyPicker::check(key_popularity, keys, hot_keys);
  }
  KeyPicker picker() const { return KeyPicker(key_popularity, keys, zipf_s, hot_keys); }
  /// picker(), made once for the component being built and shared by its nodes (a Zipf table
  /// holds 8 bytes per key).
  std::shared_ptr<const KeyPicker> shared_picker(BuildContext& ctx) const {
    return ctx.shared<KeyPicker>(this, [this] { return picker(); });
  }
  /// The node's stream "operations" when operation() draws from it (write_fraction above 0),
  /// else null: a read-only client holds no generator for it.
  std::unique_ptr<sim::Rng> stream_for_operations(const sim::Node& node) const {
    return write_fraction.value > 0 ? std::make_unique<sim::Rng>(node.stream("operations"))
                                    : nullptr;
  }
  /// The next request's operation: a write with probability write_fraction, drawn from
  /// `operations` (stream_for_operations) only when it is above 0.
  std::uint8_t operation(sim::Rng* operations) const {
    return write_fraction.value > 0 && operations->bernoulli(write_fraction.value) ? kOpWrite
                                                                                   : kOpRead;
  }
};

}  // namespace models
