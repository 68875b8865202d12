// Simulated time: integer nanoseconds in two strong types, never a double.
//
// `Time` is a point on the simulation's true timeline (0 = start of the run);
// `Duration` is a signed span between two points. Arithmetic that makes sense
// compiles (Time + Duration, Time - Time); arithmetic that does not (Time + Time)
// does not. Parsing and formatting of "250ms", "1.5s", "2m" live here and only here.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sim {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration nanoseconds(std::int64_t ns) { return Duration(ns); }
  static constexpr Duration max() { return Duration(std::numeric_limits<std::int64_t>::max()); }
  static constexpr Duration zero() { return Duration(0); }

  constexpr std::int64_t ns() const { return ns_; }
  constexpr double seconds() const { return static_cast<double>(ns_) * 1e-9; }
  constexpr double millis() const { return static_cast<double>(ns_) * 1e-6; }

  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
  constexpr Duration operator-() const { return Duration(-ns_); }
  constexpr Duration operator*(std::int64_t k) const { return Duration(ns_ * k); }
  constexpr Duration operator/(std::int64_t k) const { return Duration(ns_ / k); }
  constexpr Duration& operator+=(Duration o) {
    ns_ += o.ns_;
    return *this;
  }
  constexpr Duration& operator-=(Duration o) {
    ns_ -= o.ns_;
    return *this;
  }

 private:
  constexpr explicit Duration(std::int64_t ns) : ns_(ns) {}
  std::int64_t ns_ = 0;
};

class Time {
 public:
  constexpr Time() = default;
  static constexpr Time from_ns(std::int64_t ns) { return Time(ns); }
  static constexpr Time zero() { return Time(0); }
  static constexpr Time max() { return Time(std::numeric_limits<std::int64_t>::max()); }

  constexpr std::int64_t ns() const { return ns_; }
  constexpr double seconds() const { return static_cast<double>(ns_) * 1e-9; }
  constexpr Duration since_start() const { return Duration::nanoseconds(ns_); }

  constexpr auto operator<=>(const Time&) const = default;
  constexpr Time operator+(Duration d) const { return Time(ns_ + d.ns()); }
  constexpr Time operator-(Duration d) const { return Time(ns_ - d.ns()); }
  constexpr Duration operator-(Time o) const { return Duration::nanoseconds(ns_ - o.ns_); }
  constexpr Time& operator+=(Duration d) {
    ns_ += d.ns();
    return *this;
  }

 private:
  constexpr explicit Time(std::int64_t ns) : ns_(ns) {}
  std::int64_t ns_ = 0;
};

/// The longest span dsim deals in: 100 years (876000h). The loader refuses longer durations and
/// runs, and faults that end later; duration_from_ns saturates here. So a time within a run plus
/// any delay stays far inside int64 nanoseconds (292 years): no overflow from input.
inline constexpr Duration kMaxDuration = Duration::nanoseconds(876'000 * 3'600'000'000'000);

/// Rounds a count of nanoseconds to a Duration: negative -> zero, beyond kMaxDuration (or NaN)
/// -> kMaxDuration. Every delay computed from a double (a draw, times a slowdown, a backoff, a
/// gap at a tiny rate) goes through here, so none can overflow a Time.
Duration duration_from_ns(double ns);
inline Duration duration_from_seconds(double s) {
  return duration_from_ns(s * 1e9);
}

inline namespace literals {
constexpr Duration operator""_ns(unsigned long long v) {
  return Duration::nanoseconds(static_cast<std::int64_t>(v));
}
constexpr Duration operator""_us(unsigned long long v) {
  return Duration::nanoseconds(static_cast<std::int64_t>(v) * 1'000);
}
constexpr Duration operator""_ms(unsigned long long v) {
  return Duration::nanoseconds(static_cast<std::int64_t>(v) * 1'000'000);
}
constexpr Duration operator""_s(unsigned long long v) {
  return Duration::nanoseconds(static_cast<std::int64_t>(v) * 1'000'000'000);
}
}  // namespace literals

/// A malformed quantity ("10", "5 parsecs", "-1s" where negatives are not allowed).
/// `what()` says what was expected and what was found.
class ParseError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class Sign { NonNegative, Any };

/// Parses "100ns", "10us", "250ms", "1.5s", "2m", "3h" (also "0"). Decimal fractions are
/// exact to the nanosecond. Throws ParseError on empty input, a missing or unknown unit,
/// a negative value when `sign` is NonNegative, or a value beyond ±292 years (int64 ns).
Duration parse_duration(std::string_view text, Sign sign = Sign::NonNegative);

/// Formats with the largest unit that keeps the value exact and short: "250ms", "1.5s",
/// "90s", "100ns". parse_duration(format_duration(d)) == d for every d.
std::string format_duration(Duration d);

/// A rate of events per second, from "2000/s", "50/ms", "120/m" (also "0/s" when allowed).
/// Returned as events per second (a double: rates are parameters, not time).
double parse_rate(std::string_view text, bool allow_zero = false);
std::string format_rate(double per_second);

}  // namespace sim
