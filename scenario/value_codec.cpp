#include "scenario/value_codec.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

namespace scenario {
namespace {

std::string number_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string limits_text(const models::Limits& limits, const char* unit = "") {
  const bool has_min = std::isfinite(limits.min), has_max = std::isfinite(limits.max);
  if (has_min && has_max)
    return " in [" + number_text(limits.min) + unit + ", " + number_text(limits.max) + unit + "]";
  if (has_min) return " >= " + number_text(limits.min) + unit;
  if (has_max) return " <= " + number_text(limits.max) + unit;
  return "";
}

bool within(double v, const models::Limits& limits) {
  return v >= limits.min && v <= limits.max;
}

// Distribution parameters beyond these make moments or draws overflow (a pareto of shape 1e-300,
// a lognormal of sigma 1e300: a mean of NaN or a draw of infinity). Within them a mean is a
// number (or +infinity for a pareto of shape <= 1), and a draw read as a duration is clamped to
// 100 years (sim::kMaxDuration). A sigma from "median" and "p99" (at most 100 years, at least
// 1ns apart) is below 19.
constexpr models::Limits kSigmaLimits{0, 20};
constexpr models::Limits kShapeLimits{0.01, 1000};
constexpr double kMaxRate = 1e9;        // per second
constexpr double kMaxBandwidth = 1e15;  // bits per second

bool fail(std::string& problem, const std::string& expected, const Json& got) {
  problem = "expected " + expected + ", got " + shown(got);
  return false;
}

// Durations inside a distribution object: strings with units, never bare numbers.
bool read_duration_ns(const Json& in, const char* key, double& ns, std::string& problem) {
  if (!in.contains(key)) {
    problem = std::string("missing \"") + key + "\"";
    return false;
  }
  sim::Duration d;
  std::string inner;
  if (!read_value(in.at(key), d, {}, inner)) {
    problem = std::string("\"") + key + "\": " + inner;
    return false;
  }
  ns = static_cast<double>(d.ns());
  return true;
}

bool read_number(const Json& in, const char* key, double& out, std::string& problem,
                 const models::Limits& limits = {}) {
  if (!in.contains(key)) {
    problem = std::string("missing \"") + key + "\"";
    return false;
  }
  if (!in.at(key).is_number() || !within(in.at(key).get<double>(), limits)) {
    problem = std::string("\"") + key + "\": expected a number" + limits_text(limits) + ", got " +
              shown(in.at(key));
    return false;
  }
  out = in.at(key).get<double>();
  return true;
}

bool only_keys(const Json& in, std::initializer_list<const char*> allowed, std::string& problem) {
  for (const auto& [key, value] : in.items()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || key == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
      problem = "unknown key \"" + key + "\" for this distribution (allowed: " + list + ")";
      return false;
    }
  }
  return true;
}

}  // namespace

std::string shown(const Json& value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  if (value.is_null()) return "null";
  return value.dump();
}

bool read_value(const Json& in, bool& out, const models::Limits&, std::string& problem) {
  if (!in.is_boolean()) return fail(problem, "true or false", in);
  out = in.get<bool>();
  return true;
}

bool read_value(const Json& in, std::int64_t& out, const models::Limits& limits,
                std::string& problem) {
  if (!in.is_number_integer()) return fail(problem, "an integer" + limits_text(limits), in);
  const auto v = in.get<std::int64_t>();
  if (!within(static_cast<double>(v), limits))
    return fail(problem, "an integer" + limits_text(limits), in);
  out = v;
  return true;
}

bool read_value(const Json& in, int& out, const models::Limits& limits, std::string& problem) {
  std::int64_t wide = 0;
  models::Limits narrowed = limits;
  narrowed.min = std::max(limits.min, static_cast<double>(std::numeric_limits<int>::min()));
  narrowed.max = std::min(limits.max, static_cast<double>(std::numeric_limits<int>::max()));
  if (!read_value(in, wide, narrowed, problem)) return false;
  out = static_cast<int>(wide);
  return true;
}

