#include <evos/net/state_file.hpp>
#include <evos/text_checks.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace evos::net {

Result<std::string> StateFile::default_path(const std::string& instance) {
  const std::string name = instance.empty() ? "default" : instance;
  if (auto problem = text::syntax_problem(name, text::Syntax::token); problem || name.size() > 200)
    return make_error(Errc::invalid_argument, "OCF_RESOURCE_INSTANCE {} cannot name a state file",
                      text::quote_for_message(name));
  const char* rsctmp = std::getenv("HA_RSCTMP");
  const std::string dir = rsctmp && *rsctmp == '/' ? rsctmp : "/run/resource-agents";
  return fmt::format("{}/evos-ping-{}.state", dir, name);
}

bool StateFile::exists() const { return ::access(path_.c_str(), F_OK) == 0; }

std::optional<PingState> StateFile::load() const {
  std::ifstream in(path_);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  auto state = parse_state(text.str());
  if (!state) return std::nullopt;
  return *state;
}

Result<void> StateFile::save(const PingState& state) {
  const std::string dir = path_.substr(0, path_.rfind('/'));
  if (!dir.empty() && ::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return make_error(Errc::backend, "cannot create the state directory {}: {}", dir, std::strerror(errno));
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << format_state(state);
    if (!out.flush()) return make_error(Errc::backend, "cannot write the state file {}", tmp);
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0)
    return make_error(Errc::backend, "cannot write the state file {}: {}", path_, std::strerror(errno));
  return {};
}

Result<void> StateFile::remove() {
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT)
    return make_error(Errc::backend, "cannot remove the state file {}: {}", path_, std::strerror(errno));
  return {};
}

}  // namespace evos::net
