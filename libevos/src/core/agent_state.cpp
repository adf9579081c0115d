#include <evos/agent_state.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace evos::agent_state {

std::string directory() {
  const char* rsctmp = std::getenv("HA_RSCTMP");
  return rsctmp && *rsctmp == '/' ? std::string(rsctmp) : std::string("/run/resource-agents");
}

Result<std::string> instance_path(std::string_view prefix, const std::string& instance) {
  const std::string name = instance.empty() ? "default" : instance;
  if (auto problem = text::syntax_problem(name, text::Syntax::token); problem || name.size() > 200)
    return make_error(Errc::invalid_argument, "OCF_RESOURCE_INSTANCE {} cannot name a state file",
                      text::quote_for_message(name));
  return fmt::format("{}/{}-{}.state", directory(), prefix, name);
}

std::optional<std::string> read(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

Result<void> write(const std::string& path, std::string_view content, unsigned dir_mode) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? std::string() : path.substr(0, slash);
  if (!dir.empty() && ::mkdir(dir.c_str(), static_cast<mode_t>(dir_mode)) != 0 && errno != EEXIST)
    return make_error(Errc::backend, "cannot create the state directory {}: {}", dir, std::strerror(errno));
  // Beside the target (rename(2) is atomic only within a file system), unique per process.
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return make_error(Errc::backend, "cannot write the state file {}: {}", tmp, std::strerror(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(Errc::backend, "cannot write the state file {}: {}", tmp, std::strerror(e));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return make_error(Errc::backend, "cannot write the state file {}: {}", tmp, std::strerror(e));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return make_error(Errc::backend, "cannot write the state file {}: {}", path, std::strerror(e));
  }
  return {};
}

Result<void> remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return make_error(Errc::backend, "cannot remove the state file {}: {}", path, std::strerror(errno));
  return {};
}

}  // namespace evos::agent_state
