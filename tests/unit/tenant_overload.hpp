// The set-up of the tenant-routing models' allocation tests (cell router, shuffle-sharding load
// balancer): 8 servers "api" of 2 workers behind the model, 20 clients with a tenant each
// calling it, at 1000/s (an overload while the tables grow to their peak) and 200/s from 700 ms,
// with api[2] down from 300 to 500 ms so that failures and retries are part of the run.
#pragma once

#include <cstdint>
#include <string>

#include "models/clients/open_loop_client.hpp"
#include "models/services/server.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

namespace dsimtest {

/// The servers, built before the model that calls them.
inline void build_tenant_servers(ModelHarness& h) {
  models::ServerConfig server;
  server.workers = 2;
  server.queue_limit = 100;
  h.build<models::Server>("api", 8, server);
}

/// Builds the clients calling `target`, runs to 900 ms (past the peak), and returns the
/// allocations made from there to 2 s: the steady state.
inline std::uint64_t steady_state_allocations(ModelHarness& h, const std::string& target) {
  using namespace sim::literals;
  models::OpenLoopClientConfig client;
  client.rate.per_second = 1000;
  client.schedule.push_back({.at = 700_ms, .rate = {200}});
  client.tenancy.tenant_per_node = true;
  client.call.target.name = target;
  client.call.timeout = 50_ms;
  h.build<models::OpenLoopClient>("client", 20, client);
  h.faults.crash(at_ms(300), h.nodes("api").at(2), 200_ms);
  h.cluster.start();
  h.sim.run_until(at_ms(900));
  const std::uint64_t before = allocation_count();
  h.sim.run_until(at_ms(2000));
  return allocation_count() - before;
}

}  // namespace dsimtest
