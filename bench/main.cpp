// dsim_bench [WORKLOAD...]: runs the named workloads (default: all) and prints
// "name: value unit" lines. Benchmarks, not tests: nothing here asserts a speed.
#include <cstring>
#include <string>

#include "bench/fullstack_bench.hpp"
#include "bench/mm1_bench.hpp"
#include "bench/pingpong_bench.hpp"
#include "bench/scale_bench.hpp"

int main(int argc, char** argv) {
  auto wanted = [&](const char* name) {
    if (argc < 2) return true;
    for (int i = 1; i < argc; ++i)
      if (std::strcmp(argv[i], name) == 0) return true;
    return false;
  };
  if (wanted("mm1")) bench::run_mm1_benchmark(1'000'000);
  if (wanted("pingpong")) bench::run_pingpong_benchmark(1'000, 2'000'000);
  if (wanted("fullstack")) bench::run_fullstack_benchmark(1'000'000);
  // Sizes after one that took over a minute are skipped (stderr says so).
  if (wanted("nodes")) bench::run_node_scaling_benchmark({1'000, 10'000, 100'000, 1'000'000}, 60);
  if (wanted("windows")) bench::run_window_memory_benchmark();
  return 0;
}
