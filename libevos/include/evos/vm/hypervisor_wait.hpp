// How long an action waits for a hypervisor daemon that does not answer yet. Pure.
#pragma once

#include <evos/deadline.hpp>

#include <string_view>

namespace evos::vm {

// A libvirtd that is starting (the node was just power-cycled by fencing and Pacemaker probes
// it) or restarting (systemd's Restart= after a crash) does not answer for a moment. An answer
// given then would be wrong either way: "not running" (7) could hide a QEMU that outlived its
// libvirtd, and an error (1) on a probe makes Pacemaker think the VM active here too, stop it on
// the healthy node and fence this one. So the action waits for libvirtd:
//  - a probe (monitor, interval 0) up to half of what is left of its timeout: at boot, nothing
//    is gained by answering early;
//  - any other action at most `other_cap` (5 s) and never more than half of what is left, so a
//    libvirtd that stays dead still fails the action well within its timeout (then a stop
//    failure leads to fencing, as it must).
// Returns the time to keep retrying the connection (zero = one attempt).
inline constexpr Millis other_cap{5000};
Millis hypervisor_wait(std::string_view action, bool probe, Millis remaining);

}  // namespace evos::vm
