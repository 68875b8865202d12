#include "models/proxies/ambassador.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "models/services/relay.hpp"
#include "models/shared/health.hpp"
#include "sim/assert.hpp"
#include "sim/rng.hpp"

namespace models {
namespace {

std::vector<sim::NodeId> joined(std::vector<sim::NodeId> a, const std::vector<sim::NodeId>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

Ambassador::Ambassador(const AmbassadorConfig& config, sim::Node& node,
                       std::vector<sim::NodeId> baseline, std::vector<sim::NodeId> canary,
                       std::uint64_t salt, sim::Time measure_from, sim::Time measure_to)
    : config_(config),
      caller_(config.call, joined(baseline, canary), kCall, /*recorder=*/nullptr, measure_from,
              *this),
      analysis_(config.analysis),
      split_rng_(node.stream("canary_split")),
      salt_(salt),
      measure_from_(measure_from),
      measure_to_(measure_to) {
  DSIM_ASSERT(!baseline.empty() && !canary.empty(), "an ambassador needs a baseline and a canary");
  caller_.set_shard_sizes({baseline.size(), canary.size()});
}

std::unique_ptr<Model> Ambassador::make(const AmbassadorConfig& config, BuildContext& ctx,
                                        std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "ambassador replica out of range");
  CallerConfig canary_call = config.call;
  canary_call.target = config.canary;
  return std::make_unique<Ambassador>(
      config, ctx.cluster.node(ctx.nodes[replica]), resolve_target(config.call, ctx),
      resolve_target(canary_call, ctx), sim::fnv1a64(ctx.component), ctx.warmup_end, ctx.end);
}

bool Ambassador::sticky_canary(std::uint16_t tenant, std::uint64_t key) const {
  const std::uint64_t value = config_.split == CanarySplit::Tenant ? tenant : key;
  const std::uint64_t hash = sim::splitmix64_mix(salt_ ^ sim::splitmix64_mix(value));
  const double bucket = static_cast<double>(hash >> 11) * 0x1.0p-53;  // uniform in [0, 1)
  return bucket * 100 < config_.canary_percent;
}

Ambassador::Route Ambassador::choose_route(sim::Node& node, const RpcRequest& request) {
  if (rolled_back_ || config_.canary_percent <= 0) return kBaseline;
  if (node.true_now() < sim::Time::zero() + config_.canary_start) return kBaseline;
  if (config_.split != CanarySplit::Request)
    return sticky_canary(request.tenant, request.key) ? kCanary : kBaseline;
  return split_rng_.uniform01() * 100 < config_.canary_percent ? kCanary : kBaseline;
}

void Ambassador::on_start(sim::Node& node) {
  arm_analysis(node);
}

void Ambassador::arm_analysis(sim::Node& node) {
  if (!analysing()) return;
  // The next analysis time on the grid canary_start + k * interval (k >= 1) after now.
  const sim::Time now = node.true_now();
  const sim::Time start = sim::Time::zero() + config_.canary_start;
  const sim::Duration interval = config_.analysis.interval;
  std::int64_t k = 1;
  if (now >= start) k = (now - start).ns() / interval.ns() + 1;
  node.set_timer(start + interval * k - now, {kAnalysis, 0});
}

void Ambassador::on_message(sim::Node& node, const sim::Message& message) {
  if (caller_.on_message(node, message)) return;   // an answer to the ambassador's own call
  if (answer_health_probe(node, message)) return;  // behind a load balancer, like a server
  DSIM_ASSERT(message.holds<RpcRequest>(), "an ambassador receives requests and answers");
  const RpcRequest& request = message.as<RpcRequest>();
  const sim::Time now = node.true_now();
  if (request.deadline <= now) {  // its caller has given up: calling would be wasted work
    node.send(message.from, RpcResponse{.call_id = request.call_id, .outcome = Outcome::Timeout});
    if (measured(now)) ++expired_;
    return;
  }
  const Route route = choose_route(node, request);
  const auto id = inbound_.insert({message.from, request, route, now});
  caller_.forward(node, request, id, request.deadline, route);  // may end before it returns
}

void Ambassador::on_call_done(sim::Node& node, const CallResult& result) {
  const Inbound* in = inbound_.find(result.token);
  DSIM_ASSERT(in != nullptr, "every call of an ambassador answers one request");
  const Outcome answer = relay_answer(result.outcome);
  node.send(in->from, RpcResponse{.call_id = in->request.call_id, .outcome = answer});
  const bool failed = answer != Outcome::Ok;
  const sim::Duration latency = node.true_now() - in->arrived;
  if (analysing() && in->arrived >= sim::Time::zero() + config_.canary_start)
    window_[in->route].add(failed, latency);
  if (measured(in->arrived)) {
    RouteFigures& r = routes_[in->route];
    ++r.requests;
    if (failed)
      ++r.failures;
    else
      r.latency.record(latency);
  }
  inbound_.erase(result.token);
}

void Ambassador::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (caller_.on_timer(node, tag)) return;
  DSIM_ASSERT(tag.kind == kAnalysis, "unknown ambassador timer");
  analyse(node);
}

void Ambassador::analyse(sim::Node& node) {
  if (rolled_back_) return;
  const CanaryVerdict verdict = analysis_.judge(window_[kBaseline], window_[kCanary]);
  if (verdict.result == CanaryVerdict::Result::Inconclusive) {
    ++analyses_inconclusive_;  // the window grows until the next analysis
  } else {
    ++analyses_;
    last_verdict_ = verdict;
    window_[kBaseline].clear();
    window_[kCanary].clear();
    if (verdict.result == CanaryVerdict::Result::Fail) {
      ++analyses_failed_;
      if (!failed_at_) failed_at_ = node.true_now();
      rolled_back_ = config_.analysis.rollback;
    }
  }
  arm_analysis(node);
}

void Ambassador::on_crash(sim::Node& node) {
  caller_.on_crash(node);
  inbound_.clear();  // unanswered: the upstream callers time out
  window_[kBaseline].clear();
  window_[kCanary].clear();
}

FigureDocs Ambassador::figure_docs() {
  return FigureDocs{
             {"baseline_requests", "requests", Combine::Sum,
              "requests routed to the baseline (`target`) and answered"},
             {"baseline_failures", "requests", Combine::Sum,
              "of those, answered with a failure (after the ambassador's tries)"},
             {"baseline_p50_ms", "ms", Combine::Max,
              "median latency of the baseline's successful requests, at the ambassador (the "
              "largest among replicas)"},
             {"baseline_p99_ms", "ms", Combine::Max,
              "p99 latency of the baseline's successful requests (the largest among replicas)"},
             {"canary_requests", "requests", Combine::Sum,
              "requests routed to the canary and answered: with a rollback, the blast radius"},
             {"canary_failures", "requests", Combine::Sum,
              "of those, answered with a failure: the failed requests the canary caused"},
             {"canary_p50_ms", "ms", Combine::Max,
              "median latency of the canary's successful requests (the largest among replicas)"},
             {"canary_p99_ms", "ms", Combine::Max,
              "p99 latency of the canary's successful requests (the largest among replicas)"},
             {"expired_before_forward", "requests", Combine::Sum,
              "answered Timeout uncalled: their deadline had passed on arrival"},
             {"analyses", "analyses", Combine::Sum,
              "conclusive canary analyses, over the whole run"},
             {"analyses_inconclusive", "analyses", Combine::Sum,
              "analyses with fewer than `analysis.min_requests` requests on a route"},
             {"analyses_failed", "analyses", Combine::Sum,
              "analyses the canary failed (at most 1 with a rollback)"},
             {"canary_failed_at", "s", Combine::Max,
              "when the canary first failed an analysis, from the start of the run; none if it "
              "never did (the latest among replicas)"},
         } +
         Caller::figure_docs();
}

void Ambassador::figures(Figures& out) const {
  const auto quantile_ms = [](const sim::LatencyHistogram& h, double p) {
    return h.empty() ? std::nan("") : static_cast<double>(h.quantile_ns(p)) / 1e6;
  };
  const char* const names[2][4] = {
      {"baseline_requests", "baseline_failures", "baseline_p50_ms", "baseline_p99_ms"},
      {"canary_requests", "canary_failures", "canary_p50_ms", "canary_p99_ms"}};
  for (std::size_t r = 0; r < 2; ++r) {
    out.sum(names[r][0], static_cast<double>(routes_[r].requests));
    out.sum(names[r][1], static_cast<double>(routes_[r].failures));
    out.max(names[r][2], quantile_ms(routes_[r].latency, 0.5));
    out.max(names[r][3], quantile_ms(routes_[r].latency, 0.99));
  }
  out.sum("expired_before_forward", static_cast<double>(expired_));
  out.sum("analyses", static_cast<double>(analyses_));
  out.sum("analyses_inconclusive", static_cast<double>(analyses_inconclusive_));
  out.sum("analyses_failed", static_cast<double>(analyses_failed_));
  out.max("canary_failed_at", failed_at_ ? failed_at_->since_start().seconds() : std::nan(""));
  caller_.figures(out);
}

}  // namespace models
