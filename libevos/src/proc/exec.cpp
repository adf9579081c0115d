#include <evos/proc/exec.hpp>

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace evos::proc {

Result<std::string> own_directory() {
  std::array<char, 4096> buf{};
  const ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size());
  if (n <= 0 || static_cast<std::size_t>(n) >= buf.size())
    return make_error(Errc::not_installed, "cannot read /proc/self/exe: {}", n < 0 ? std::string(std::strerror(errno)) : std::string("too long"));
  std::string path(buf.data(), static_cast<std::size_t>(n));
  // A file replaced while it runs (a package upgrade) reads "PATH (deleted)"; the suffix is in the
  // last component, so the directory is still right.
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return make_error(Errc::not_installed, "/proc/self/exe is not absolute: {}", path);
  return path.substr(0, slash == 0 ? 1 : slash);
}

Error replace_with(const std::string& path, char** argv) {
  if (path.empty() || path[0] != '/') return make_error(Errc::invalid_argument, "{} is not an absolute path", path);
  // Whatever this process buffered must come out before the other program's output.
  std::fflush(stdout);
  std::fflush(stderr);
  ::execv(path.c_str(), argv);
  const int e = errno;
  return make_error(e == ENOENT || e == EACCES ? Errc::not_installed : Errc::backend, "cannot run {}: {}", path,
                    std::strerror(e));
}

}  // namespace evos::proc
