// Runs independent (variant, seed) jobs across threads. Parallelism is across runs only, never
// inside one (determinism rule 4); results come back in job order, so the merged report is the
// same bytes with -j1 or -j8.
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <optional>
#include <thread>
#include <vector>

namespace cli {

/// Calls `run(i)` for every i in [0, count) on up to `threads` threads; returns the results in
/// index order. If any job throws, rethrows the exception of the lowest such index.
template <class Result, class Run>
std::vector<Result> run_parallel(std::size_t count, std::size_t threads, Run run) {
  std::vector<std::optional<Result>> slots(count);  // Result need not be default-constructible
  std::vector<std::exception_ptr> errors(count);
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      try {
        slots[i].emplace(run(i));
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  threads = std::max<std::size_t>(1, std::min(threads, count));
  std::vector<std::jthread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  pool.clear();  // joins
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  std::vector<Result> results;
  results.reserve(count);
  for (auto& r : slots) results.push_back(std::move(*r));
  return results;
}

}  // namespace cli
