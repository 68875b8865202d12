// The one way dsim writes a file: whole or not at all. The text goes to a new temporary file
// in the same directory, every write(2) and the close checked; the rename is the commit point.
// On any failure the temporary file is removed, nothing appears under the final name, and a
// previous file of that name is left exactly as it was.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace cli {

/// Thrown when an output cannot be written (exit status 4). `message` names the file and the
/// operating system's reason: "cannot write out/x.report.json: No space left on device".
struct OutputError {
  std::string message;
};

/// Writes `text` to `path` through a temporary file and a rename; throws OutputError.
void write_atomically(const std::filesystem::path& path, std::string_view text);

}  // namespace cli
