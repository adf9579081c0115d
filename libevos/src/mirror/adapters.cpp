#include <evos/activity.hpp>
#include <evos/agent_state.hpp>
#include <evos/cluster/attributes.hpp>
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

Result<void> CrmAttributePromotion::set(int score, Deadline deadline) { return attributes_.set_promotion(score, deadline); }

Result<void> CrmAttributePromotion::remove(Deadline deadline) { return attributes_.remove_promotion(deadline); }

Result<std::optional<std::string>> AttrdResolveRequests::pending(Deadline deadline) {
  auto values = cluster::Attributes().query(attribute_, deadline);
  if (!values) return std::move(values).error();
  auto it = values->find(node_);
  if (it == values->end() || it->second.empty()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<void> AttrdResolveRequests::done(Deadline deadline) { return cluster::Attributes().remove(attribute_, deadline, node_); }

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
