// evos::Health: what a resource's state means to Pacemaker, shared by the VM and the mirror agents
// (vm::assess, mirror::assess), and its one rendering as text (evosctl's tables and JSON, docs/
// glossary.md "health"). Each maps to an OCF result: running OCF_SUCCESS (or RUNNING_PROMOTED),
// degraded OCF_DEGRADED, stopped OCF_NOT_RUNNING, failed OCF_ERR_GENERIC (or FAILED_PROMOTED).
#pragma once

#include <string_view>

namespace evos {

enum class Health {
  running,   // active and serving
  degraded,  // active, but not serving as it should (or without full redundancy)
  stopped,   // nothing of the resource runs here
  failed,    // it may hold resources but does not work
};

constexpr std::string_view to_string(Health health) noexcept {
  switch (health) {
    case Health::running: return "running";
    case Health::degraded: return "degraded";
    case Health::stopped: return "stopped";
    case Health::failed: return "failed";
  }
  return "unknown";
}

}  // namespace evos
