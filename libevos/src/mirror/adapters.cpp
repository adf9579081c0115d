#include <evos/activity.hpp>
#include <evos/cluster/pacemaker_tools.hpp>
#include <evos/mirror/adapters.hpp>
#include <evos/proc/run.hpp>
#include <evos/text_checks.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace evos::mirror {

Result<void> CrmAttributePromotion::call(std::vector<std::string> argv, Deadline deadline) {
  const std::string described = proc::describe(argv);
  Activity activity(described);
  auto done = proc::run(argv, deadline);
  if (!done) return std::move(done).error().context(described);
  if (!done->ok()) {
    std::string err = done->err.substr(0, done->err.find('\n'));
    return make_error(Errc::backend, "{} exited with {}{}{}", described, done->exit_code, err.empty() ? "" : ": ",
                      text::quote_for_message(err));
  }
  return {};
}

Result<void> CrmAttributePromotion::set(int score, Deadline deadline) {
  return call({program_, "--promotion", "-v", std::to_string(score)}, deadline);
}

Result<void> CrmAttributePromotion::remove(Deadline deadline) {
  return call({program_, "--promotion", "-D"}, deadline);
}

Result<std::optional<std::string>> AttrdResolveRequests::pending(Deadline deadline) {
  auto values = cluster::query_node_attribute(attribute_, deadline);
  if (!values) return std::move(values).error();
  auto it = values->find(node_);
  if (it == values->end() || it->second.empty()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<void> AttrdResolveRequests::done(Deadline deadline) {
  std::vector<std::string> argv{"attrd_updater", "-D", "-n", attribute_, "-N", node_};
  const std::string described = proc::describe(argv);
  Activity activity(described);
  auto r = proc::run(argv, deadline);
  if (!r) return std::move(r).error().context(described);
  if (!r->ok()) return make_error(Errc::backend, "{} exited with {}", described, r->exit_code);
  return {};
}

Result<std::string> MemoryFile::default_path(const std::string& instance) {
  const std::string name = instance.empty() ? "default" : instance;
  if (auto problem = text::syntax_problem(name, text::Syntax::token); problem || name.size() > 200)
    return make_error(Errc::invalid_argument, "OCF_RESOURCE_INSTANCE {} cannot name a state file",
                      text::quote_for_message(name));
  const char* rsctmp = std::getenv("HA_RSCTMP");
  const std::string dir = rsctmp && *rsctmp == '/' ? rsctmp : "/run/resource-agents";
  return fmt::format("{}/evos-mirror-{}.state", dir, name);
}

std::optional<AgentMemory> MemoryFile::load() const {
  std::ifstream in(path_);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return parse_memory(text.str());
}

Result<void> MemoryFile::save(const AgentMemory& memory) {
  const std::string dir = path_.substr(0, path_.rfind('/'));
  if (!dir.empty() && ::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return make_error(Errc::backend, "cannot create the state directory {}: {}", dir, std::strerror(errno));
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << format_memory(memory);
    if (!out.flush()) return make_error(Errc::backend, "cannot write the state file {}", tmp);
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0)
    return make_error(Errc::backend, "cannot write the state file {}: {}", path_, std::strerror(errno));
  return {};
}

Result<void> MemoryFile::remove() {
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT)
    return make_error(Errc::backend, "cannot remove the state file {}: {}", path_, std::strerror(errno));
  return {};
}

}  // namespace evos::mirror
