// Cell router mechanics: the pinning (a pure function of the tenant's name, stable when a cell
// is added but for the tenants that move into the new cell), requests and retries that stay in
// the tenant's cell, the anonymous tenant, per-cell figures, refusal of unequal cells, the
// deadline, a crash, and no allocation per request.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/clients/open_loop_client.hpp"
#include "models/isolation/cell_router.hpp"
#include "models/services/server.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/tenant_overload.hpp"

using namespace sim;
using models::CellRouter;
using models::CellRouterConfig;
using models::Outcome;
using models::RpcRequest;

namespace {

/// Records the tenant of every request it receives; answers at once with `outcome`.
class Backend : public Process {
 public:
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    const auto request = message.as<RpcRequest>();
    tenants.push_back(request.tenant);
    node.send(message.from, models::RpcResponse{.call_id = request.call_id, .outcome = outcome});
  }
  Outcome outcome = Outcome::Ok;
  std::vector<std::uint16_t> tenants;
};

struct Send {
  Cluster* cluster;
  NodeId from, to;
  std::uint64_t call_id;
  std::uint16_t tenant;
  Time deadline;
  void operator()() const {
    cluster->node(from).send(
        to, RpcRequest{.call_id = call_id, .deadline = deadline, .tenant = tenant});
  }
};

/// `n` backends ("cells-0" ...), tenants "t0" .. "t<tenants-1>", a probe, one router.
struct Bench {
  Bench(std::size_t n, std::int64_t cells, std::size_t tenants, CellRouterConfig config = {})
      : h(4, Time::zero(), at_ms(10'000)) {
    for (std::size_t t = 0; t < tenants; ++t) h.recorder.group("t" + std::to_string(t));
    auto p = std::make_unique<dsimtest::ResponseProbe>();
    probe = p.get();
    probe_id = h.add_process("client", std::move(p));
    for (std::size_t i = 0; i < n; ++i) {
      auto b = std::make_unique<Backend>();
      backends.push_back(b.get());
      h.add_process("cells", std::move(b));
    }
    config.call.target.name = "cells";
    config.call.timeout = 100_ms;
    config.cells = cells;
    router = h.build<CellRouter>("router", 1, config).at(0);
  }
  void send_at(Time t, std::uint64_t call_id, std::uint16_t tenant, Time deadline = Time::max()) {
    h.sim.schedule_at(
        t, Send{&h.cluster, probe_id, h.nodes("router").at(0), call_id, tenant, deadline});
  }
  /// The cells whose nodes received requests of `tenant`.
  std::vector<std::uint32_t> cells_reached_by(std::uint16_t tenant) const {
    std::vector<std::uint32_t> out;
    const std::size_t size = router->cell_size();
    for (std::size_t b = 0; b < backends.size(); ++b) {
      const auto& got = backends[b]->tenants;
      const auto cell = static_cast<std::uint32_t>(b / size);
      if (std::count(got.begin(), got.end(), tenant) > 0 &&
          std::find(out.begin(), out.end(), cell) == out.end())
        out.push_back(cell);
    }
    return out;
  }
  double figure(const std::string& name) const { return dsimtest::figure(*router, name); }

  dsimtest::ModelHarness h;
  dsimtest::ResponseProbe* probe;
  NodeId probe_id;
  std::vector<Backend*> backends;
  CellRouter* router;
};

}  // namespace

TEST_CASE("cell_of: a tenant's cell is a function of its name and the cell count") {
  for (std::uint32_t cells = 1; cells <= 9; ++cells)
    for (int t = 0; t < 50; ++t) {
      const std::string name = "tenant-" + std::to_string(t);
      CHECK(CellRouter::cell_of(name, cells) < cells);
      CHECK(CellRouter::cell_of(name, cells) == CellRouter::cell_of(name, cells));
    }
  CHECK(CellRouter::cell_of("anyone", 1) == 0);
}

TEST_CASE("cell_of: adding a cell moves tenants only into the new cell") {
  // Rendezvous hashing: the scores of the old cells do not change, so a tenant either keeps its
  // cell or moves to the new one (the share that moves is checked in tests/validation).
  for (std::uint32_t cells = 1; cells < 8; ++cells) {
    int moved = 0;
    for (int t = 0; t < 500; ++t) {
      const std::string name = "tenant-" + std::to_string(t);
      const std::uint32_t before = CellRouter::cell_of(name, cells);
      const std::uint32_t after = CellRouter::cell_of(name, cells + 1);
      if (after != before) {
        CHECK(after == cells);
        ++moved;
      }
    }
    CHECK(moved > 0);
  }
}

