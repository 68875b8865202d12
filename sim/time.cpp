#include "sim/time.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace sim {
namespace {

struct Unit {
  std::string_view suffix;
  std::int64_t ns;
};

// Longest suffix first so "ms" is not read as "m" + garbage.
constexpr Unit kUnits[] = {{"ns", 1},
                           {"us", 1'000},
                           {"ms", 1'000'000},
                           {"s", 1'000'000'000},
                           {"m", 60'000'000'000},
                           {"h", 3'600'000'000'000}};

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

[[noreturn]] void fail(std::string_view text, std::string_view why) {
  throw ParseError("expected a duration like \"250ms\" or \"1.5s\" (" + std::string(why) +
                   "), got " + quoted(text));
}

// Splits "1.5s" into number "1.5" and unit "s".
std::pair<std::string_view, std::string_view> split_number(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() &&
         (text[i] == '-' || text[i] == '+' || text[i] == '.' || (text[i] >= '0' && text[i] <= '9')))
    ++i;
  return {text.substr(0, i), text.substr(i)};
}

// Parses a decimal "[-]123.456" into an exact count of `scale` units; false on overflow or
// malformed input. Digits beyond the resolution of `scale` must be zero (no silent rounding).
bool parse_scaled(std::string_view number, std::int64_t scale, __int128& out, bool& exact) {
  bool negative = false;
  if (!number.empty() && (number[0] == '-' || number[0] == '+')) {
    negative = number[0] == '-';
    number.remove_prefix(1);
  }
  if (number.empty()) return false;
  __int128 whole = 0;
  std::size_t i = 0;
  bool any_digit = false;
  for (; i < number.size() && number[i] != '.'; ++i) {
    if (number[i] < '0' || number[i] > '9') return false;
    whole = whole * 10 + (number[i] - '0');
    any_digit = true;
    if (whole > (__int128)1 << 70) return false;
  }
  __int128 value = whole * scale;
  exact = true;
  if (i < number.size()) {  // fraction
    ++i;
    __int128 place = scale;
    for (; i < number.size(); ++i) {
      if (number[i] < '0' || number[i] > '9') return false;
      any_digit = true;
      const int digit = number[i] - '0';
      if (place % 10 == 0) {
        place /= 10;
        value += digit * place;
      } else if (digit != 0) {
        exact = false;
      }
    }
  }
  if (!any_digit) return false;
  out = negative ? -value : value;
  return true;
}

}  // namespace

Duration duration_from_ns(double ns) {
  if (!(ns < static_cast<double>(kMaxDuration.ns()))) return kMaxDuration;
  if (ns <= 0) return Duration::zero();
  return Duration::nanoseconds(std::llround(ns));
}

Duration parse_duration(std::string_view text, Sign sign) {
  if (text.empty()) fail(text, "empty");
  const auto [number, suffix] = split_number(text);
  if (number.empty()) fail(text, "no number");
  if (suffix.empty()) {
    if (number == "0") return Duration::zero();
    fail(text, "missing unit: use ns, us, ms, s, m or h");
  }
  const Unit* unit = nullptr;
  for (const auto& u : kUnits)
    if (u.suffix == suffix) unit = &u;
  if (unit == nullptr)
    fail(text, "unknown unit \"" + std::string(suffix) + "\": use ns, us, ms, s, m or h");
  __int128 value = 0;
  bool exact = true;
  if (!parse_scaled(number, unit->ns, value, exact)) fail(text, "not a number");
  if (!exact) fail(text, "finer than one nanosecond");
  if (value > std::numeric_limits<std::int64_t>::max() ||
      value < -std::numeric_limits<std::int64_t>::max())
    fail(text, "out of range: at most 292 years");
  if (sign == Sign::NonNegative && value < 0) fail(text, "must not be negative");
  return Duration::nanoseconds(static_cast<std::int64_t>(value));
}

std::string format_duration(Duration d) {
  const std::int64_t ns = d.ns();
  if (ns == 0) return "0s";
  const std::string sign = ns < 0 ? "-" : "";
  const auto mag = static_cast<unsigned long long>(ns < 0 ? -(ns + 1) : ns) + (ns < 0 ? 1 : 0);
  // Whole hours or minutes read best as such; anything else in the largest unit below a
  // minute that is not bigger than the value, with an exact decimal fraction.
  for (const auto& u : {kUnits[5], kUnits[4]})
    if (mag % u.ns == 0) return sign + std::to_string(mag / u.ns) + std::string(u.suffix);
  for (const auto& u : {kUnits[3], kUnits[2], kUnits[1], kUnits[0]}) {
    const auto unit = static_cast<unsigned long long>(u.ns);
    if (mag < unit && u.ns != 1) continue;
    std::string text = sign + std::to_string(mag / unit);
    if (const auto rest = mag % unit; rest != 0) {
      std::string frac = std::to_string(rest);
      frac = std::string(std::to_string(unit).size() - 1 - frac.size(), '0') + frac;
      while (frac.back() == '0') frac.pop_back();
      text += "." + frac;
    }
    return text + std::string(u.suffix);
  }
  return sign + std::to_string(mag) + "ns";
}

double parse_rate(std::string_view text, bool allow_zero) {
  const auto slash = text.find('/');
  auto fail_rate = [&](std::string_view why) {
    throw ParseError("expected a rate like \"2000/s\" (" + std::string(why) + "), got " +
                     quoted(text));
  };
  if (text.empty()) fail_rate("empty");
  if (slash == std::string_view::npos) fail_rate("missing \"/unit\"");
  const std::string number(text.substr(0, slash));
  const std::string_view per = text.substr(slash + 1);
  double count = 0;
  std::size_t used = 0;
  try {
    count = std::stod(number, &used);
  } catch (const std::exception&) {
    fail_rate("not a number");
  }
  if (used != number.size() || !std::isfinite(count)) fail_rate("not a number");
  double per_seconds = 0;
  if (per == "s")
    per_seconds = 1;
  else if (per == "ms")
    per_seconds = 1e-3;
  else if (per == "us")
    per_seconds = 1e-6;
  else if (per == "m")
    per_seconds = 60;
  else if (per == "h")
    per_seconds = 3600;
  else
    fail_rate("unknown unit \"" + std::string(per) + "\": use /s, /ms, /us, /m or /h");
  if (count < 0) fail_rate("must not be negative");
  if (count == 0 && !allow_zero) fail_rate("must be greater than zero");
  return count / per_seconds;
}

std::string format_rate(double per_second) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g/s", per_second);
  return buf;
}

}  // namespace sim
