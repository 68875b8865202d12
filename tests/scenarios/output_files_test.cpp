// Every output is written whole or not at all. A write that fails — a file-size limit, a full
// disk, a directory dsim may not write, a name that cannot be replaced — ends with exit status 4
// and a message naming the file and the reason; no temporary file stays, nothing appears under
// the final name, and a report written before is left exactly as it was.
//
// The failures are made without mount privileges where possible: `ulimit -f` caps the size of
// any file dsim writes (dsim ignores SIGXFSZ, so the write fails with EFBIG instead of killing
// it). A full disk is a small tmpfs in a private mount namespace, where the machine allows one.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/scenarios/dsim_process.hpp"

namespace {

namespace fs = std::filesystem;

const std::string kScenario = R"({
  "name": "tiny",
  "description": "a client and a server",
  "duration": "2s",
  "components": {
    "api": {"model": "server", "service_time": {"dist": "exponential", "mean": "1ms"}},
    "client": {"model": "open_loop_client", "rate": "100/s", "target": "api"}
  }
})";

// Any file dsim writes may hold at most 1 block (512 or 1024 bytes, as the shell counts): a
// report is larger.
const std::string kFileSizeLimit = "ulimit -f 1 &&";

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

// A shell wrapper that runs dsim with `dir` (relative to the working directory) on a fresh tmpfs
// of `bytes`, in a private mount namespace (nothing outside sees the mount, and it goes with
// the process), and lists what dsim left there into `dir`.listing.
std::string on_small_tmpfs(const std::string& dir, std::size_t bytes) {
  return "unshare -m sh -c 'mount -t tmpfs -o size=" + std::to_string(bytes) + " tmpfs " + dir +
         " && \"$0\" \"$@\"; s=$?; ls -A " + dir + " >" + dir + ".listing; exit $s'";
}

bool can_mount_tmpfs(const fs::path& cwd) {
  fs::create_directory(cwd / "probe");
  const std::string probe =
      "cd '" + cwd.string() + "' && " + on_small_tmpfs("probe", 4096) + " true >/dev/null 2>&1";
  const bool ok = std::system(probe.c_str()) == 0;
  fs::remove_all(cwd / "probe");
  fs::remove(cwd / "probe.listing");
  return ok;
}

}  // namespace

TEST_CASE("a report that cannot be written: exit 4, the file and the reason, nothing left") {
  const test::TempDir dir;
  dir.write("tiny.json", kScenario);
  const test::Process p =
      test::run_dsim("run tiny.json --quiet --csv --out out", dir.path(), kFileSizeLimit);
  CHECK(p.status == 4);
  CHECK(p.err == "dsim: cannot write out/tiny.report.json: File too large\n");
  CHECK(p.out.empty());                        // no path printed for a file that is not there
  CHECK(entries(dir.path() / "out").empty());  // no report, no CSV, no temporary file
}

TEST_CASE("a report that cannot be replaced is left as it was") {
  const test::TempDir dir;
  dir.write("tiny.json", kScenario);
  REQUIRE(test::run_dsim("run tiny.json --quiet --seed 1", dir.path()).status == 0);
  const std::string before = test::slurp(dir.path() / "results/tiny.report.json");
  const test::Process p =
      test::run_dsim("run tiny.json --quiet --seed 2", dir.path(), kFileSizeLimit);
  CHECK(p.status == 4);
  CHECK_THAT(p.err, Catch::Contains("cannot write results/tiny.report.json: "));
  CHECK(test::slurp(dir.path() / "results/tiny.report.json") == before);
  CHECK(entries(dir.path() / "results") == std::vector<std::string>{"tiny.report.json"});
}

TEST_CASE("a CSV that cannot take its name: exit 4, the file and the reason, nothing left") {
  const test::TempDir dir;
  dir.write("tiny.json", kScenario);
  // A directory holds the CSV's name: the rename that would commit the CSV fails.
  fs::create_directories(dir.path() / "out/tiny.summary.csv");
  dir.write("out/tiny.summary.csv/keep", "mine");
  const test::Process p = test::run_dsim("run tiny.json --quiet --csv --out out", dir.path());
  CHECK(p.status == 4);
  CHECK(p.err == "dsim: cannot write out/tiny.summary.csv: Is a directory\n");
  CHECK(entries(dir.path() / "out") ==
        std::vector<std::string>{"tiny.report.json", "tiny.summary.csv"});
  CHECK(entries(dir.path() / "out/tiny.summary.csv") == std::vector<std::string>{"keep"});
}

TEST_CASE("an output directory dsim may not write: exit 4, the file and the reason") {
  if (::geteuid() == 0) {
    WARN("skipped: running as root, which a directory's mode does not stop (CI runs as root)");
    return;
  }
  const test::TempDir dir;
  dir.write("tiny.json", kScenario);
  fs::create_directories(dir.path() / "out");
  fs::permissions(dir.path() / "out", fs::perms::owner_read | fs::perms::owner_exec |
                                          fs::perms::group_read | fs::perms::group_exec |
                                          fs::perms::others_read | fs::perms::others_exec);
  const test::Process p = test::run_dsim("run tiny.json --quiet --out out", dir.path());
  fs::permissions(dir.path() / "out", fs::perms::owner_all);  // so that TempDir can remove it
  CHECK(p.status == 4);
  CHECK(p.err == "dsim: cannot write out/tiny.report.json: Permission denied\n");
  CHECK(entries(dir.path() / "out").empty());
}

TEST_CASE("a full disk: the report, or the CSV after it, fails with exit 4 and leaves nothing") {
  const test::TempDir dir;
  dir.write("tiny.json", kScenario);
  if (!can_mount_tmpfs(dir.path())) {
    WARN("skipped: this machine does not allow a tmpfs in a private mount namespace");
    return;
  }
  // The report's size, from a run that succeeds (the same run: the same bytes).
  REQUIRE(test::run_dsim("run tiny.json --quiet --csv --out big", dir.path()).status == 0);
  const std::size_t report = fs::file_size(dir.path() / "big/tiny.report.json");
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));  // tmpfs counts pages
  const std::size_t room = (report + page - 1) / page * page;           // the report just fits
  fs::create_directory(dir.path() / "out");

  SECTION("room for part of the report: the write fails partway") {
    if (room <= page) {  // size=0 would mean no limit at all
      WARN("skipped: the report fits in one page of this machine");
      return;
    }
    const test::Process p = test::run_dsim("run tiny.json --quiet --csv --out out", dir.path(),
                                           on_small_tmpfs("out", room - page));
    CHECK(p.status == 4);
    CHECK(p.err == "dsim: cannot write out/tiny.report.json: No space left on device\n");
    CHECK(test::slurp(dir.path() / "out.listing").empty());
  }
  SECTION("room for the report only: the CSV fails") {
    const test::Process p = test::run_dsim("run tiny.json --quiet --csv --out out", dir.path(),
                                           on_small_tmpfs("out", room));
    CHECK(p.status == 4);
    CHECK(p.err == "dsim: cannot write out/tiny.summary.csv: No space left on device\n");
    CHECK(test::slurp(dir.path() / "out.listing") == "tiny.report.json\n");
  }
}
