// A log-linear histogram of non-negative durations (HdrHistogram's layout): values below
// 2^precision_bits ns are exact; above, each power of two is split into 2^precision_bits
// buckets. A quantile is placed inside its bucket by its rank among the bucket's samples
// (linear interpolation, as if they were spread evenly), clamped to the exact min and max, so
// its relative error is below 2^-precision_bits: under 0.1 % at the default 10 bits. Unlike a
// bucket's midpoint, two sample sets that share a bucket still give different quantiles unless
// their ranks inside it coincide too.
// Recording is O(1) and allocates nothing (the buckets are allocated up front).
#pragma once

#include <cstdint>
#include <vector>

#include "sim/time.hpp"

namespace sim {

class LatencyHistogram {
 public:
  explicit LatencyHistogram(int precision_bits = 10);

  void record(Duration value) { record_ns(value.ns()); }
  void record_ns(std::int64_t ns);
  void merge(const LatencyHistogram& other);
  /// Empty again, at the cost of the buckets between the smallest and largest value only.
  void clear();

  std::uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  std::int64_t min_ns() const { return count_ ? min_ : 0; }
  std::int64_t max_ns() const { return count_ ? max_ : 0; }
  double mean_ns() const {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
  }
  /// The nearest-rank p-quantile (p in [0, 1]): the value with rank ceil(p * count).
  std::int64_t quantile_ns(double p) const;

  /// Non-empty buckets regrouped to `bits` (<= precision) per power of two, for CDF plots:
  /// (lower bound, upper bound exclusive, count), in increasing order.
  struct Bucket {
    std::int64_t low_ns, high_ns;
    std::uint64_t count;
  };
  std::vector<Bucket> buckets(int bits) const;

  int precision_bits() const { return bits_; }

 private:
  std::size_t index_of(std::int64_t ns) const;
  std::int64_t lower_bound_of(std::size_t index) const;
  std::int64_t width_of(std::size_t index) const;

  int bits_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  __int128 sum_ = 0;
  std::int64_t min_ = 0, max_ = 0;
};

}  // namespace sim