bool read_value(const Json& in, double& out, const models::Limits& limits, std::string& problem) {
  if (!in.is_number() || !within(in.get<double>(), limits))
    return fail(problem, "a number" + limits_text(limits), in);
  out = in.get<double>();
  return true;
}

bool read_value(const Json& in, sim::Duration& out, const models::Limits& limits,
                std::string& problem) {
  if (!in.is_string()) return fail(problem, "a duration like \"10ms\"", in);
  try {
    out = sim::parse_duration(in.get<std::string>());
  } catch (const sim::ParseError& e) {
    problem = e.what();
    return false;
  }
  const double ns = static_cast<double>(out.ns());
  if (ns < limits.min) {
    problem = "expected a duration " +
              (limits.min > 0 ? std::string("greater than zero")
                              : ">= " + sim::format_duration(sim::duration_from_ns(limits.min))) +
              ", got " + shown(in);
    return false;
  }
  if (ns > limits.max) {
    problem = "expected a duration <= " + sim::format_duration(sim::duration_from_ns(limits.max)) +
              ", got " + shown(in);
    return false;
  }
  if (out > sim::kMaxDuration) {
    problem = "expected a duration of at most " + sim::format_duration(sim::kMaxDuration) +
              " (100 years), got " + shown(in);
    return false;
  }
  return true;
}

bool read_value(const Json& in, models::Rate& out, const models::Limits& limits,
                std::string& problem) {
  if (!in.is_string()) return fail(problem, "a rate like \"2000/s\"", in);
  try {
    out.per_second = sim::parse_rate(in.get<std::string>(), limits.min <= 0);
  } catch (const sim::ParseError& e) {
    problem = e.what();
    return false;
  }
  if (!within(out.per_second, limits))
    return fail(problem, "a rate" + limits_text(limits, "/s"), in);
  if (!(out.per_second <= kMaxRate))
    return fail(problem, "a rate of at most 1e9/s (one per nanosecond, the resolution of time)",
                in);
  return true;
}

bool read_value(const Json& in, models::Probability& out, const models::Limits&,
                std::string& problem) {
  if (!in.is_number() || in.get<double>() < 0 || in.get<double>() > 1)
    return fail(problem, "a probability in [0, 1]", in);
  out.value = in.get<double>();
  return true;
}

bool read_value(const Json& in, std::string& out, const models::Limits&, std::string& problem) {
  if (!in.is_string()) return fail(problem, "a string", in);
  out = in.get<std::string>();
  return true;
}

bool read_value(const Json& in, std::vector<std::string>& out, const models::Limits&,
                std::string& problem) {
  if (!in.is_array()) return fail(problem, "a list of names", in);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (!in[i].is_string() || in[i].get<std::string>().empty()) {
      problem = "item " + std::to_string(i) + ": expected a non-empty name, got " + shown(in[i]);
      return false;
    }
    names.push_back(in[i].get<std::string>());
  }
  out = std::move(names);
  return true;
}

bool read_value(const Json& in, models::ComponentRef& out, const models::Limits&,
                std::string& problem) {
  if (!in.is_string() || in.get<std::string>().empty())
    return fail(problem, "the name of a component", in);
  out.name = in.get<std::string>();
  return true;
}

