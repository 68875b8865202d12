// Builds a cluster from one variant of a scenario, runs it with one seed, and collects the
// result. Set-up allocates freely; the run itself is the kernel's allocation-free loop.
#include "scenario/run.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <string_view>

#include "scenario/model_catalog.hpp"
#include "scenario/node_index.hpp"
#include "scenario/scenario_error.hpp"
#include "sim/assert.hpp"
#include "sim/simulator.hpp"

namespace scenario {
namespace {

sim::LinkSpec to_link_spec(const LinkParams& p) {
  return {p.latency, p.loss.value, p.duplicate.value, p.bandwidth_bps, p.fifo};
}

sim::Time at(sim::Duration since_start) {
  return sim::Time::zero() + since_start;
}

// One figure combined over a component's replicas, one value at a time. A maximum skips the
// replicas without a value (NaN: a p99 of no calls), unless none has one.
class Combining {
 public:
  explicit Combining(models::Combine how) : how_(how), value_(max() ? std::nan("") : 0.0) {}
  void add(double v) {
    ++count_;
    if (!max())
      value_ += v;
    else if (!std::isnan(v))
      value_ = std::isnan(value_) ? v : std::max(value_, v);
  }
  double value() const {
    return how_ == models::Combine::Mean ? value_ / static_cast<double>(count_) : value_;
  }

 private:
  bool max() const { return how_ == models::Combine::Max; }
  models::Combine how_;
  double value_;
  std::size_t count_ = 0;
};

class Builder {
 public:
  Builder(const ScenarioSpec& spec, sim::Simulator& simulator)
      : spec_(spec),
        index_(spec),
        cluster_(simulator),
        faults_(cluster_),
        recorder_(at(spec.warmup), at(spec.duration), spec.report.window) {}

  void build() {
    build_network();
    build_models();
    schedule_faults();
    add_slos();
  }

  /// Each SLO's budget, alerts and incidents, from what its tally counted (after the run).
  std::vector<models::SloResult> slo_results() const {
    std::vector<sim::Time> window_ends;
    for (std::size_t i = 0; i < recorder_.window_count(); ++i)
      window_ends.push_back(
          std::min(at(spec_.report.window * static_cast<std::int64_t>(i + 1)), at(spec_.duration)));
    std::vector<models::SloResult> out;
    for (std::size_t i = 0; i < spec_.slos.size(); ++i) {
      const SloSpec& s = spec_.slos[i];
      const models::SloDefinition definition{s.objective, at(spec_.warmup), s.incident_grace,
                                             s.min_incident_budget, s.alerts};
      out.push_back(
          models::evaluate_slo(recorder_.slos()[i], definition, faults_.log(), window_ends));
    }
    return out;
  }

  sim::Cluster& cluster() { return cluster_; }
  sim::FaultInjector& faults() { return faults_; }
  models::RequestRecorder& recorder() { return recorder_; }
  const models::Invariants& invariants() const { return invariants_; }

  /// A sampler of every component's series, one value per report window.
  SeriesSampler series_sampler() const {
    SeriesSampler sampler(recorder_.window_count());
    for (std::size_t c = 0; c < spec_.components.size(); ++c)
      sampler.add(spec_.components[c].name, *spec_.components[c].binding,
                  {instances_[c].begin(), instances_[c].end()});
    return sampler;
  }

  std::vector<StateSeries> states() const {
    std::vector<StateSeries> out;
    for (std::size_t c = 0; c < spec_.components.size(); ++c)
      for (std::size_t r = 0; r < instances_[c].size(); ++r)
        for (const models::StateTimeline* t : instances_[c][r]->state_timelines())
          out.push_back({spec_.components[c].name, spec_.components[c].node_name(r), t->name(),
                         t->changes()});
    return out;
  }

