// A domain's state as libvirt reports it (virDomainGetState: state + reason), in evos terms, and
// the pure decision of what that state means for the resource.
#pragma once

#include <evos/health.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace evos::vm {

enum class Power {
  absent,         // no such domain on this hypervisor
  no_state,
  running,
  blocked,
  paused,
  shutting_down,  // a shutdown was requested; still running
  shut_off,
  crashed,        // stopped in a crashed state (on_crash=preserve)
  pm_suspended,   // the guest suspended itself
};

// The reasons that decide something (libvirt's vir*Reason enums, reduced).
enum class Reason {
  unknown,
  booted,
  user,           // an administrator paused or stopped it
  migration,      // paused or stopped by a migration
  save,
  snapshot,
  dump,
  io_error,       // paused: a disk returned an I/O error (werror/rerror=stop)
  watchdog,
  shutdown,       // stopped by a guest shutdown
  destroyed,
  crashed,        // shut off or paused after a guest crash/panic
  failed,         // shut off: the hypervisor failed to start or lost it
  starting_up,
  postcopy,       // paused during post-copy migration (still progressing)
  postcopy_failed,
  api_error,
  restored,
};

struct DomainState {
  Power power = Power::absent;
  Reason reason = Reason::unknown;
};

std::string_view to_string(Power power) noexcept;
std::string_view to_string(Reason reason) noexcept;
std::string describe(const DomainState& state);  // "paused (I/O error)"

// What a state means for an HA resource (evos/health.hpp).
using evos::Health;

struct Assessment {
  Health health;
  std::string why;
};

// Unlike VirtualDomain, a domain paused by an I/O error or a watchdog is a failure, not
// "running": it holds its disk locks but serves nothing, and only recovery (stop, start) helps.
Assessment assess(const DomainState& state);

// What a deep monitor (OCF_CHECK_LEVEL >= 10) adds: the hypervisor's control channel to the
// domain (virDomainGetControlInfo) and any disk errors it recorded (virDomainGetDiskErrors).
struct DeepCheck {
  bool control_ok = true;
  std::string control_state;            // "ok", "job", "occupied", "error (monitor)"
  std::vector<std::string> disk_errors; // "vda: no space left"
};

Assessment assess_deep(const Assessment& shallow, const DeepCheck& deep);

}  // namespace evos::vm
