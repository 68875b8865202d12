// The pieces of the loader, one file each: network, components, wiring, faults.
#pragma once

#include <string>
#include <vector>

#include "scenario/scenario.hpp"
#include "scenario/scenario_error.hpp"

namespace scenario {

/// Reads "network" into `out` (absent: zero latency everywhere).
void read_network(const Json& network, const std::string& path, Problems& problems,
                  NetworkSpec& out);
/// Writes the effective network back (for the report).
Json write_network(const NetworkSpec& network);

/// Reads "components" (model parameters through the catalog), assigning node names and zones.
void read_components(const Json& components, const std::string& path, const NetworkSpec& network,
                     Problems& problems, std::vector<ComponentSpec>& out);

/// Checks that every reference names another component, that requests cannot go round in a
/// circle (a wiring cycle: forwarding loops are not allowed), and that links join known nodes.
void check_wiring(const ScenarioSpec& scenario, Problems& problems);

/// Reads "faults": every target must be a node or component, every time inside the run.
void read_faults(const Json& faults, const std::string& path, const ScenarioSpec& scenario,
                 Problems& problems, std::vector<FaultSpec>& out);

/// Reads "slos" (after the components and the report: it names client groups and scales to the
/// run); every default resolved.
void read_slos(const Json& slos, const std::string& path, const ScenarioSpec& scenario,
               Problems& problems, std::vector<SloSpec>& out);
/// Writes the effective SLOs back (for the report).
Json write_slos(const std::vector<SloSpec>& slos);

}  // namespace scenario
