#include <evos/file/atomic_write.hpp>

#include <evos/file/fd.hpp>

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

namespace evos::file {
namespace {

using file::Fd;

// Removes the temporary file unless the write got to the end.
class TempName {
 public:
  explicit TempName(std::string name) : name_(std::move(name)) {}
  ~TempName() {
    if (!name_.empty()) ::unlink(name_.c_str());
  }
  TempName(const TempName&) = delete;
  TempName& operator=(const TempName&) = delete;
  [[nodiscard]] const std::string& get() const { return name_; }
  void keep() { name_.clear(); }

 private:
  std::string name_;
};

Error fail(const std::string& path, int error) {
  return Error(Errc::backend, fmt::format("cannot write {}: {}", path, std::strerror(error)));
}

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Result<void> write_atomically(const std::string& path, std::string_view content, const WriteOptions& options) {
  if (path.empty() || path.back() == '/') return make_error(Errc::invalid_argument, "cannot write {}: not a file name", path);
  const std::string dir = parent_of(path);
  if (options.create_parent && ::mkdir(dir.c_str(), static_cast<mode_t>(*options.create_parent)) != 0 && errno != EEXIST)
    return make_error(Errc::backend, "cannot create the directory {}: {}", dir, std::strerror(errno));
  if (!options.replace) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) return make_error(Errc::invalid_argument, "{} exists", path);
  }

  // A fresh name per attempt: O_EXCL makes any existing file (or symlink) an EEXIST, never a target.
  std::random_device seed;
  std::mt19937_64 random(seed());
  int fd = -1;
  std::string tmp;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    tmp = fmt::format("{}.tmp.{}.{:016x}", path, ::getpid(), random());
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) return fail(tmp, errno);
  }
  if (fd < 0) return fail(tmp, EEXIST);
  Fd file(fd);
  TempName temp(tmp);

  if (::fchmod(file.get(), static_cast<mode_t>(options.mode)) != 0) return fail(tmp, errno);
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(file.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(tmp, n < 0 ? errno : EIO);
    done += static_cast<std::size_t>(n);
  }
  // The data must be on disk before the rename makes it the file's content.
  if (::fsync(file.get()) != 0) return fail(tmp, errno);
  if (::close(file.release()) != 0) return fail(tmp, errno);

  if (options.replace) {
    if (std::rename(tmp.c_str(), path.c_str()) != 0) return fail(path, errno);
  } else {
    // link(2) fails with EEXIST instead of replacing: no window between the check and the write.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      if (errno == EEXIST) return make_error(Errc::invalid_argument, "{} exists", path);
      return fail(path, errno);
    }
    ::unlink(tmp.c_str());
  }
  temp.keep();
  if (!options.sync_directory) return {};

  Fd directory(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!directory.ok() || ::fsync(directory.get()) != 0)
    return make_error(Errc::backend, "{} written, but its directory {} could not be synced: {}", path, dir,
                      std::strerror(errno));
  return {};
}

}  // namespace evos::file
