#include <evos/agent_state.hpp>
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
  return agent_state::instance_path("evos-ping", instance);
}

bool StateFile::exists() const { return ::access(path_.c_str(), F_OK) == 0; }

std::optional<PingState> StateFile::load() const {
  auto text = agent_state::read(path_);
  if (!text) return std::nullopt;
  auto state = parse_state(*text);
  if (!state) return std::nullopt;
  return *state;
}

Result<void> StateFile::save(const PingState& state) { return agent_state::write(path_, format_state(state)); }

Result<void> StateFile::remove() { return agent_state::remove(path_); }

}  // namespace evos::net
