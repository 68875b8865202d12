// M/M/1 (arrival rate 0.9, mean service 1, one time unit = 1 ms) for 1,000,000 customers:
// once on the dsim kernel, once as a plain std::priority_queue loop of POD events. Both use
// the same random streams and the same model logic, so both must give the same sojourn
// figures; the ratio of their event rates is the kernel's overhead.
#include "bench/mm1_bench.hpp"

#include <algorithm>
#include <cmath>
#include <queue>
#include <vector>

#include "bench/figures.hpp"
#include "sim/distribution.hpp"
#include "sim/simulator.hpp"

namespace bench {
namespace {

using sim::Duration;
using sim::Time;

constexpr double kUnitNs = 1e6;

struct Model {
  sim::Rng arrival_rng = sim::Rng::stream(1, "arrivals");
  sim::Rng service_rng = sim::Rng::stream(1, "service");
  sim::Distribution interarrival = sim::Distribution::exponential(kUnitNs / 0.9);
  sim::Distribution service = sim::Distribution::exponential(kUnitNs);
  std::vector<std::int64_t> waiting;  // arrival times of queued customers (ring buffer)
  std::size_t head = 0, count = 0;
  std::vector<double> sojourns;
  std::int64_t arrivals_left;

  explicit Model(std::int64_t customers) : waiting(1 << 16), arrivals_left(customers) {
    sojourns.reserve(static_cast<std::size_t>(customers));
  }
  Duration next_interarrival() { return interarrival.sample_duration(arrival_rng); }
  Duration next_service() { return service.sample_duration(service_rng); }
  // Returns true if the server was idle (the caller must schedule a departure).
  bool arrive(std::int64_t now) {
    waiting[(head + count++) & (waiting.size() - 1)] = now;
    return count == 1;
  }
  // Returns true if another customer is waiting (the caller schedules its departure).
  bool depart(std::int64_t now) {
    sojourns.push_back(static_cast<double>(now - waiting[head]) / kUnitNs);
    head = (head + 1) & (waiting.size() - 1);
    return --count > 0;
  }
};

struct KernelRun {
  sim::Simulator* sim;
  Model* model;
};

struct Departure {
  KernelRun* run;
  void operator()() const {
    if (run->model->depart(run->sim->now().ns()))
      run->sim->schedule_after(run->model->next_service(), *this);
  }
};

struct Arrival {
  KernelRun* run;
  void operator()() const {
    Model& m = *run->model;
    if (m.arrive(run->sim->now().ns())) run->sim->schedule_after(m.next_service(), Departure{run});
    if (--m.arrivals_left > 0) run->sim->schedule_after(m.next_interarrival(), *this);
  }
};

Mm1Result run_kernel(std::int64_t customers) {
  Model model(customers);
  sim::Simulator sim(1);
  KernelRun run{&sim, &model};
  Stopwatch watch;
  sim.schedule_after(model.next_interarrival(), Arrival{&run});
  sim.run();
  return {sim.events_processed(), watch.seconds(), std::move(model.sojourns), sim.memory_bytes()};
}

struct PlainEvent {
  std::int64_t time;
  std::uint64_t sequence;
  bool is_arrival;
  bool operator>(const PlainEvent& o) const {
    return time > o.time || (time == o.time && sequence > o.sequence);
  }
};

Mm1Result run_plain(std::int64_t customers) {
  Model model(customers);
  std::priority_queue<PlainEvent, std::vector<PlainEvent>, std::greater<>> queue;
  std::uint64_t sequence = 0, processed = 0;
  Stopwatch watch;
  queue.push({model.next_interarrival().ns(), sequence++, true});
  while (!queue.empty()) {
    const PlainEvent e = queue.top();
    queue.pop();
    ++processed;
    if (e.is_arrival) {
      if (model.arrive(e.time)) queue.push({e.time + model.next_service().ns(), sequence++, false});
      if (--model.arrivals_left > 0)
        queue.push({e.time + model.next_interarrival().ns(), sequence++, true});
    } else if (model.depart(e.time)) {
      queue.push({e.time + model.next_service().ns(), sequence++, false});
    }
  }
  return {processed, watch.seconds(), std::move(model.sojourns), 0};
}

}  // namespace

double Mm1Result::mean_sojourn() const {
  double sum = 0;
  for (double s : sojourns) sum += s;
  return sum / static_cast<double>(sojourns.size());
}

double Mm1Result::sojourn_quantile(double p) {
  auto nth =
      sojourns.begin() + static_cast<std::ptrdiff_t>(p * static_cast<double>(sojourns.size() - 1));
  std::nth_element(sojourns.begin(), nth, sojourns.end());
  return *nth;
}

void run_mm1_benchmark(std::int64_t customers) {
  reset_peak_memory();
  Mm1Result kernel = run_kernel(customers);
  const double kernel_peak = peak_memory_bytes();
  reset_peak_memory();
  Mm1Result plain = run_plain(customers);
  const double kernel_rate = static_cast<double>(kernel.events) / kernel.seconds;
  const double plain_rate = static_cast<double>(plain.events) / plain.seconds;
  print_figure("mm1_kernel_events_per_s", kernel_rate, "events/s");
  print_figure("mm1_plain_events_per_s", plain_rate, "events/s");
  print_figure("kernel_vs_plain_ratio", kernel_rate / plain_rate, "ratio");
  print_figure("mm1_kernel_peak_memory", kernel_peak / (1 << 20), "MiB");
  print_figure("mm1_kernel_queue_memory", static_cast<double>(kernel.queue_bytes) / 1024, "KiB");
  print_figure("mm1_events", static_cast<double>(kernel.events), "events");
  // Theory (rho = 0.9, mu = 1): sojourn ~ Exp(mu - lambda): mean 10, p99 = 10 ln 100 = 46.05.
  print_figure("mm1_mean_sojourn", kernel.mean_sojourn(), "units (theory 10)");
  print_figure("mm1_p99_sojourn", kernel.sojourn_quantile(0.99), "units (theory 46.05)");
  print_figure("mm1_plain_mean_sojourn", plain.mean_sojourn(), "units (must equal the kernel's)");
}

}  // namespace bench