TEST_CASE("cell router: each tenant's requests go to its own cell only") {
  Bench b(12, 4, 10);
  std::uint64_t id = 0;
  for (int i = 0; i < 20; ++i)
    for (std::uint16_t t = 0; t < 10; ++t) b.send_at(at_ms(1 + i), ++id, t);
  b.h.run();
  REQUIRE(b.probe->received.size() == 200);
  for (const auto& r : b.probe->received) CHECK(r.outcome == Outcome::Ok);
  std::vector<double> per_cell(4, 0), tenants(4, 0);
  for (std::uint16_t t = 0; t < 10; ++t) {
    const std::uint32_t cell = CellRouter::cell_of("t" + std::to_string(t), 4);
    CHECK(b.router->cell_of_tenant(t) == cell);
    CHECK(b.cells_reached_by(t) == std::vector<std::uint32_t>{cell});
    per_cell[cell] += 20;
    ++tenants[cell];
  }
  for (std::size_t c = 0; c < 4; ++c) {
    CHECK(b.figure("cell_requests[" + std::to_string(c) + "]") == per_cell[c]);
    CHECK(b.figure("cell_tenants[" + std::to_string(c) + "]") == tenants[c]);
    CHECK(b.figure("cell_failed[" + std::to_string(c) + "]") == 0);
  }
  CHECK(b.figure("requests") == 200);
  CHECK(b.figure("answered_ok") == 200);
  CHECK(b.router->in_progress() == 0);
  // The router's calls are not end-to-end requests.
  CHECK(b.h.recorder.totals().requests == 0);
}

TEST_CASE("cell router: retries stay within the tenant's cell") {
  CellRouterConfig c;
  c.call.retry.max_attempts = 4;
  c.call.retry.backoff.base = 1_ms;
  Bench b(8, 2, 4, c);
  for (Backend* backend : b.backends) backend->outcome = Outcome::Error;
  for (std::uint16_t t = 0; t < 4; ++t) b.send_at(at_ms(1), t + 1, t);
  b.h.run();
  REQUIRE(b.probe->received.size() == 4);
  for (const auto& r : b.probe->received) CHECK(r.outcome == Outcome::Error);
  std::size_t attempts = 0;
  for (std::uint16_t t = 0; t < 4; ++t) {
    CHECK(b.cells_reached_by(t) == std::vector<std::uint32_t>{b.router->cell_of_tenant(t)});
    for (const Backend* backend : b.backends)
      attempts +=
          static_cast<std::size_t>(std::count(backend->tenants.begin(), backend->tenants.end(), t));
  }
  CHECK(attempts == 16);
  CHECK(b.figure("answered_failed") == 4);
  double failed = 0;
  for (int cell = 0; cell < 2; ++cell)
    failed += b.figure("cell_failed[" + std::to_string(cell) + "]");
  CHECK(failed == 4);
}

TEST_CASE("cell router: a tenant index that names no group is the anonymous tenant") {
  Bench b(6, 3, 2);
  b.send_at(at_ms(1), 1, 7);
  b.send_at(at_ms(1), 2, 65535);
  b.h.run();
  const std::uint32_t cell = CellRouter::cell_of("", 3);
  CHECK(b.router->cell_of_tenant(7) == cell);
  CHECK(b.cells_reached_by(7) == std::vector<std::uint32_t>{cell});
  CHECK(b.cells_reached_by(65535) == std::vector<std::uint32_t>{cell});
  double tenants = 0;
  for (int c = 0; c < 3; ++c) tenants += b.figure("cell_tenants[" + std::to_string(c) + "]");
  CHECK(tenants == 2);  // the anonymous tenant is not counted
}

TEST_CASE("cell router: a request past its deadline is answered Timeout, unforwarded") {
  Bench b(4, 2, 1);
  b.send_at(at_ms(5), 1, 0, at_ms(5));
  b.h.run();
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.probe->received[0].outcome == Outcome::Timeout);
  CHECK(b.figure("expired_before_forward") == 1);
  for (const Backend* backend : b.backends) CHECK(backend->tenants.empty());
}

TEST_CASE("cell router: cells must divide the target's nodes") {
  dsimtest::ModelHarness h(1, Time::zero(), at_ms(10));
  h.add_nodes("api", 10);
  CellRouterConfig c;
  c.call.target.name = "api";
  c.cells = 4;
  CHECK_THROWS_WITH(h.build<CellRouter>("router", 1, c),
                    "cells: 4 cells do not divide the 10 nodes of 'api' (cells are equal)");
  c.cells = 20;
  CHECK_THROWS(h.build<CellRouter>("router2", 1, c));
  c.cells = 5;
  CHECK(h.build<CellRouter>("router3", 1, c).at(0)->cell_size() == 2);
}

TEST_CASE("cell router: a crash loses the requests it was forwarding, not the pinning") {
  CellRouterConfig c;
  Bench b(4, 2, 3, c);
  b.h.faults.crash(at_ms(10), b.h.nodes("router").at(0), 10_ms);
  b.h.cluster.start();
  const std::uint32_t before = b.router->cell_of_tenant(2);
  b.h.sim.run_until(at_ms(30));
  CHECK(b.router->cell_of_tenant(2) == before);
  b.send_at(at_ms(40), 1, 2);
  b.h.sim.run_until(at_ms(50));
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.cells_reached_by(2) == std::vector<std::uint32_t>{before});
}

TEST_CASE("cell router: the steady state allocates nothing per request") {
  dsimtest::ModelHarness h(9, at_ms(100), at_ms(2000));
  dsimtest::build_tenant_servers(h);
  CellRouterConfig config;
  config.call.target.name = "api";
  config.call.timeout = 20_ms;
  config.call.retry.max_attempts = 2;
  config.cells = 4;
  CellRouter* router = h.build<CellRouter>("router", 1, config).at(0);
  CHECK(dsimtest::steady_state_allocations(h, "router") == 0);
  CHECK(dsimtest::figure(*router, "requests") > 3000);
}