  std::vector<FailureProcessFigures> failure_figures() const {
    std::vector<FailureProcessFigures> out;
    for (std::size_t i = 0; i < failure_processes_.size(); ++i) {
      const sim::FailureProcess& p = failure_processes_[i];
      FailureProcessFigures& f = out.emplace_back();
      f.fault = failure_specs_[i]->path;
      f.expected_up_fraction = p.expected_up_fraction();
      for (const auto& n : p.figures())
        f.nodes.push_back({cluster_.node(n.node).name(), n.up_fraction, n.failures, n.skipped});
    }
    return out;
  }

  std::vector<ComponentFigures> figures() const {
    std::vector<ComponentFigures> out;
    for (std::size_t c = 0; c < spec_.components.size(); ++c) {
      ComponentFigures cf{
          spec_.components[c].name, spec_.components[c].model, instances_[c].size(), {}};
      // Combined as a stream, in replica order (the same sums as a list would give), so that
      // combining costs memory per figure, not per replica.
      std::vector<Combining> combining;
      for (std::size_t r = 0; r < instances_[c].size(); ++r) {
        models::Figures f;
        instances_[c][r]->figures(f);
        check_declared(*spec_.components[c].binding, f);
        if (spec_.report.per_replica)
          cf.per_replica.push_back({spec_.components[c].node_name(r), f.items()});
        for (const auto& item : f.items()) {
          auto it = std::find_if(cf.figures.begin(), cf.figures.end(),
                                 [&](const models::Figure& x) { return x.name == item.name; });
          if (it == cf.figures.end()) {
            cf.figures.push_back(item);
            combining.push_back(Combining(item.combine));
            it = cf.figures.end() - 1;
          }
          combining[static_cast<std::size_t>(it - cf.figures.begin())].add(item.value);
        }
      }
      for (std::size_t i = 0; i < cf.figures.size(); ++i)
        cf.figures[i].value = combining[i].value();
      out.push_back(std::move(cf));
    }
    return out;
  }

 private:
  sim::NodeId node(const std::string& name) const { return *cluster_.find(name); }

  // The i-th node of a range: the ids come from the order the nodes were added in, no names.
  sim::NodeId node(const NodeRange& range, std::size_t i) const {
    return range.component == NodeRange::kSwitches ? switch_ids_[range.first + i]
                                                   : node_ids_[range.component][range.first + i];
  }

  std::vector<sim::NodeId> nodes(const std::vector<NodeRange>& ranges) const {
    std::vector<sim::NodeId> ids;
    for (const NodeRange& r : ranges)
      for (std::size_t i = 0; i < r.count; ++i) ids.push_back(node(r, i));
    return ids;
  }

  // The nodes a name denotes (a component, a replica, a switch); none for an unknown name.
  std::vector<sim::NodeId> nodes(const std::string& name) const {
    const auto range = index_.find(name);
    return range ? nodes(std::vector<NodeRange>{*range}) : std::vector<sim::NodeId>{};
  }

  // The models have registered their groups: each SLO counts its group's (or every) request.
  void add_slos() {
    for (const SloSpec& s : spec_.slos) {
      std::uint32_t group = models::SloTally::kAllGroups;
      if (!s.group.empty()) {
        const auto& groups = recorder_.groups();
        const auto it =
            std::find_if(groups.begin(), groups.end(),
                         [&](const models::GroupStats& g) { return g.name == s.group; });
        if (it == groups.end())
          throw ScenarioError(
              spec_.file,
              {{s.path + "/group", "no client records requests as group \"" + s.group + "\""}});
        group = static_cast<std::uint32_t>(it - groups.begin());
      }
      recorder_.add_slo(
          models::SloTally(group, s.latency, s.evaluation_interval, at(spec_.duration)));
    }
  }

  // What a reference to `name` means to the node being built: the node of that component on
  // its own machine, if there is one (an application calls its sidecar over localhost, a
  // sidecar its application), else all of the component's nodes.
  std::vector<sim::NodeId> local_nodes(const std::string& name) const {
    std::vector<sim::NodeId> all = nodes(name);
    std::vector<sim::NodeId> local;
    for (const sim::NodeId n : all)
      if (n != building_ && cluster_.network().same_machine(n, building_)) local.push_back(n);
    return local.empty() ? all : local;
  }