bool read_value(const Json& in, sim::Distribution& out, const models::Limits& limits,
                std::string& problem) {
  if (in.is_string()) {  // shorthand: a constant duration
    sim::Duration d;
    if (!read_value(in, d, limits, problem)) return false;
    out = sim::Distribution::constant(static_cast<double>(d.ns()));
    return true;
  }
  const std::string expected =
      "a duration like \"5ms\" or a distribution like {\"dist\": \"exponential\", \"mean\": "
      "\"5ms\"}";
  if (!in.is_object() || !in.contains("dist") || !in.at("dist").is_string())
    return fail(problem, expected, in);
  const std::string kind = in.at("dist").get<std::string>();
  try {
    double a = 0, b = 0;
    if (kind == "constant") {
      if (!only_keys(in, {"dist", "value"}, problem) || !read_duration_ns(in, "value", a, problem))
        return false;
      out = sim::Distribution::constant(a);
    } else if (kind == "uniform") {
      if (!only_keys(in, {"dist", "low", "high"}, problem) ||
          !read_duration_ns(in, "low", a, problem) || !read_duration_ns(in, "high", b, problem))
        return false;
      out = sim::Distribution::uniform(a, b);
    } else if (kind == "exponential") {
      if (!only_keys(in, {"dist", "mean"}, problem) || !read_duration_ns(in, "mean", a, problem))
        return false;
      out = sim::Distribution::exponential(a);
    } else if (kind == "normal") {
      if (!only_keys(in, {"dist", "mean", "stddev"}, problem) ||
          !read_duration_ns(in, "mean", a, problem) || !read_duration_ns(in, "stddev", b, problem))
        return false;
      out = sim::Distribution::normal(a, b);
    } else if (kind == "lognormal") {
      if (!only_keys(in, {"dist", "median", "p99", "sigma"}, problem) ||
          !read_duration_ns(in, "median", a, problem))
        return false;
      if (in.contains("p99") == in.contains("sigma")) {
        problem = "lognormal needs \"median\" and exactly one of \"p99\" or \"sigma\"";
        return false;
      }
      if (in.contains("p99")) {
        if (!read_duration_ns(in, "p99", b, problem)) return false;
        out = sim::Distribution::lognormal_from_median_p99(a, b);
      } else {
        if (!read_number(in, "sigma", b, problem, kSigmaLimits)) return false;
        if (!(a > 0)) {
          problem = "lognormal: median must be > 0";
          return false;
        }
        out = sim::Distribution::lognormal(std::log(a), b);
      }
    } else if (kind == "pareto" || kind == "weibull") {
      if (!only_keys(in, {"dist", "scale", "shape"}, problem) ||
          !read_duration_ns(in, "scale", a, problem) ||
          !read_number(in, "shape", b, problem, kShapeLimits))
        return false;
      out = kind == "pareto" ? sim::Distribution::pareto(a, b) : sim::Distribution::weibull(a, b);
    } else if (kind == "mixture") {
      if (!only_keys(in, {"dist", "parts"}, problem)) return false;
      if (!in.contains("parts") || !in.at("parts").is_array() || in.at("parts").empty()) {
        problem =
            "mixture: expected \"parts\": a non-empty array of distributions with a \"weight\" "
            "each";
        return false;
      }
      std::vector<std::pair<double, sim::Distribution>> parts;
      for (std::size_t i = 0; i < in.at("parts").size(); ++i) {
        Json part = in.at("parts")[i];
        double weight = 0;
        std::string inner;
        if (!part.is_object() || !read_number(part, "weight", weight, inner)) {
          problem = "parts/" + std::to_string(i) + ": " +
                    (inner.empty() ? "expected an object with a \"weight\"" : inner);
          return false;
        }
        part.erase("weight");
        sim::Distribution d;
        if (!read_value(part, d, {}, inner)) {
          problem = "parts/" + std::to_string(i) + ": " + inner;
          return false;
        }
        parts.emplace_back(weight, std::move(d));
      }
      out = sim::Distribution::mixture(std::move(parts));
    } else if (kind == "empirical") {
      if (!only_keys(in, {"dist", "values", "cdf"}, problem)) return false;
      if (in.contains("values") == in.contains("cdf")) {
        problem =
            "empirical needs exactly one of \"values\" (a list of durations) or \"cdf\" (a list of "
            "[duration, probability])";
        return false;
      }
      if (in.contains("values")) {
        std::vector<double> values;
        if (!in.at("values").is_array() || in.at("values").empty())
          return fail(problem, "\"values\": a non-empty list of durations", in.at("values"));
        for (std::size_t i = 0; i < in.at("values").size(); ++i) {
          sim::Duration d;
          std::string inner;
          if (!read_value(in.at("values")[i], d, {}, inner)) {
            problem = "values/" + std::to_string(i) + ": " + inner;
            return false;
          }
          values.push_back(static_cast<double>(d.ns()));
        }
        out = sim::Distribution::empirical_values(std::move(values));
      } else {
        std::vector<std::pair<double, double>> points;
        const Json& cdf = in.at("cdf");
        if (!cdf.is_array() || cdf.empty())
          return fail(problem, "\"cdf\": a non-empty list of [duration, probability]", cdf);
        for (std::size_t i = 0; i < cdf.size(); ++i) {
          sim::Duration d;
          std::string inner;
          if (!cdf[i].is_array() || cdf[i].size() != 2 || !read_value(cdf[i][0], d, {}, inner) ||
              !cdf[i][1].is_number()) {
            problem = "cdf/" + std::to_string(i) + ": expected [duration, probability]" +
                      (inner.empty() ? "" : " (" + inner + ")");
            return false;
          }
          points.emplace_back(static_cast<double>(d.ns()), cdf[i][1].get<double>());
        }
        out = sim::Distribution::empirical_cdf(std::move(points));
      }
    } else {
      problem = "unknown distribution \"" + kind +
                "\" (known: constant, uniform, exponential, normal, lognormal, pareto, weibull, "
                "mixture, empirical)";
      return false;
    }
  } catch (const std::invalid_argument& e) {
    problem = e.what();
    return false;
  }
  if (limits.min > 0 && !(out.mean() > 0)) {
    problem = "expected a distribution with a positive mean, got " + shown(in);
    return false;
  }
  return true;
}

