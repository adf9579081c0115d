#include <evos/vm/domain_state.hpp>

#include <fmt/core.h>

namespace evos::vm {

std::string_view to_string(Power power) noexcept {
  switch (power) {
    case Power::absent: return "absent";
    case Power::no_state: return "no state";
    case Power::running: return "running";
    case Power::blocked: return "blocked";
    case Power::paused: return "paused";
    case Power::shutting_down: return "shutting down";
    case Power::shut_off: return "shut off";
    case Power::crashed: return "crashed";
    case Power::pm_suspended: return "suspended by the guest";
  }
  return "unknown";
}

std::string_view to_string(Reason reason) noexcept {
  switch (reason) {
    case Reason::unknown: return "unknown";
    case Reason::booted: return "booted";
    case Reason::user: return "by user";
    case Reason::migration: return "migration";
    case Reason::save: return "save";
    case Reason::snapshot: return "snapshot";
    case Reason::dump: return "dump";
    case Reason::io_error: return "I/O error";
    case Reason::watchdog: return "watchdog";
    case Reason::shutdown: return "shutdown";
    case Reason::destroyed: return "destroyed";
    case Reason::crashed: return "crashed";
    case Reason::failed: return "failed";
    case Reason::starting_up: return "starting up";
    case Reason::postcopy: return "post-copy migration";
    case Reason::postcopy_failed: return "post-copy migration failed";
    case Reason::api_error: return "API error";
    case Reason::restored: return "restored";
  }
  return "unknown";
}

std::string describe(const DomainState& state) {
  if (state.reason == Reason::unknown || state.power == Power::absent) return std::string(to_string(state.power));
  return fmt::format("{} ({})", to_string(state.power), to_string(state.reason));
}

Assessment assess(const DomainState& state) {
  const std::string what = describe(state);
  switch (state.power) {
    case Power::absent:
      return {Health::stopped, "domain is not defined here"};
    case Power::shut_off:
      return {Health::stopped, what};
    case Power::running:
    case Power::blocked:         // Xen: waiting on a resource; still active
    case Power::shutting_down:   // still running until the guest finishes
      return {Health::running, what};
    case Power::paused:
      switch (state.reason) {
        case Reason::io_error:
        case Reason::watchdog:
        case Reason::crashed:
        case Reason::postcopy_failed:
        case Reason::api_error:
          return {Health::failed, what};
        case Reason::user:
          return {Health::degraded, what};  // deliberate, but the service is down
        case Reason::migration:
        case Reason::save:
        case Reason::snapshot:
        case Reason::dump:
        case Reason::starting_up:
        case Reason::postcopy:
        case Reason::restored:
        case Reason::booted:
        case Reason::shutdown:
        case Reason::destroyed:
        case Reason::failed:
        case Reason::unknown:
          return {Health::running, what};  // a short pause a job takes; it resumes by itself
      }
      return {Health::failed, what};
    case Power::pm_suspended:
      return {Health::degraded, what};
    case Power::crashed:
      return {Health::failed, what};
    case Power::no_state:
      return {Health::failed, "libvirt reports no state"};
  }
  return {Health::failed, what};
}

Assessment assess_deep(const Assessment& shallow, const DeepCheck& deep) {
  if (shallow.health != Health::running && shallow.health != Health::degraded) return shallow;
  if (!deep.control_ok)
    return {Health::failed, fmt::format("{}, but the hypervisor's control channel is in state {}", shallow.why,
                                        deep.control_state)};
  if (!deep.disk_errors.empty()) {
    std::string list;
    for (const auto& e : deep.disk_errors) list += (list.empty() ? "" : "; ") + e;
    return {Health::degraded, fmt::format("{}, with disk errors: {}", shallow.why, list)};
  }
  return shallow;
}

}  // namespace evos::vm
