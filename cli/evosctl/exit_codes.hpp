// evosctl's exit codes (docs/evosctl.md): the one mapping from evos::Errc.
#pragma once

#include <evos/error.hpp>

#include <fmt/core.h>

#include <cstdio>

namespace evosctl {

// out_of_sync: `evosctl mirror verify --wait` finished and found blocks that differ between the
// nodes (distinct from 1, which a failed or timed-out verify returns).
// timeout: the command's deadline (--timeout) passed while a call was still blocked (a hung
// libvirtd, Corosync or tool): the watchdog in main() names the call and ends the process. A
// wait the command bounds itself and reports as an error (Errc::timeout) stays 1.
enum Exit : int {
  ok = 0,
  failure = 1,
  usage = 2,
  not_found = 3,
  denied = 4,
  unavailable = 5,
  out_of_sync = 6,
  timeout = 7,
};

inline int to_exit(evos::Errc code) {
  switch (code) {
    case evos::Errc::invalid_config:
    case evos::Errc::invalid_argument: return usage;
    case evos::Errc::not_found: return not_found;
    case evos::Errc::permission_denied: return denied;
    case evos::Errc::not_installed:
    case evos::Errc::unimplemented: return unavailable;
    case evos::Errc::timeout:
    case evos::Errc::backend: return failure;
  }
  return failure;
}

inline int fail(const evos::Error& e) {
  fmt::print(stderr, "evosctl: {}\n", e.message());
  return to_exit(e.code());
}

}  // namespace evosctl
