// Bad input gets a clear error and nothing is lost: the message names the file, the JSON path
// and what was expected; the exit status is 2; no report file is written.
#include <catch2/catch.hpp>

#include <algorithm>

#include "tests/scenarios/dsim_process.hpp"

namespace {

// A valid scenario, to be broken one way per test.
const std::string kValid = R"({
  "name": "tiny",
  "description": "a client and a server",
  "duration": "2s",
  "warmup": "100ms",
  "components": {
    "api": {"model": "server", "service_time": {"dist": "exponential", "mean": "1ms"}},
    "client": {"model": "open_loop_client", "rate": "100/s", "target": "api"}
  }
})";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// Runs `dsim run` on `text` and checks the common contract of a bad-input error.
std::string error_of(const std::string& text) {
  const test::TempDir dir;
  dir.write("bad.json", text);
  const test::Process p = test::run_dsim("run bad.json --out out", dir.path());
  CHECK(p.status == 2);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "out"));  // no report, not even a directory
  CHECK(p.err.rfind("bad.json: ", 0) == 0);                  // the message starts with the file
  CHECK(std::count(p.err.begin(), p.err.end(), '\n') >= 1);
  return p.err;
}

}  // namespace

TEST_CASE("the valid base scenario runs and writes its report") {
  const test::TempDir dir;
  dir.write("ok.json", kValid);
  const test::Process p = test::run_dsim("run ok.json --out out --quiet", dir.path());
  CHECK(p.status == 0);
  CHECK(std::filesystem::exists(dir.path() / "out" / "ok.report.json"));  // the file's stem
}

TEST_CASE("a missing file, a directory, and invalid JSON with line and column") {
  const test::TempDir dir;
  test::Process p = test::run_dsim("run nowhere.json", dir.path());
  CHECK(p.status == 2);
  CHECK(p.err == "nowhere.json: no such file\n");
  std::filesystem::create_directory(dir.path() / "adir");
  p = test::run_dsim("run adir", dir.path());
  CHECK(p.status == 2);
  CHECK_THAT(p.err, Catch::StartsWith("adir: is a directory"));
  CHECK_THAT(error_of("{\n  \"name\": \"x\",\n  \"duration\" \"2s\"\n}"),
             Catch::Contains("invalid JSON at line 3, column 17: syntax error while parsing object "
                             "separator"));  // the column ends the unexpected token
}

