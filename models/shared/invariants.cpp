#include "models/shared/invariants.hpp"

#include <utility>

namespace models {

void Invariants::violated(InvariantViolation violation) {
  ++count_;
  if (kept_.size() < kKept) kept_.push_back(std::move(violation));
}

}  // namespace models
