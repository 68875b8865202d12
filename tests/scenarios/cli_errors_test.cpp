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
