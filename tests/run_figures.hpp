// Reading a run's results in tests: one component figure of a scenario run, by name.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "scenario/run.hpp"

namespace dsimtest {

/// The figure `name` of `component` in `run` (combined over its replicas); fails the test if
/// there is none.
inline double figure(const scenario::RunResult& run, const std::string& component,
                     const std::string& name) {
  for (const auto& c : run.components)
    if (c.component == component)
      for (const auto& f : c.figures)
        if (f.name == name) return f.value;
  FAIL("no figure " << component << "." << name);
  return 0;
}

}  // namespace dsimtest