TEST_CASE("JSON nested deeper than any scenario is refused, not recursed into") {
  // 100,000 levels in a variant (a merge patch) once overflowed the stack; 64 is the limit.
  const auto nested = [](int levels) {
    std::string patch;
    for (int i = 0; i < levels; ++i) patch += "{\"a\": ";
    patch += "1" + std::string(static_cast<std::size_t>(levels), '}');
    return R"({"name": "x", "duration": "1s", "components": {}, "variants": {"v": )" + patch + "}}";
  };
  CHECK(error_of(nested(100'000)) ==
        "bad.json: objects and arrays nested deeper than 64 levels: no scenario is that deep\n");
  CHECK_THAT(error_of(nested(62)), !Catch::Contains("nested deeper"));  // 64 levels in all
  CHECK_THAT(error_of(nested(63)), Catch::Contains("nested deeper than 64 levels"));
  // What 62 levels are refused for instead: the empty components, said plainly.
  CHECK_THAT(error_of(nested(62)), Catch::Contains("/components: expected an object of named "
                                                   "components {name: {\"model\": ...}}, got an "
                                                   "empty one"));
}

TEST_CASE("an unknown model, with the known ones listed") {
  const std::string err =
      error_of(replaced(kValid, "\"model\": \"server\"", "\"model\": \"sever\""));
  CHECK_THAT(err, Catch::Contains(
                      "/components/api/model: unknown model \"sever\" (did you mean \"server\"?)"));
}

TEST_CASE("an unknown key is an error, never a silent default") {
  const std::string err =
      error_of(replaced(kValid, "\"rate\": \"100/s\"", "\"rate\": \"100/s\", \"timeuot\": \"1s\""));
  CHECK_THAT(
      err, Catch::Contains(
               "/components/client/timeuot: unknown key \"timeuot\" (did you mean \"timeout\"?)"));
  CHECK_THAT(error_of(replaced(kValid, "\"warmup\"", "\"warm_up\"")),
             Catch::Contains("/warm_up: unknown key"));
}

TEST_CASE("a wrong type names what was expected and what was found") {
  CHECK_THAT(error_of(replaced(kValid, "\"rate\": \"100/s\"", "\"rate\": 100")),
             Catch::Contains("/components/client/rate: expected a rate like \"2000/s\", got 100"));
  CHECK_THAT(error_of(replaced(kValid, "\"duration\": \"2s\"", "\"duration\": 2")),
             Catch::Contains("/duration: expected a duration like \"10ms\", got 2"));
  CHECK_THAT(
      error_of(replaced(kValid, "\"model\": \"server\"",
                        "\"model\": \"server\", \"workers\": \"four\"")),
      Catch::Contains("/components/api/workers: expected an integer in [1, 1e+06], got \"four\""));
}

TEST_CASE("a negative duration, a probability outside 0..1, a rate of zero") {
  CHECK_THAT(error_of(replaced(kValid, "\"warmup\": \"100ms\"", "\"warmup\": \"-100ms\"")),
             Catch::Contains("/warmup: expected a duration like \"250ms\" or \"1.5s\" (must not be "
                             "negative), got \"-100ms\""));
  CHECK_THAT(error_of(replaced(kValid, "\"warmup\"", "\"network\": {\"loss\": 1.5}, \"warmup\"")),
             Catch::Contains("/network/loss: expected a probability in [0, 1], got 1.5"));
  CHECK_THAT(error_of(replaced(kValid, "\"rate\": \"100/s\"", "\"rate\": \"0/s\"")),
             Catch::Contains("/components/client/rate: expected a rate like \"2000/s\" (must be "
                             "greater than zero), got \"0/s\""));
}

TEST_CASE("a variant whose patch yields an invalid scenario points into the patch") {
  const std::string text = replaced(
      kValid, "\"components\"",
      "\"variants\": {\"busy\": {\"components\": {\"api\": {\"workers\": 0}}}},\n  \"components\"");
  CHECK_THAT(
      error_of(text),
      Catch::Contains(
          "/variants/busy/components/api/workers: expected an integer in [1, 1e+06], got 0"));
  const std::string removes = replaced(
      kValid, "\"components\"",
      "\"variants\": {\"headless\": {\"components\": {\"api\": null}}},\n  \"components\"");
  CHECK_THAT(error_of(removes),
             Catch::Contains("/components/client/target: unknown component \"api\""));
  CHECK_THAT(error_of(removes), Catch::Contains("(in variant \"headless\", after its patch)"));
}

TEST_CASE("a reference to an unknown component, and a missing one") {
  CHECK_THAT(error_of(replaced(kValid, "\"target\": \"api\"", "\"target\": \"apu\"")),
             Catch::Contains(
                 "/components/client/target: unknown component \"apu\" (did you mean \"api\"?)"));
  CHECK_THAT(error_of(replaced(kValid, ", \"target\": \"api\"", "")),
             Catch::Contains("/components/client/target: missing (required)"));
}

TEST_CASE("a duration shorter than the warm-up") {
  CHECK_THAT(
      error_of(replaced(kValid, "\"warmup\": \"100ms\"", "\"warmup\": \"5s\"")),
      Catch::Contains("/warmup: expected a warm-up shorter than the duration (2s), got \"5s\""));
}

TEST_CASE("faults name known nodes and happen inside the run") {
  const std::string with_fault = replaced(kValid, "\"components\"",
                                          "\"faults\": [{\"action\": \"crash\", \"target\": "
                                          "\"apx\", \"at\": \"9s\"}],\n  \"components\"");
  const std::string err = error_of(with_fault);
  CHECK_THAT(err, Catch::Contains("/faults/0/target: unknown node or component \"apx\""));
  CHECK_THAT(err, Catch::Contains(
                      "/faults/0/at: expected a time before the end of the run (2s), got \"9s\""));
}

TEST_CASE("every problem in a file is reported, not just the first") {
  std::string text = replaced(kValid, "\"rate\": \"100/s\"", "\"rate\": 5");
  text = replaced(text, "\"duration\": \"2s\"", "\"duration\": \"2 s\"");
  const std::string err = error_of(text);
  CHECK_THAT(err, Catch::Contains("/components/client/rate"));
  CHECK_THAT(err, Catch::Contains("/duration"));
}

TEST_CASE("bad command-line usage exits with 2") {
  const test::TempDir dir;
  dir.write("ok.json", kValid);
  CHECK(test::run_dsim("run ok.json --seeds 0", dir.path()).status == 2);
  CHECK(test::run_dsim("run ok.json --variant nope", dir.path()).status == 2);
  CHECK(test::run_dsim("frobnicate", dir.path()).status == 2);
  CHECK(test::run_dsim("validate ok.json", dir.path()).status == 0);
  CHECK(test::run_dsim("--version", dir.path()).out.rfind("dsim ", 0) == 0);
}

TEST_CASE("a wiring cycle: requests would be forwarded in a circle") {
  std::string text = replaced(
      kValid,
      "\"client\": {\"model\": \"open_loop_client\", \"rate\": \"100/s\", \"target\": \"api\"}",
      "\"client\": {\"model\": \"open_loop_client\", \"rate\": \"100/s\", \"target\": \"a\"},\n"
      "    \"a\": {\"model\": \"relay\", \"target\": \"b\"},\n"
      "    \"b\": {\"model\": \"relay\", \"target\": \"a\"}");
  CHECK_THAT(
      error_of(text),
      Catch::Contains(
          "/components/a: wiring cycle: a -> b -> a (requests would be forwarded in a circle)"));
}

// Hostile inputs (issue 20): each ends in a clear input error naming the field, never in an
// internal error, a crash or an overflow.
namespace {
std::string with_faults(const std::string& faults) {
  return replaced(kValid, "\"components\"", "\"faults\": [" + faults + "],\n  \"components\"");
}
std::string with_service_time(const std::string& distribution) {
  return replaced(kValid, "{\"dist\": \"exponential\", \"mean\": \"1ms\"}", distribution);
}
}  // namespace

TEST_CASE("a number literal beyond a double is refused with its path") {
  CHECK(error_of(replaced(kValid, "\"duration\"", "\"seeds\": 1e400, \"duration\"")) ==
        "bad.json: /seeds: expected a number within the range of a double (magnitude below "
        "1.8e308), got 1e400\n");
  // Inside an array, after a complete element: the index is the element being read.
  CHECK_THAT(error_of(with_faults("{\"action\": \"crash\", \"target\": \"api\", \"at\": \"1s\"}, "
                                  "{\"action\": \"load\", \"target\": \"client\", \"at\": \"1s\", "
                                  "\"factor\": -1e400}")),
             Catch::Contains("bad.json: /faults/1/factor: expected a number within the range of "
                             "a double (magnitude below 1.8e308), got -1e400"));
}

TEST_CASE("fault factors outside a millionfold either way are refused") {
  CHECK_THAT(
      error_of(with_faults("{\"action\": \"degrade\", \"target\": \"api\", \"at\": \"1s\", "
                           "\"latency_factor\": 0}")),
      Catch::Contains("/faults/0/latency_factor: expected a number in [1e-06, 1e+06], got 0"));
  CHECK_THAT(error_of(with_faults("{\"action\": \"load\", \"target\": \"client\", \"at\": \"1s\", "
                                  "\"factor\": 1e308}")),
             Catch::Contains("/faults/0/factor: expected a number in [1e-06, 1e+06], got 1e+308"));
  CHECK_THAT(error_of(with_faults("{\"action\": \"slow\", \"target\": \"api\", \"at\": \"1s\", "
                                  "\"factor\": 1e308}")),
             Catch::Contains("/faults/0/factor: expected a number in [1, 1e+06], got 1e+308"));
  // Load spikes multiply: three millionfold spikes on one client could overflow its rate.
  const std::string spike =
      "{\"action\": \"load\", \"target\": \"client\", \"at\": \"1s\", \"factor\": 1e6}";
  CHECK_THAT(error_of(with_faults(spike + ", " + spike + ", " + spike)),
             Catch::Contains("bad.json: /faults: expected the load factors on \"client\" to "
                             "multiply to within [1e-12, 1e12], as if they overlapped"));
}

TEST_CASE("distribution parameters, rates and bandwidths that overflow are refused") {
  CHECK_THAT(
      error_of(with_service_time("{\"dist\": \"pareto\", \"scale\": \"1ms\", \"shape\": 1e-300}")),
      Catch::Contains("/components/api/service_time: \"shape\": expected a number in [0.01, "
                      "1000], got 1e-300"));
  CHECK_THAT(
      error_of(
          with_service_time("{\"dist\": \"lognormal\", \"median\": \"1ms\", \"sigma\": 1e300}")),
      Catch::Contains("/components/api/service_time: \"sigma\": expected a number in [0, 20], "
                      "got 1e+300"));
  CHECK_THAT(error_of(replaced(kValid, "\"rate\": \"100/s\"", "\"rate\": \"1e308/ms\"")),
             Catch::Contains("/components/client/rate: expected a rate of at most 1e9/s (one per "
                             "nanosecond, the resolution of time), got \"1e308/ms\""));
  CHECK_THAT(error_of(replaced(kValid, "\"warmup\"",
                               "\"network\": {\"bandwidth\": \"1e308Gbit/s\"}, \"warmup\"")),
             Catch::Contains("/network/bandwidth: expected a bandwidth from 1bit/s to 1e15bit/s"));
}

TEST_CASE("the heaviest tail allowed runs: its draws are clamped to 100 years") {
  // A pareto of shape 0.01 draws 1ms x u^-100: infinity for small u. Clamped, such a request
  // is served after the run, and the run ends normally.
  const test::TempDir dir;
  dir.write("heavy.json",
            with_service_time("{\"dist\": \"pareto\", \"scale\": \"1ms\", \"shape\": 0.01}"));
  const test::Process p = test::run_dsim("run heavy.json --out out --quiet", dir.path());
  CHECK(p.err.empty());
  CHECK(p.status == 0);
}

TEST_CASE("durations and fault ends beyond 100 years are refused") {
  CHECK_THAT(error_of(with_faults("{\"action\": \"crash\", \"target\": \"api\", \"at\": \"1s\", "
                                  "\"for\": \"9223372036854775807ns\"}")),
             Catch::Contains("/faults/0/for: expected a duration of at most 876000h (100 "
                             "years), got \"9223372036854775807ns\""));
  CHECK_THAT(error_of(with_faults("{\"action\": \"crash\", \"target\": \"api\", \"at\": \"1s\", "
                                  "\"stagger\": \"1500000h\"}")),
             Catch::Contains("/faults/0/stagger: expected a duration of at most 876000h"));
  // Each allowed, together too late: the third node of api would crash after 100 years.
  const std::string three =
      replaced(kValid, "\"model\": \"server\"", "\"model\": \"server\", \"count\": 3");
  CHECK_THAT(error_of(replaced(three, "\"components\"",
                               "\"faults\": [{\"action\": \"crash\", \"target\": \"api\", \"at\": "
                               "\"1s\", \"stagger\": \"500000h\"}],\n  \"components\"")),
             Catch::Contains("bad.json: /faults/0: expected a fault that ends within 876000h "
                             "(100 years) of the start"));
  const std::string step =
      "{\"action\": \"clock_step\", \"target\": \"api\", \"at\": \"1s\", \"by\": \"2562047h\"}";
  CHECK_THAT(error_of(with_faults(step + ", " + step)),
             Catch::Contains("/faults/1/by: expected a step of at most 876000h (100 years) "
                             "either way, got \"2562047h\""));
  const std::string big_step =
      "{\"action\": \"clock_step\", \"target\": \"api\", \"at\": \"1s\", \"by\": \"-876000h\"}";
  CHECK_THAT(error_of(with_faults(big_step + ", " + big_step)),
             Catch::Contains("bad.json: /faults: expected clock steps that add up (either way) "
                             "to at most 876000h (100 years)"));
  CHECK_THAT(error_of(replaced(kValid, "\"duration\": \"2s\"", "\"duration\": \"1000000h\"")),
             Catch::Contains("/duration: expected a duration of at most 876000h (100 years)"));
}

TEST_CASE("more closed-loop users than the simulator can hold pending are refused") {
  CHECK_THAT(
      error_of(replaced(kValid, "\"model\": \"open_loop_client\", \"rate\": \"100/s\"",
                        "\"model\": \"closed_loop_client\", \"users\": 10000000, \"count\": 7")),
      Catch::Contains("/components/client/users: expected at most 6710886 users in all "
                      "(users x count: a tenth of the simulator's 67108864 pending "
                      "events), got 10000000 x 7"));
}

TEST_CASE("the scenario's name is never a file name: any text runs") {
  // Outputs are named after the scenario file; an empty name, a long one or one with '/' is
  // only shown.
  for (const std::string& name : {std::string(""), std::string(300, 'n'), std::string("a/../b")}) {
    const test::TempDir dir;
    dir.write("named.json", replaced(kValid, "\"name\": \"tiny\"", "\"name\": \"" + name + "\""));
    const test::Process p = test::run_dsim("run named.json --out out --quiet", dir.path());
    CHECK(p.status == 0);
    CHECK(std::filesystem::exists(dir.path() / "out" / "named.report.json"));
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path() / "out"),
                        std::filesystem::directory_iterator{}) == 1);  // the report only
  }
}

