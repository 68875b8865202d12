// Points in simulated time for tests: at_ms(5) is 5 ms after the start of the run.
#pragma once

#include <cstdint>

#include "sim/time.hpp"

inline sim::Time at_ms(std::int64_t ms) {
  return sim::Time::zero() + sim::Duration::nanoseconds(ms * 1'000'000);
}
