// What the fuzz target does with one input (fuzz/loader_fuzzer.cpp), in a header so that the
// GCC build's tests run the regression corpus the same way (tests/scenarios/fuzz_corpus_test.cpp).
//
// The input is the text of a scenario file. It is loaded; if it loads, its variants run and
// their report is made and formatted, as `dsim run` would do them. Exceptions leave as dsim
// would turn them into an exit status: scenario::ScenarioError is bad input (exit 2, expected);
// anything else is an internal error (exit 1, a finding).
//
// The bound, so that no input takes long whatever it asks for (a rate of 1e9/s for 100 years
// is valid input, only slow). Under ASan and UBSan with coverage the simulator runs about
// 60,000 events a second, a hundredth of its speed.
// - Variants of more than kMaxNodes nodes or kMaxWindows report windows (counted as
//   scenario::estimate_run counts them) are loaded and checked but not run: building a node,
//   or sampling every series at each window's end, costs the same however few events run.
// - Each variant runs with at most the base's first kSeeds seeds (`dsim run --seed A --seed B`),
//   each run limited to kRunEvents events (scenario::RunControl::max_events), all the runs of
//   an input together to kInputEvents: once those are spent, the variants left are not run. A
//   run stopped by its limit has done exactly what the complete run does up to there; its
//   variant leaves no result, as if it had not been chosen (`dsim run --variant ...`).
// - The report is made from the variants that completed, if any, and formatted as the table,
//   the CSV rows and the JSON text that `dsim run` writes.
// An input thus costs at most about a fifth of a second of running, besides its loading.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "scenario/report.hpp"
#include "scenario/run.hpp"
#include "scenario/run_estimate.hpp"
#include "scenario/scenario.hpp"

namespace dsimfuzz {

inline constexpr std::uint64_t kMaxNodes = 200;
inline constexpr std::uint64_t kMaxWindows = 300;  // as many as a library scenario has
inline constexpr std::size_t kSeeds = 2;
inline constexpr std::uint64_t kRunEvents = 2'000;
inline constexpr std::uint64_t kInputEvents = 10'000;

/// What became of an input that did not throw.
struct Outcome {
  std::size_t variants_loaded = 0;
  std::size_t variants_reported = 0;  // run to the end and in the report
  std::size_t report_bytes = 0;       // of the table, CSV and JSON text together
};

/// Loads, runs and reports `text`; throws what dsim would turn into an exit status.
inline Outcome load_run_and_report(const std::string& text) {
  const scenario::ScenarioFile file = scenario::load_scenario_text(text, "fuzz.json");
  const auto& file_seeds = file.variants.front().seeds;
  const std::vector<std::uint64_t> seeds(
      file_seeds.begin(),
      file_seeds.begin() + static_cast<std::ptrdiff_t>(std::min(kSeeds, file_seeds.size())));
  std::vector<scenario::VariantResults> variants;
  std::uint64_t events_left = kInputEvents;
  for (const auto& spec : file.variants) {
    const scenario::RunEstimate estimate = scenario::estimate_run(spec);
    if (estimate.nodes > kMaxNodes || estimate.windows > kMaxWindows) continue;
    scenario::VariantResults results{&spec, {}};
    for (const auto seed : seeds) {
      const std::uint64_t limit = std::min(kRunEvents, events_left);
      if (limit == 0) break;
      scenario::RunResult run = scenario::run_scenario(spec, seed, {.max_events = limit});
      events_left -= std::min(run.events, events_left);
      if (run.stopped) break;
      results.runs.push_back(std::move(run));
    }
    if (results.runs.size() == seeds.size()) variants.push_back(std::move(results));
  }
  Outcome outcome{file.variants.size(), variants.size(), 0};
  if (variants.empty()) return outcome;
  const scenario::Json report = scenario::make_report(file, variants);
  outcome.report_bytes = scenario::format_table(report).size() +
                         scenario::format_csv(report).size() + report.dump(2).size();
  return outcome;
}

}  // namespace dsimfuzz
