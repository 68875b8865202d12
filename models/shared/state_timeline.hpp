// A model's state over time (a circuit breaker's closed / open / half-open), for timelines.
// Changes are rare, so appending to a vector is fine; identical consecutive states are merged.
#pragma once

#include <string>
#include <vector>

#include "sim/time.hpp"

namespace models {

class StateTimeline {
 public:
  struct Change {
    sim::Time at;
    const char* state;  // a string literal owned by the model
  };

  StateTimeline(std::string name, const char* initial) : name_(std::move(name)) {
    changes_.reserve(64);
    changes_.push_back({sim::Time::zero(), initial});
  }

  void set(sim::Time at, const char* state) {
    if (changes_.back().state == state) return;
    if (changes_.back().at == at)
      changes_.back().state = state;  // same instant: keep the last
    else
      changes_.push_back({at, state});
  }

  const std::string& name() const { return name_; }
  const std::vector<Change>& changes() const { return changes_; }

 private:
  std::string name_;
  std::vector<Change> changes_;
};

}  // namespace models
