#include "cli/output_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace cli {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const fs::path& path, int error) {
  throw OutputError{"cannot write " + path.string() + ": " + std::strerror(error)};
}

/// A new file beside the final one, removed when it goes unless it was renamed into place.
class TempFile {
 public:
  // O_EXCL: never adopt a file that is already there (another dsim's, a link someone planted).
  // The pid and a counter make the name unique among concurrent runs into one directory.
  explicit TempFile(const fs::path& final_path) : final_(final_path) {
    for (int attempt = 0; fd_ < 0; ++attempt) {
      path_ = final_.string() + "." + std::to_string(::getpid()) + "-" + std::to_string(attempt) +
              ".tmp";
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ < 0 && (errno != EEXIST || attempt == 99)) fail(final_, errno);
    }
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  // A write may be cut short (a signal, a full disk partway) or interrupted: go on until all of
  // `text` is written or the system says why it cannot be.
  void write(std::string_view text) {
    while (!text.empty()) {
      const ssize_t n = ::write(fd_, text.data(), text.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail(final_, errno);
      if (n == 0) fail(final_, EIO);  // no progress and no reason: do not spin
      text.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // fsync before the rename: the data is on disk before the name points at it, and a storage
  // error surfaces here (on some file systems only here), not after dsim has said "written".
  void close() {
    if (::fsync(fd_) != 0 && errno != EINVAL) fail(final_, errno);  // EINVAL: cannot be synced
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0 && errno != EINTR) fail(final_, errno);  // EINTR: closed all the same
  }

  void commit() {
    if (std::rename(path_.c_str(), final_.c_str()) != 0) fail(final_, errno);
    committed_ = true;
  }

 private:
  fs::path final_;
  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

void write_atomically(const fs::path& path, std::string_view text) {
  TempFile tmp(path);
  tmp.write(text);
  tmp.close();
  tmp.commit();
}

}  // namespace cli