Json write_value(bool v) {
  return v;
}
Json write_value(int v) {
  return v;
}
Json write_value(std::int64_t v) {
  return v;
}
Json write_value(double v) {
  return v;
}
Json write_value(sim::Duration v) {
  return sim::format_duration(v);
}
Json write_value(const models::Rate& v) {
  return sim::format_rate(v.per_second);
}
Json write_value(const models::Probability& v) {
  return v.value;
}
Json write_value(const std::string& v) {
  return v;
}
Json write_value(const models::ComponentRef& v) {
  return v.name;
}
Json write_value(const std::vector<std::string>& v) {
  return Json(v);
}

Json write_value(const sim::Distribution& v) {
  auto dur = [](double ns) { return sim::format_duration(sim::duration_from_ns(ns)); };
  return std::visit(
      [&](const auto& f) -> Json {
        using F = std::decay_t<decltype(f)>;
        using D = sim::Distribution;
        if constexpr (std::is_same_v<F, D::Constant>)
          return Json{{"dist", "constant"}, {"value", dur(f.value)}};
        else if constexpr (std::is_same_v<F, D::Uniform>)
          return Json{{"dist", "uniform"}, {"low", dur(f.low)}, {"high", dur(f.high)}};
        else if constexpr (std::is_same_v<F, D::Exponential>)
          return Json{{"dist", "exponential"}, {"mean", dur(f.mean)}};
        else if constexpr (std::is_same_v<F, D::Normal>)
          return Json{{"dist", "normal"}, {"mean", dur(f.mean)}, {"stddev", dur(f.stddev)}};
        else if constexpr (std::is_same_v<F, D::LogNormal>)
          return Json{{"dist", "lognormal"}, {"median", dur(std::exp(f.mu))}, {"sigma", f.sigma}};
        else if constexpr (std::is_same_v<F, D::Pareto>)
          return Json{{"dist", "pareto"}, {"scale", dur(f.scale)}, {"shape", f.shape}};
        else if constexpr (std::is_same_v<F, D::Weibull>)
          return Json{{"dist", "weibull"}, {"scale", dur(f.scale)}, {"shape", f.shape}};
        else if constexpr (std::is_same_v<F, D::Mixture>) {
          Json parts = Json::array();
          double previous = 0;
          for (std::size_t i = 0; i < f.parts.size(); ++i) {
            Json part = write_value(f.parts[i]);
            part["weight"] = f.cumulative_weights[i] - previous;
            previous = f.cumulative_weights[i];
            parts.push_back(std::move(part));
          }
          return Json{{"dist", "mixture"}, {"parts", parts}};
        } else if constexpr (std::is_same_v<F, D::EmpiricalValues>) {
          Json values = Json::array();
          for (double x : f.values) values.push_back(dur(x));
          return Json{{"dist", "empirical"}, {"values", values}};
        } else {
          Json cdf = Json::array();
          for (const auto& [x, p] : f.points) cdf.push_back(Json::array({dur(x), p}));
          return Json{{"dist", "empirical"}, {"cdf", cdf}};
        }
      },
      v.form());
}

