// Runs the dsim binary of this build as a user would, capturing exit status, stdout and stderr.
#pragma once

#include <sys/wait.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace test {

struct Process {
  int status;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A fresh empty directory under the system's temp dir, removed when the object goes.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dsim-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

/// Runs `dsim ARGS` (ARGS already shell-quoted where needed) with the working directory `cwd`.
/// `wrapper`, if given, is shell text put before the binary's path: "ulimit -f 1 &&" limits
/// dsim's file sizes, and a command taking the binary and ARGS as its arguments runs dsim inside
/// it (the shell is the test harness's; dsim itself never runs one).
inline Process run_dsim(const std::string& args, const std::filesystem::path& cwd,
                        const std::string& wrapper = "") {
  const TempDir capture;
  const auto out = capture.path() / "out", err = capture.path() / "err";
  const std::string command = "cd '" + cwd.string() + "' && " + wrapper + " '" +
                              std::string(DSIM_BINARY) + "' " + args + " >'" + out.string() +
                              "' 2>'" + err.string() + "'";
  const int raw = std::system(command.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(out), slurp(err)};
}

}  // namespace test
