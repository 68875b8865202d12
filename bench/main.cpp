// dsim_bench [WORKLOAD...]: runs the named workloads (default: all) and prints
// "name: value unit" lines. Benchmarks, not tests: nothing here asserts a speed.
#include <cstring>
#include <string>

#include "bench/mm1_bench.hpp"
#include "bench/pingpong_bench.hpp"

int main(int argc, char** argv) {
  auto wanted = [&](const char* name) {
    if (argc < 2) return true;
    for (int i = 1; i < argc; ++i)
      if (std::strcmp(argv[i], name) == 0) return true;
    return false;
  };
  if (wanted("mm1")) bench::run_mm1_benchmark(1'000'000);
  if (wanted("pingpong")) bench::run_pingpong_benchmark(1'000, 2'000'000);
  return 0;
}
