#include "scenario/model_catalog.hpp"

#include <algorithm>

#include "models/closed_loop_client.hpp"
#include "models/open_loop_client.hpp"
#include "models/server.hpp"

namespace scenario {
namespace {

// Cross-field checks describe() cannot express.
void require_target(const models::CallerConfig& call, const std::string& path, Problems& problems) {
  if (call.target.empty())
    problems.add(path + "/target", "missing (required): the component this client calls");
}

std::vector<ModelBinding> all_models() {
  using namespace models;
  std::vector<ModelBinding> all;
  all.push_back(bind_model<ServerConfig>(
      "server",
      "A queueing server: `workers` serve requests concurrently from a FIFO queue of at most "
      "`queue_limit` "
      "waiting requests (full: rejected at once); each request takes a draw of `service_time`, "
      "times the "
      "node's slowdown (gray failure). A crash loses the queue and the requests in service.",
      &Server::make));
  all.push_back(bind_model<OpenLoopClientConfig>(
      "open_loop_client",
      "Requests arrive at `rate` per client node (Poisson or evenly spaced), whether or not "
      "earlier ones were "
      "answered, stepped by `schedule` and scaled by load faults. Each request calls one random "
      "node of "
      "`target` and fails with a timeout after `timeout`. Latency is what the client saw.",
      &OpenLoopClient::make,
      [](const OpenLoopClientConfig& c, const std::string& path, Problems& p) {
        require_target(c.call, path, p);
        for (std::size_t i = 1; i < c.schedule.size(); ++i)
          if (c.schedule[i].at < c.schedule[i - 1].at)
            p.add(path + "/schedule/" + std::to_string(i) + "/at",
                  "expected the steps in time order");
      },
      /*generates_load=*/true));
  all.push_back(bind_model<ClosedLoopClientConfig>(
      "closed_loop_client",
      "`users` per client node, each sending one request, waiting for its outcome, thinking for a "
      "draw of "
      "`think_time`, and sending again: load that backs off when the system slows down.",
      &ClosedLoopClient::make,
      [](const ClosedLoopClientConfig& c, const std::string& path, Problems& p) {
        require_target(c.call, path, p);
      }));
  std::sort(all.begin(), all.end(),
            [](const ModelBinding& a, const ModelBinding& b) { return a.name < b.name; });
  return all;
}

}  // namespace

const std::vector<ModelBinding>& model_catalog() {
  static const std::vector<ModelBinding> catalog = all_models();
  return catalog;
}

const ModelBinding* find_model(std::string_view name) {
  for (const auto& m : model_catalog())
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace scenario