  // A model emits exactly the figures it declares, each once and combined as declared; an
  // indexed family ("shard_share[i]") any number of times, one per index.
  static void check_declared(const ModelBinding& binding, const models::Figures& emitted) {
    std::vector<std::string_view> names;
    std::size_t plain = 0;
    for (const auto& item : emitted.items()) {
      const models::FigureDoc* doc = binding.figure(item.name);
      DSIM_ASSERT(doc != nullptr && doc->combine == item.combine,
                  "model " + binding.name + " emitted figure " + item.name +
                      " that it does not declare (or declares combined otherwise)");
      if (!models::is_indexed(doc->name)) ++plain;
      names.push_back(item.name);
    }
    std::sort(names.begin(), names.end());
    DSIM_ASSERT(std::adjacent_find(names.begin(), names.end()) == names.end(),
                "model " + binding.name + " emitted a figure twice");
    const auto declared = static_cast<std::size_t>(
        std::count_if(binding.figures.begin(), binding.figures.end(),
                      [](const models::FigureDoc& d) { return !models::is_indexed(d.name); }));
    DSIM_ASSERT(plain == declared, "model " + binding.name + " emitted " + std::to_string(plain) +
                                       " figures but declares " + std::to_string(declared));
  }

  void build_network() {
    sim::Network& net = cluster_.network();
    net.set_default_link(to_link_spec(spec_.network.default_link));
    if (!spec_.network.zone_names.empty()) {
      std::vector<std::vector<sim::LinkSpec>> matrix;
      for (const auto& row : spec_.network.zone_matrix) {
        matrix.emplace_back();
        for (const auto& p : row) matrix.back().push_back(to_link_spec(p));
      }
      net.set_zones(spec_.network.zone_names, std::move(matrix));
    }
    for (const auto& c : spec_.components) {
      auto& ids = node_ids_.emplace_back();
      for (std::size_t i = 0; i < c.count; ++i)
        ids.push_back(cluster_.add_node(c.node_name(i), c.node_zone(i)));
    }
    for (std::size_t c = 0; c < spec_.components.size(); ++c) {
      if (spec_.components[c].colocate_with.empty()) continue;
      const std::size_t host = *index_.component(spec_.components[c].colocate_with);
      for (std::size_t i = 0; i < node_ids_[c].size(); ++i)
        cluster_.colocate(node_ids_[host][i], node_ids_[c][i]);
    }
    for (const auto& s : spec_.network.switches) switch_ids_.push_back(cluster_.add_node(s));
    for (const auto& l : spec_.network.links)
      for (const sim::NodeId from : nodes(l.from))
        for (const sim::NodeId to : nodes(l.to))
          if (from != to && !net.find_link(from, to))
            net.add_link(from, to, to_link_spec(l.params), l.bidirectional);
  }

  void build_models() {
    instances_.resize(spec_.components.size());
    for (std::size_t c = 0; c < spec_.components.size(); ++c) {
      const ComponentSpec& comp = spec_.components[c];
      models::BuildContext context{cluster_, faults_,          recorder_,          comp.name,
                                   {},       at(spec_.warmup), at(spec_.duration), {}};
      context.nodes = node_ids_[c];
      context.resolve = [this](const models::ComponentRef& ref) { return local_nodes(ref.name); };
      context.invariants = &invariants_;
      for (std::size_t r = 0; r < comp.count; ++r) {
        building_ = context.nodes[r];
        std::unique_ptr<models::Model> model = comp.binding->make(comp.config, context, r);
        instances_[c].push_back(model.get());
        cluster_.attach(context.nodes[r], std::move(model));
      }
    }
  }

