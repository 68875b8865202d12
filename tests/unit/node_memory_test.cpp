// Memory per node: a component's nodes share its immutable configuration (one copy per
// component, BuildContext::shared_config), so that a node's memory does not grow with the
// size of its configuration. Counted as the bytes that building the component leaves
// allocated (its kernel nodes included, malloc's rounding too) per node added: the difference
// between components of 2 * kNodes and kNodes nodes, so that what a component holds once (its
// shared configuration, its recorder group's histogram: 442 KB) is not counted per node.
#include <catch2/catch.hpp>

#include <string>

#include "models/clients/open_loop_client.hpp"
#include "models/services/server.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

namespace {

constexpr std::size_t kNodes = 1000;
// Each configuration's large version adds this many bytes of group names: copied per node, it
// would add as much to each node.
constexpr std::size_t kNameBytes = 4000;

// Bytes that building `nodes` nodes of `M` with `config` leaves allocated, beside a one-node
// server component named `server`.
template <class M, class Config>
std::int64_t component_bytes(std::size_t nodes, const Config& config, const std::string& server) {
  dsimtest::ModelHarness h(1, sim::Time::zero(), at_ms(1000));
  h.build<models::Server>(server, 1, models::ServerConfig{});
  const std::int64_t before = live_bytes();
  h.build<M>("component", nodes, config);
  return live_bytes() - before;
}

// The bytes each node of `M` with `config` adds to its component.
template <class M, class Config>
double bytes_per_node(const Config& config, const std::string& server = "api") {
  return static_cast<double>(component_bytes<M>(2 * kNodes, config, server) -
                             component_bytes<M>(kNodes, config, server)) /
         kNodes;
}

}  // namespace

TEST_CASE("node memory: a server's configuration is shared by its nodes") {
  models::ServerConfig small;
  small.partitions = {{.groups = {"a"}, .workers = 1}};
  models::ServerConfig large = small;
  large.partitions[0].groups = {std::string(kNameBytes, 'a')};
  const double small_bytes = bytes_per_node<models::Server>(small);
  const double large_bytes = bytes_per_node<models::Server>(large);
  CHECK(large_bytes - small_bytes < 64);  // a few bytes of malloc rounding, no copy
}

TEST_CASE("node memory: a server node with the default configuration takes at most 1 KB") {
  // The bound for a server node (model, kernel node, network state), as built by the scenario
  // loader; bench/run nodes measures the same at 10^6 nodes as resident memory.
  CHECK(bytes_per_node<models::Server>(models::ServerConfig{}) <= 1024);
}

TEST_CASE(
    "node memory: an open-loop client node with the default configuration takes at most 1 KB") {
  // The same bound for a client node (model, its caller, kernel node, network state), before
  // its first request; its arrival timer's event is the kernel's (bench/run nodes counts it).
  models::OpenLoopClientConfig client;
  client.call.target.name = "api";
  CHECK(bytes_per_node<models::OpenLoopClient>(client) <= 1024);
}

TEST_CASE("node memory: an open-loop client's configuration, its caller's too, is shared") {
  models::OpenLoopClientConfig small;
  small.call.target.name = "api";
  small.tenancy.group = "g";
  // Large in the client's part (its group) and in its caller's (the target's name).
  models::OpenLoopClientConfig large = small;
  large.tenancy.group = std::string(kNameBytes, 'g');
  large.call.target.name = std::string(kNameBytes, 't');
  const double small_bytes = bytes_per_node<models::OpenLoopClient>(small);
  const double large_bytes = bytes_per_node<models::OpenLoopClient>(large, large.call.target.name);
  CHECK(large_bytes - small_bytes < 64);
}

TEST_CASE("node memory: a Zipf client's key table is one per component") {
  models::OpenLoopClientConfig uniform;
  uniform.call.target.name = "api";
  models::OpenLoopClientConfig zipf = uniform;
  zipf.mix.key_popularity = models::KeyPopularity::Zipf;
  zipf.mix.keys = 10'000;  // 80 KB of cumulative probabilities: per node, 80 KB a node
  CHECK(bytes_per_node<models::OpenLoopClient>(zipf) -
            bytes_per_node<models::OpenLoopClient>(uniform) <
        64);
}
