// What every benchmark prints: one figure a line as "name: value unit", and peak memory.
#pragma once

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

namespace bench {

inline void print_figure(const std::string& name, double value, const std::string& unit) {
  std::printf("%s: %.6g %s\n", name.c_str(), value, unit.c_str());
}

/// Resets the kernel's peak-RSS counter (VmHWM) for this process (Linux >= 4.0).
inline void reset_peak_memory() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

/// Peak resident set size since the last reset, in bytes.
inline double peak_memory_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      double kib = 0;
      status >> kib;
      return kib * 1024;
    }
    std::getline(status, key);
  }
  return 0;
}

class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace bench
