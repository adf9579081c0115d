#include "output.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace evosctl {

using evos::vm::assess;


nlohmann::json to_json(const evos::vm::DomainSummary& d) {
  const auto a = assess(d.state);
  return {
      {"name", d.name},
      {"uuid", d.uuid},
      {"state", std::string(evos::vm::to_string(d.state.power))},
      {"reason", std::string(evos::vm::to_string(d.state.reason))},
      {"health", std::string(evos::to_string(a.health))},
      {"persistent", d.persistent},
      {"autostart", d.autostart},
      {"vcpus", d.vcpus},
      {"memory_kib", d.memory_kib},
  };
}

std::string domain_table(const std::vector<evos::vm::DomainSummary>& domains) {
  std::size_t width = 4;
  for (const auto& d : domains) width = std::max(width, d.name.size());
  std::string out = fmt::format("{:<{}}  {:<8}  {}\n", "NAME", width, "HEALTH", "STATE");
  for (const auto& d : domains)
    out += fmt::format("{:<{}}  {:<8}  {}\n", d.name, width, evos::to_string(assess(d.state).health), describe(d.state));
  return out;
}

std::string domain_details(const evos::vm::DomainSummary& d) {
  const auto a = assess(d.state);
  return fmt::format(
      "name:       {}\nuuid:       {}\nstate:      {}\nhealth:     {}\npersistent: {}\nautostart:  {}\nvcpus:      {}\n"
      "memory:     {} MiB\n",
      d.name, d.uuid, describe(d.state), evos::to_string(a.health), d.persistent ? "yes" : "no", d.autostart ? "yes" : "no",
      d.vcpus, d.memory_kib / 1024);
}

}  // namespace evosctl
