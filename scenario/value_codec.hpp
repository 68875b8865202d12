// Reading, writing and naming one parameter value of each type a Config may hold.
// read_value returns false and fills `problem` ("expected ..., got ...") on bad input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/shared/params.hpp"
#include "scenario/scenario.hpp"
#include "sim/distribution.hpp"
#include "sim/time.hpp"

namespace scenario {

/// "got 10", "got \"10 parsecs\"", "got an object": how a wrong value is shown in a message.
std::string shown(const Json& value);

bool read_value(const Json& in, bool& out, const models::Limits& limits, std::string& problem);
bool read_value(const Json& in, int& out, const models::Limits& limits, std::string& problem);
bool read_value(const Json& in, std::int64_t& out, const models::Limits& limits,
                std::string& problem);
bool read_value(const Json& in, double& out, const models::Limits& limits, std::string& problem);
bool read_value(const Json& in, sim::Duration& out, const models::Limits& limits,
                std::string& problem);
bool read_value(const Json& in, models::Rate& out, const models::Limits& limits,
                std::string& problem);
bool read_value(const Json& in, models::Probability& out, const models::Limits& limits,
                std::string& problem);
bool read_value(const Json& in, std::string& out, const models::Limits& limits,
                std::string& problem);
bool read_value(const Json& in, models::ComponentRef& out, const models::Limits& limits,
                std::string& problem);
/// A list of non-empty names (["a", "b"]; [] is allowed).
bool read_value(const Json& in, std::vector<std::string>& out, const models::Limits& limits,
                std::string& problem);
/// A distribution of durations: a duration string (constant) or {"dist": ..., parameters}.
/// Problems inside the object are reported with their sub-path appended to `problem_path`.
bool read_value(const Json& in, sim::Distribution& out, const models::Limits& limits,
                std::string& problem);

Json write_value(bool v);
Json write_value(int v);
Json write_value(std::int64_t v);
Json write_value(double v);
Json write_value(sim::Duration v);
Json write_value(const models::Rate& v);
Json write_value(const models::Probability& v);
Json write_value(const std::string& v);
Json write_value(const models::ComponentRef& v);
Json write_value(const std::vector<std::string>& v);
Json write_value(const sim::Distribution& v);

const char* type_name(const bool&);
const char* type_name(const int&);
const char* type_name(const std::int64_t&);
const char* type_name(const double&);
const char* type_name(const sim::Duration&);
const char* type_name(const models::Rate&);
const char* type_name(const models::Probability&);
const char* type_name(const std::string&);
const char* type_name(const models::ComponentRef&);
const char* type_name(const std::vector<std::string>&);
const char* type_name(const sim::Distribution&);

/// "100Mbit/s", "1Gbit/s", "125MB/s" -> bits per second.
bool read_bandwidth(const Json& in, double& bits_per_second, std::string& problem);
std::string format_bandwidth(double bits_per_second);

/// The known name closest to `unknown` (for "did you mean ...?"), or "" if none is close.
std::string closest_name(const std::string& unknown, const std::vector<std::string>& known);

}  // namespace scenario
