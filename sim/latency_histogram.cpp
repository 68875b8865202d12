#include "sim/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "sim/assert.hpp"

namespace sim {

LatencyHistogram::LatencyHistogram(int precision_bits) : bits_(precision_bits) {
  DSIM_ASSERT(precision_bits >= 1 && precision_bits <= 16, "histogram precision out of range");
  // Exponents bits_..62 each hold 2^bits_ buckets, plus the exact range below 2^bits_.
  counts_.assign(static_cast<std::size_t>(64 - bits_) << bits_, 0);
}

std::size_t LatencyHistogram::index_of(std::int64_t ns) const {
  const auto v = static_cast<std::uint64_t>(ns);
  const std::uint64_t sub = 1ull << bits_;
  if (v < sub) return v;
  const int exponent = 63 - std::countl_zero(v);  // >= bits_
  const int shift = exponent - bits_;
  return static_cast<std::size_t>((static_cast<std::uint64_t>(shift + 1) << bits_) +
                                  ((v >> shift) - sub));
}

std::int64_t LatencyHistogram::lower_bound_of(std::size_t index) const {
  const std::size_t sub = std::size_t{1} << bits_;
  if (index < sub) return static_cast<std::int64_t>(index);
  const std::size_t shift = index / sub - 1;
  return static_cast<std::int64_t>((index % sub + sub) << shift);
}

std::int64_t LatencyHistogram::width_of(std::size_t index) const {
  const std::size_t sub = std::size_t{1} << bits_;
  return index < sub ? 1 : std::int64_t{1} << (index / sub - 1);
}

void LatencyHistogram::record_ns(std::int64_t ns) {
  DSIM_ASSERT(ns >= 0, "a latency cannot be negative");
  ++counts_[index_of(ns)];
  if (count_ == 0 || ns < min_) min_ = ns;
  if (count_ == 0 || ns > max_) max_ = ns;
  ++count_;
  sum_ += ns;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  DSIM_ASSERT(other.bits_ == bits_, "merging histograms of different precision");
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = count_ ? std::min(min_, other.min_) : other.min_;
  max_ = count_ ? std::max(max_, other.max_) : other.max_;
  count_ += other.count_;
  sum_ += other.sum_;
}

void LatencyHistogram::clear() {
  if (count_ == 0) return;
  std::fill(counts_.begin() + static_cast<std::ptrdiff_t>(index_of(min_)),
            counts_.begin() + static_cast<std::ptrdiff_t>(index_of(max_)) + 1, 0);
  count_ = 0;
  sum_ = 0;
  min_ = max_ = 0;
}

std::int64_t LatencyHistogram::quantile_ns(double p) const {
  if (count_ == 0) return 0;
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t i = index_of(min_); i < counts_.size(); ++i) {  // none below min_
    if (seen + counts_[i] >= rank) {
      // The rank's place among the bucket's c samples, k in 1..c, spread evenly over the
      // bucket: lower + width * (k - 1/2) / c. Exact buckets (width 1) give their value.
      const auto k = static_cast<__int128>(rank - seen);
      const auto c = static_cast<__int128>(counts_[i]);
      const auto offset = static_cast<std::int64_t>(width_of(i) * (2 * k - 1) / (2 * c));
      return std::clamp(lower_bound_of(i) + offset, min_, max_);
    }
    seen += counts_[i];
  }
  return max_;
}

std::vector<LatencyHistogram::Bucket> LatencyHistogram::buckets(int bits) const {
  DSIM_ASSERT(bits >= 0 && bits <= bits_, "coarser buckets only");
  std::vector<Bucket> out;
  const int drop = bits_ - bits;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    // The coarse bucket of a value: its fine bucket with `drop` fewer mantissa bits.
    const std::int64_t low = lower_bound_of(i);
    std::int64_t coarse_low = low, coarse_width = width_of(i);
    if (low >= (std::int64_t{1} << bits)) {
      const int exponent = 63 - std::countl_zero(static_cast<std::uint64_t>(low));
      coarse_width = std::int64_t{1} << std::max(0, exponent - bits);
      coarse_low = low / coarse_width * coarse_width;
    } else if (drop > 0) {
      coarse_width = 1;
    }
    if (!out.empty() && out.back().low_ns == coarse_low) {
      out.back().count += counts_[i];
    } else {
      out.push_back({coarse_low, coarse_low + coarse_width, counts_[i]});
    }
  }
  return out;
}

}  // namespace sim