TEST_CASE("control characters in keys are escaped in messages: one line, no escape sequence") {
  const std::string err =
      error_of(replaced(kValid, "\"warmup\"", "\"a\\nb\\u001b[31m\": 1, \"warmup\""));
  CHECK(err == "bad.json: /a\\nb\\u001b[31m: unknown key \"a\\nb\\u001b[31m\"\n");
  CHECK(err.find('\x1b') == std::string::npos);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
}

TEST_CASE("what a model needs of its targets' node counts is checked at load, not at build") {
  // Found by fuzzing (fuzz/corpus/scatter-gather-replicas-do-not-divide.json): these passed the
  // loader and ended in an internal error (exit status 1) when the model was built.
  const auto leaves = [](const std::string& root) {
    return replaced(kValid,
                    "\"client\": {\"model\": \"open_loop_client\", \"rate\": \"100/s\", "
                    "\"target\": \"api\"}",
                    "\"leaves\": {\"model\": \"server\", \"count\": 21},\n    \"root\": " + root +
                        ",\n    \"client\": {\"model\": \"open_loop_client\", \"rate\": "
                        "\"100/s\", \"target\": \"root\"}");
  };
  CHECK_THAT(error_of(leaves(R"({"model": "scatter_gather", "target": "leaves", "replicas": 2})")),
             Catch::Contains("/components/root/replicas: expected a divisor of the 21 nodes of "
                             "'leaves' (shards are equal), got 2"));
  CHECK_THAT(error_of(leaves(R"({"model": "scatter_gather", "target": "leaves", "replicas": 3,
                                 "fanout": 8})")),
             Catch::Contains("/components/root/fanout: expected at most the 7 shards of "
                             "'leaves', got 8"));
  CHECK_THAT(error_of(leaves(R"({"model": "scatter_gather", "target": "leaves", "replicas": 7,
                                 "gather": "quorum", "quorum": 4})")),
             Catch::Contains("/components/root/quorum: expected at most the 3 shards each "
                             "request reaches (the fan-out), got 4"));
  // A lease owner's store is one node (found by reading make(): the same internal error).
  const std::string lease = R"({"name": "lease", "duration": "2s", "components": {
    "lock": {"model": "lock_service"},
    "store": {"model": "fenced_store", "count": 2},
    "owners": {"model": "lease_owner", "count": 2, "service": "lock", "store": "store"}}})";
  CHECK_THAT(error_of(lease), Catch::Contains("/components/owners/store: expected a component of "
                                              "one node (the resource written), got 'store' of 2 "
                                              "nodes"));
}
