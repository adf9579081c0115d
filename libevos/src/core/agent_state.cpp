#include <evos/agent_state.hpp>
#include <evos/file/atomic_write.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>

#include <unistd.h>

#include <cerrno>
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
  auto r = file::write_atomically(path, content, {.mode = 0600, .replace = true, .create_parent = dir_mode});
  if (!r) return std::move(r).error().context("state file");
  return {};
}

Result<void> remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return make_error(Errc::backend, "cannot remove the state file {}: {}", path, std::strerror(errno));
  return {};
}

}  // namespace evos::agent_state
