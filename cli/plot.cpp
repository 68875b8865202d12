#include "cli/plot.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <vector>

extern char** environ;  // the environment handed to plot.py

namespace cli {
namespace {

namespace fs = std::filesystem;

/// A pipe whose ends close themselves.
class Pipe {
 public:
  Pipe() {
    if (pipe2(fds_, O_CLOEXEC) != 0)
      throw std::system_error(errno, std::generic_category(), "pipe");
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }
  void close_read() { close_fd(fds_[0]); }
  void close_write() { close_fd(fds_[1]); }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fds_[2] = {-1, -1};
};

struct ScriptResult {
  int status;  // the exit status; 128 + N for a signal; -1: could not be started
  std::string errors;
};

std::string read_all(int fd) {
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0)
      text.append(buffer, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR)
      return text;
  }
}

int wait_for(pid_t pid) {
  int raw = 0;
  while (waitpid(pid, &raw, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
}

// Runs a program with argv as given, without a shell (a path from --out may hold any character):
// stdout discarded, stderr captured.
ScriptResult run_program(std::vector<std::string> argv) {
  Pipe errors;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, errors.write_end(), STDERR_FILENO);
  // dsim ignores SIGXFSZ (see main.cpp), and exec keeps an ignored signal ignored: give the
  // child the default back, as if a shell had started it.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGXFSZ);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> pointers;
  for (auto& arg : argv) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  pid_t pid = 0;
  const int failed =
      posix_spawn(&pid, pointers[0], &actions, &attributes, pointers.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  errors.close_write();  // the child holds its copy; EOF comes when it exits
  if (failed != 0) return {-1, "cannot run " + argv[0] + ": " + std::strerror(failed)};
  std::string text = read_all(errors.read_end());
  return {wait_for(pid), std::move(text)};
}

// One line when plot.py said one line (its errors are), else the whole text below the header.
void report_plot_failure(const char* kind, const ScriptResult& r) {
  std::string text = r.errors;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  const std::string status =
      r.status < 0 ? "" : " (plot.py exit status " + std::to_string(r.status) + ")";
  const bool one_line = text.find('\n') == std::string::npos;
  std::fprintf(stderr, "dsim: --plot: the %s plot failed%s:%s%s\n", kind, status.c_str(),
               one_line ? " " : "\n", text.empty() ? "(no message)" : text.c_str());
}

}  // namespace

std::vector<std::string> plot_kinds(const nlohmann::json& report) {
  bool slos = false, tenants = false;
  for (const auto& variant : report.at("variants")) {
    slos = slos || variant.contains("slos");
    for (const auto& [name, component] : variant.at("scenario").at("components").items())
      tenants = tenants || component.value("tenant_per_node", false);
  }
  std::vector<std::string> kinds{"p99", "timeline"};
  if (slos) kinds.emplace_back("budget");
  if (tenants) kinds.emplace_back("tenants");
  return kinds;
}

int plot(const fs::path& report, const std::string& stem, const fs::path& dir,
         const std::vector<std::string>& kinds) {
  const std::string script = std::string(DSIM_SOURCE_DIR) + "/analysis/plot.py";
  int status = 0;
  for (const std::string& kind : kinds) {
    const fs::path png = dir / (stem + "." + kind + ".png");
    const ScriptResult r =
        run_program({"/usr/bin/python3", script, kind, report.string(), "-o", png.string()});
    if (r.status == 0) {
      std::printf("plot:      %s\n", png.c_str());
      continue;
    }
    std::fflush(stdout);  // keep the lines in order on a terminal
    report_plot_failure(kind.c_str(), r);
    status = 1;
  }
  return status;
}

}  // namespace cli
