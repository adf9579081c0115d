#include <evos/activity.hpp>
#include <evos/agent_state.hpp>
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
  return agent_state::instance_path("evos-mirror", instance);
}

std::optional<AgentMemory> MemoryFile::load() const {
  auto text = agent_state::read(path_);
  if (!text) return std::nullopt;
  return parse_memory(*text);
}

Result<void> MemoryFile::save(const AgentMemory& memory) { return agent_state::write(path_, format_memory(memory)); }

Result<void> MemoryFile::remove() { return agent_state::remove(path_); }

}  // namespace evos::mirror
