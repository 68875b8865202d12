// Invariants: properties a model guarantees in every run -- at most one leader per term, no lost
// acknowledged write -- checked while it runs and reported through one mechanism (DESIGN.md:
// "Invariants that a model guarantees ... are checked in every run and reported through one
// mechanism").
//
// A model that guarantees something reports each violation it observes to the run's Invariants
// (BuildContext::invariants): the invariant's name, the component, the true time and what
// happened. The run goes on (so that the report shows what followed), the report lists the
// violations per run, and `dsim run` prints them and exits with status 3: a violated invariant
// is a failed run, never a quiet figure.
//
// Checking often needs a view across nodes that no node has (which node led which term): ghost
// state, shared by the instances of one component, kept here and created on first use. Ghost
// state is for checking only: a model must never let it change what it does, or the simulation
// would cheat (a node would know what it cannot know).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/time.hpp"

namespace models {

struct InvariantViolation {
  std::string invariant;  // "one leader per term"
  std::string component;
  sim::Time at;
  std::string detail;  // "term 7: raft[1] and raft[3] both won it"
};

class Invariants {
 public:
  /// The most violations kept with their details per run; all are counted.
  static constexpr std::size_t kKept = 20;

  void violated(InvariantViolation violation);
  /// The first kKept violations, in the order they happened.
  const std::vector<InvariantViolation>& violations() const { return kept_; }
  std::uint64_t count() const { return count_; }

  /// The ghost state of type T named `key` (by convention the component's name), created
  /// value-initialized on first use. The same key must always be used with the same type.
  template <class T>
  T& ghost(const std::string& key) {
    auto& slot = ghosts_[key];
    if (!slot) slot = std::make_unique<Holder<T>>();
    return static_cast<Holder<T>&>(*slot).value;
  }

 private:
  struct Ghost {
    virtual ~Ghost() = default;
  };
  template <class T>
  struct Holder final : Ghost {
    T value{};
  };

  std::vector<InvariantViolation> kept_;
  std::uint64_t count_ = 0;
  std::map<std::string, std::unique_ptr<Ghost>> ghosts_;  // looked up by key, never iterated
};

}  // namespace models
