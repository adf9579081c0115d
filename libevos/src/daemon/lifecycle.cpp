#include <evos/daemon/lifecycle.hpp>

#include <fmt/core.h>

#include <array>

namespace evos::daemon {
namespace {

using vm::DomainState;
using vm::Power;
using vm::Reason;

}  // namespace

LifecycleChange lifecycle_change(int type, int detail) {
  switch (static_cast<LifecycleType>(type)) {
    case LifecycleType::defined:
      return {};
    case LifecycleType::undefined:
      return {std::nullopt, true};
    case LifecycleType::started: {
      // VIR_DOMAIN_EVENT_STARTED_BOOTED, _MIGRATED, _RESTORED, _FROM_SNAPSHOT, _WAKEUP
      static constexpr std::array<Reason, 5> r{Reason::booted, Reason::migration, Reason::restored, Reason::snapshot,
                                               Reason::booted};
      return {DomainState{Power::running, detail >= 0 && detail < 5 ? r[static_cast<std::size_t>(detail)] : Reason::unknown}};
    }
    case LifecycleType::suspended: {
      // _PAUSED, _MIGRATED, _IOERROR, _WATCHDOG, _RESTORED, _FROM_SNAPSHOT, _API_ERROR, _POSTCOPY,
      // _POSTCOPY_FAILED
      static constexpr std::array<Reason, 9> r{Reason::user,     Reason::migration, Reason::io_error,
                                               Reason::watchdog, Reason::restored,  Reason::snapshot,
                                               Reason::api_error, Reason::postcopy, Reason::postcopy_failed};
      return {DomainState{Power::paused, detail >= 0 && detail < 9 ? r[static_cast<std::size_t>(detail)] : Reason::unknown}};
    }
    case LifecycleType::resumed: {
      // _UNPAUSED, _MIGRATED, _FROM_SNAPSHOT, _POSTCOPY, _POSTCOPY_FAILED
      static constexpr std::array<Reason, 5> r{Reason::user, Reason::migration, Reason::snapshot, Reason::postcopy,
                                               Reason::postcopy_failed};
      return {DomainState{Power::running, detail >= 0 && detail < 5 ? r[static_cast<std::size_t>(detail)] : Reason::unknown}};
    }
    case LifecycleType::stopped: {
      // _SHUTDOWN, _DESTROYED, _CRASHED, _MIGRATED, _SAVED, _FAILED, _FROM_SNAPSHOT
      static constexpr std::array<Reason, 7> r{Reason::shutdown, Reason::destroyed, Reason::crashed, Reason::migration,
                                               Reason::save,     Reason::failed,    Reason::snapshot};
      return {DomainState{Power::shut_off, detail >= 0 && detail < 7 ? r[static_cast<std::size_t>(detail)] : Reason::unknown}};
    }
    case LifecycleType::shutdown:
      // The guest finished its shutdown (or began it, with _GUEST/_HOST); QEMU still runs until
      // the STOPPED event that follows.
      return {DomainState{Power::shutting_down, Reason::shutdown}};
    case LifecycleType::pmsuspended:
      return {DomainState{Power::pm_suspended, Reason::unknown}};
    case LifecycleType::crashed:
      // A guest panic (_PANICKED, _CRASHLOADED). With on_crash=destroy a STOPPED (crashed)
      // follows; with preserve the domain stays crashed.
      return {DomainState{Power::crashed, Reason::crashed}};
  }
  return {};
}

std::string describe_lifecycle(int type, int detail) {
  static constexpr std::array<const char*, 9> names{"defined", "undefined", "started", "suspended", "resumed",
                                                    "stopped", "shutdown",  "pmsuspended", "crashed"};
  if (type < 0 || type >= 9) return fmt::format("type {} detail {}", type, detail);
  const auto c = lifecycle_change(type, detail);
  if (!c.state || c.state->reason == vm::Reason::unknown) return names[static_cast<std::size_t>(type)];
  return fmt::format("{} ({})", names[static_cast<std::size_t>(type)], vm::to_string(c.state->reason));
}

}  // namespace evos::daemon