  void schedule_faults() {
    for (const FaultSpec& f : spec_.faults) {
      if (f.action == "load") {
        schedule_load(f);
        continue;
      }
      if (f.action == "failures") {
        schedule_failures(f);
        continue;
      }
      if (f.action == "partition") {
        std::vector<std::vector<sim::NodeId>> groups;
        for (const auto& g : f.groups) groups.push_back(nodes(g));
        faults_.partition(at(f.at), std::move(groups), f.one_way, f.lasting);
        continue;
      }
      if (f.action == "cut" || (f.action == "degrade" && !f.from.empty())) {
        const auto link = cluster_.network().find_link(node(f.from), node(f.to));
        if (!link)
          throw ScenarioError(spec_.file, {{f.path, "no link from \"" + f.from + "\" to \"" + f.to +
                                                        "\" in network/links"}});
        if (f.action == "cut")
          faults_.cut_link(at(f.at), *link, f.both_directions, f.lasting);
        else
          faults_.degrade_link(at(f.at), *link, f.factor, f.loss, f.lasting);
        continue;
      }
      if (f.action == "degrade" && f.targets.empty()) {
        faults_.degrade_link(at(f.at), sim::kNoLink, f.factor, f.loss, f.lasting);
        continue;
      }
      schedule_node_faults(f);
    }
  }

  // A fault on nodes: the i-th target node (ranges in order) starts at at + i * stagger.
  void schedule_node_faults(const FaultSpec& f) {
    std::int64_t i = 0;
    for (const NodeRange& range : f.targets) {
      for (std::size_t r = 0; r < range.count; ++r, ++i) {
        const sim::Time when = at(f.at + f.stagger * i);
        const sim::NodeId n = node(range, r);
        if (f.action == "crash")
          faults_.crash(when, n, f.lasting);
        else if (f.action == "pause")
          faults_.pause(when, n, f.lasting);
        else if (f.action == "slow")
          faults_.slow(when, n, f.factor, f.lasting);
        else if (f.action == "degrade")
          faults_.degrade_node(when, n, f.factor, f.loss, f.lasting);
        else if (f.action == "clock_step")
          faults_.clock_step(when, n, f.by);
        else if (f.action == "clock_drift")
          faults_.clock_drift(when, n, f.ppm);
      }
    }
  }

  // The k-th failure process of the file draws from the streams "failures[k]/..." of its
  // nodes: adding other faults or components changes none of its draws.
  void schedule_failures(const FaultSpec& f) {
    sim::FailureProcess::Options options{
        .time_to_failure = f.time_to_failure,
        .time_to_repair = f.time_to_repair,
        .start = at(f.at),
        .stop = f.lasting ? std::optional(at(f.at + *f.lasting)) : std::nullopt,
        .name = "failures[" + std::to_string(failure_processes_.size()) + "]",
        .label = "failure process " + f.path};
    failure_processes_.emplace_back(cluster_, faults_, nodes(f.targets), std::move(options));
    failure_processes_.back().measure(at(spec_.warmup), at(spec_.duration));
    failure_specs_.push_back(&f);
  }

  void schedule_load(const FaultSpec& f) {
    // Component order, then target order: a component named twice is scaled twice.
    auto& targets = load_targets_.emplace_back();
    for (std::size_t c = 0; c < spec_.components.size(); ++c)
      for (const NodeRange& t : f.targets)
        if (t.component == c)
          targets.insert(targets.end(), instances_[c].begin(), instances_[c].end());
    cluster_.sim().schedule_at(at(f.at), LoadSpike{this, &targets, &f, false});
    if (f.lasting)
      cluster_.sim().schedule_at(at(f.at + *f.lasting), LoadSpike{this, &targets, &f, true});
  }

  struct LoadSpike {
    Builder* builder;
    std::vector<models::Model*>* targets;
    const FaultSpec* spec;
    bool undo;
    void operator()() const { builder->apply_load(*targets, *spec, undo); }
  };

  void apply_load(const std::vector<models::Model*>& targets, const FaultSpec& f, bool undo) {
    for (models::Model* m : targets) m->scale_load(undo ? 1.0 / f.factor : f.factor);
    const sim::Time now = cluster_.sim().now();
    if (undo) {
      faults_.close_record(load_records_.at(&f), now);
      return;
    }
    std::string target;
    for (const NodeRange& t : f.targets)
      target += (target.empty() ? "" : ",") + spec_.components[t.component].name;
    char detail[48];
    std::snprintf(detail, sizeof detail, "load x%g", f.factor);
    load_records_[&f] = faults_.log().size();
    faults_.record({"load", target, detail, now, std::nullopt});
  }

