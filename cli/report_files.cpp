#include "cli/report_files.hpp"

#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>

#include "cli/commands.hpp"
#include "scenario/scenario.hpp"

namespace cli {

namespace fs = std::filesystem;

// Outputs are named after the scenario file, not its "name": two files may share a name (a copy
// being edited), and each must keep its own report.
std::string output_stem(const std::string& scenario_path) {
  return fs::path(scenario_path).stem().string();
}

void make_out_dir(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error || !fs::is_directory(dir))
    throw UsageError{"--out " + dir.string() + ": cannot create the directory (" +
                     (error ? error.message() : "a file is in the way") + ")"};
}

namespace {

// The scenario file an existing report says it was written from; nullopt when that cannot be
// read (not JSON, not a report, an unreadable file).
std::optional<std::string> report_origin(const fs::path& report) {
  std::ifstream in(report, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  const auto json = scenario::Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("scenario")) return std::nullopt;
  const auto& about = json.at("scenario");
  if (!about.is_object() || !about.contains("file") || !about.at("file").is_string())
    return std::nullopt;
  return about.at("file").get<std::string>();
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ea, eb;
  const fs::path ca = fs::weakly_canonical(a, ea), cb = fs::weakly_canonical(b, eb);
  if (ea || eb) return fs::path(a).lexically_normal() == fs::path(b).lexically_normal();
  return ca == cb;
}

}  // namespace

// Re-running a scenario replaces its report; a report of another scenario file with the same
// stem (or anything dsim cannot identify) is never silently clobbered.
void check_overwrite(const fs::path& report, const std::string& scenario_path) {
  std::error_code error;
  if (!fs::exists(fs::symlink_status(report, error))) return;
  const std::optional<std::string> origin = report_origin(report);
  if (origin && same_file(*origin, scenario_path)) return;
  const std::string what = origin ? "was written from " + *origin + ", not from " + scenario_path
                                  : "exists and is not a dsim report of " + scenario_path +
                                        " (it names no scenario file)";
  throw UsageError{report.string() + " " + what +
                   "; refusing to overwrite it: choose another directory with --out DIR, or "
                   "remove it"};
}

}  // namespace cli
