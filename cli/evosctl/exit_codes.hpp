// evosctl's exit codes (docs/evosctl.md): the one mapping from evos::Errc.
#pragma once

#include <evos/error.hpp>

#include <fmt/core.h>

#include <cstdio>

namespace evosctl {

// out_of_sync: `evosctl mirror verify --wait` finished and found blocks that differ between the
// nodes (distinct from 1, which a failed verify returns).
// timeout: a deadline passed: a wait the command bounds itself (Errc::timeout: a VM that has not
// stopped, a verify still running), or a call still blocked at the global --timeout (a hung
// libvirtd, Corosync or tool: the watchdog in main() names the call and ends the process).
enum Exit : int {
  ok = 0,
  failure = 1,
  usage = 2,
  not_found = 3,
  denied = 4,
  unavailable = 5,
  out_of_sync = 6,
  timeout = 7,
  damaged_data = 8,  // backup verify/list: a backup's manifest or a chunk it needs is damaged or missing
  exists = 9,        // vm create: the VM exists already, as asked (nothing was changed)
};

inline int to_exit(evos::Errc code) {
  switch (code) {
    case evos::Errc::invalid_config:
    case evos::Errc::invalid_argument: return usage;
    case evos::Errc::not_found: return not_found;
    case evos::Errc::permission_denied: return denied;
    case evos::Errc::not_installed:
    case evos::Errc::unimplemented: return unavailable;
    case evos::Errc::timeout: return timeout;
    case evos::Errc::backend: return failure;
  }
  return failure;
}

inline int fail(const evos::Error& e) {
  fmt::print(stderr, "evosctl: {}\n", e.message());
  return to_exit(e.code());
}

}  // namespace evosctl