  const ScenarioSpec& spec_;
  NodeIndex index_;
  models::Invariants invariants_;  // before the cluster: it outlives the models that report
  sim::Cluster cluster_;
  sim::FaultInjector faults_;
  models::RequestRecorder recorder_;
  std::vector<std::vector<models::Model*>> instances_;
  std::vector<std::vector<sim::NodeId>> node_ids_;  // per component, per replica
  std::vector<sim::NodeId> switch_ids_;
  sim::NodeId building_ = sim::kNoNode;  // the node whose model build_models() is making
  std::deque<std::vector<models::Model*>> load_targets_;  // stable addresses for the events
  std::map<const FaultSpec*, std::size_t> load_records_;
  std::deque<sim::FailureProcess> failure_processes_;  // stable addresses for the events
  std::vector<const FaultSpec*> failure_specs_;        // each one's declaration
};

}  // namespace

RunResult run_scenario(const ScenarioSpec& spec, std::uint64_t seed, const RunControl& control) {
  sim::Simulator simulator(seed);
  Builder builder(spec, simulator);
  builder.build();
  builder.cluster().start();
  // Runs to `end` in slices of events, so that the control can look in between: the same
  // events in the same order as one run_until(end). False once the control stopped the run.
  const auto run_to = [&](sim::Time end) {
    while (simulator.now() < end) {
      const std::uint64_t left = control.max_events - simulator.events_processed();
      if (left == 0) return false;
      simulator.run_until(end, std::min(left, RunControl::kSliceEvents));
      if (simulator.now() == end) return true;
      if (control.keep_going && !control.keep_going(simulator.now(), simulator.events_processed()))
        return false;
    }
    return true;
  };
  const auto stopped = [&] {
    return RunResult{.seed = seed,
                     .events = simulator.events_processed(),
                     .simulated = simulator.now() - sim::Time::zero(),
                     .requests = std::move(builder.recorder()),  // the run is over
                     .stopped = true};
  };
  // Window by window, to sample the models' series at each window's end (after the events at
  // that very instant): the same events run in the same order as in one run_until(end), since
  // sampling schedules nothing.
  SeriesSampler sampler = builder.series_sampler();
  const sim::Duration window = spec.report.window;
  for (std::size_t i = 0; i < builder.recorder().window_count(); ++i) {
    const sim::Time window_end =
        std::min(at(window * static_cast<std::int64_t>(i + 1)), at(spec.duration));
    if (!run_to(window_end)) return stopped();
    sampler.sample(window_end);
  }
  if (!run_to(at(spec.duration))) return stopped();

  std::vector<models::SloResult> slos = builder.slo_results();  // reads the windows' count
  std::vector<models::WindowSummary> windows = builder.recorder().take_window_summaries();
  // The models' figures and states first: they may read the recorder, which then moves out.
  std::vector<ComponentFigures> components = builder.figures();
  std::vector<StateSeries> states = builder.states();
  RunResult result{.seed = seed,
                   .fingerprint = simulator.fingerprint(),
                   .events = simulator.events_processed(),
                   .simulated = spec.duration,
                   .requests = std::move(builder.recorder()),
                   .windows = std::move(windows),
                   .components = std::move(components),
                   .faults = builder.faults().log(),
                   .faults_unlisted = builder.faults().unlisted(),
                   .failure_processes = builder.failure_figures(),
                   .states = std::move(states),
                   .series = std::move(sampler).result(),
                   .network = builder.cluster().network().counters(),
                   .cluster = builder.cluster().counters(),
                   .invariant_violations = builder.invariants().count(),
                   .violations = builder.invariants().violations(),
                   .slos = std::move(slos)};
  return result;
}

}  // namespace scenario
