#include <catch2/catch.hpp>

#include "sim/time.hpp"

using namespace sim;

TEST_CASE("durations parse with every unit") {
  CHECK(parse_duration("100ns") == 100_ns);
  CHECK(parse_duration("10us") == 10_us);
  CHECK(parse_duration("250ms") == 250_ms);
  CHECK(parse_duration("1.5s") == 1500_ms);
  CHECK(parse_duration("2m") == 120_s);
  CHECK(parse_duration("3h") == 10800_s);
  CHECK(parse_duration("0") == 0_s);
  CHECK(parse_duration("0.000000001s") == 1_ns);
  CHECK(parse_duration("-5ms", Sign::Any) == -(5_ms));
}

TEST_CASE("bad durations are rejected with the reason") {
  auto message_of = [](std::string_view text, Sign sign = Sign::NonNegative) {
    try {
      parse_duration(text, sign);
    } catch (const ParseError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(message_of(""), Catch::Contains("empty"));
  CHECK_THAT(message_of("10"), Catch::Contains("missing unit"));
  CHECK_THAT(message_of("10 parsecs"), Catch::Contains("unknown unit"));
  CHECK_THAT(message_of("10parsecs"), Catch::Contains("unknown unit"));
  CHECK_THAT(message_of("ms"), Catch::Contains("no number"));
  CHECK_THAT(message_of("-1s"), Catch::Contains("negative"));
  CHECK_THAT(message_of("1.2.3s"), Catch::Contains("not a number"));
  CHECK_THAT(message_of("0.5ns"), Catch::Contains("finer than one nanosecond"));
  CHECK_THAT(message_of("300000000h"), Catch::Contains("out of range"));
  CHECK_THAT(message_of("99999999999999999999999s"), Catch::Contains("not a number"));
  CHECK_THAT(message_of("10ms"), Catch::Equals("no error"));
}

TEST_CASE("formatting is exact and parses back") {
  CHECK(format_duration(1500_ms) == "1.5s");
  CHECK(format_duration(250_ms) == "250ms");
  CHECK(format_duration(120_s) == "2m");
  CHECK(format_duration(90_s) == "90s");
  CHECK(format_duration(100_ns) == "100ns");
  CHECK(format_duration(1234567_ns) == "1.234567ms");
  CHECK(format_duration(-(5_ms)) == "-5ms");
  CHECK(format_duration(0_s) == "0s");
  for (std::int64_t ns :
       std::initializer_list<std::int64_t>{1, 999, 1000, 1001, 123456789, 3'600'000'000'001, -42,
                                           std::numeric_limits<std::int64_t>::max()}) {
    const auto d = Duration::nanoseconds(ns);
    CHECK(parse_duration(format_duration(d), Sign::Any) == d);
  }
}

TEST_CASE("time and duration arithmetic") {
  const Time t = Time::zero() + 5_ms;
  CHECK((t + 5_ms) - t == 5_ms);
  CHECK(t.since_start() == 5_ms);
  CHECK((1_s).millis() == 1000.0);
  CHECK(duration_from_ns(1.6) == 2_ns);
  CHECK(duration_from_ns(-3) == 0_ns);
  CHECK(duration_from_ns(1e30) == kMaxDuration);  // 100 years: a Time plus it cannot overflow
  CHECK(duration_from_ns(std::numeric_limits<double>::quiet_NaN()) == kMaxDuration);
  CHECK(format_duration(kMaxDuration) == "876000h");
}

TEST_CASE("rates parse with units and reject zero and junk") {
  CHECK(parse_rate("2000/s") == 2000.0);
  CHECK(parse_rate("50/ms") == 50000.0);
  CHECK(parse_rate("120/m") == 2.0);
  CHECK(parse_rate("0/s", true) == 0.0);
  CHECK_THROWS_AS(parse_rate("0/s"), ParseError);
  CHECK_THROWS_AS(parse_rate("2000"), ParseError);
  CHECK_THROWS_AS(parse_rate("x/s"), ParseError);
  CHECK_THROWS_AS(parse_rate("5/fortnight"), ParseError);
  CHECK_THROWS_AS(parse_rate("-5/s"), ParseError);
}