const char* type_name(const bool&) {
  return "boolean";
}
const char* type_name(const int&) {
  return "integer";
}
const char* type_name(const std::int64_t&) {
  return "integer";
}
const char* type_name(const double&) {
  return "number";
}
const char* type_name(const sim::Duration&) {
  return "duration";
}
const char* type_name(const models::Rate&) {
  return "rate";
}
const char* type_name(const models::Probability&) {
  return "probability";
}
const char* type_name(const std::string&) {
  return "string";
}
const char* type_name(const models::ComponentRef&) {
  return "component";
}
const char* type_name(const std::vector<std::string>&) {
  return "list of names";
}
const char* type_name(const sim::Distribution&) {
  return "distribution";
}

bool read_bandwidth(const Json& in, double& bits_per_second, std::string& problem) {
  if (!in.is_string()) return fail(problem, "a bandwidth like \"1Gbit/s\" or \"125MB/s\"", in);
  const std::string text = in.get<std::string>();
  static const std::pair<const char*, double> units[] = {
      {"Gbit/s", 1e9}, {"Mbit/s", 1e6}, {"kbit/s", 1e3}, {"bit/s", 1},
      {"GB/s", 8e9},   {"MB/s", 8e6},   {"kB/s", 8e3},   {"B/s", 8}};
  for (const auto& [suffix, scale] : units) {
    const std::string s(suffix);
    if (text.size() > s.size() && text.compare(text.size() - s.size(), s.size(), s) == 0) {
      const std::string number = text.substr(0, text.size() - s.size());
      std::size_t used = 0;
      double v = 0;
      try {
        v = std::stod(number, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      // 1bit/s to 1Pbit/s: beyond, a serialization time is infinite (1e308Gbit/s) or
      // meaningless.
      if (used != number.size() || !(v * scale >= 1 && v * scale <= kMaxBandwidth)) break;
      bits_per_second = v * scale;
      return true;
    }
  }
  return fail(problem,
              "a bandwidth from 1bit/s to 1e15bit/s like \"1Gbit/s\", \"100Mbit/s\" or "
              "\"125MB/s\"",
              in);
}

std::string format_bandwidth(double bits_per_second) {
  if (bits_per_second <= 0) return "unlimited";
  return number_text(bits_per_second / 1e6) + "Mbit/s";
}

std::string closest_name(const std::string& unknown, const std::vector<std::string>& known) {
  // Levenshtein distance; suggest only when at most a third of the letters differ.
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diagonal = up;
      }
    }
    return row[b.size()];
  };
  std::string best;
  std::size_t best_distance = unknown.size() / 3 + 1;
  for (const auto& k : known) {
    const std::size_t d = distance(unknown, k);
    if (d < best_distance) {
      best = k;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace scenario
