#include <evos/backup/stop_control.hpp>

#include <fmt/core.h>

#include <algorithm>

namespace evos::backup {
namespace {

using namespace std::chrono_literals;
constexpr Millis poll_interval = 200ms;

// Off for a backup: nothing writes the disks any more.
bool active(vm::Power p) { return p != vm::Power::absent && p != vm::Power::shut_off && p != vm::Power::crashed; }

}  // namespace

Result<void> HypervisorStopControl::wait(Deadline deadline, bool running) {
  for (;;) {
    auto st = hv_.state(vm_);
    if (!st) return std::move(st).error();
    if (running ? st->power == vm::Power::running : !active(st->power)) return {};
    if (time_.expired(deadline))
      return make_error(Errc::timeout, "'{}' is still {} at the deadline", vm_, vm::describe(*st));
    time_.sleep_for(std::min<Millis>(poll_interval, time_.remaining(deadline) + 1ms));
  }
}

Result<void> HypervisorStopControl::stop(Deadline deadline) {
  auto st = hv_.state(vm_);
  if (!st) return std::move(st).error();
  if (st->power == vm::Power::absent) return make_error(Errc::not_found, "'{}' is not defined on this host", vm_);
  // libvirt's default way, as virsh shutdown without --mode: the guest agent when the domain has
  // one configured, ACPI otherwise.
  if (auto r = hv_.request_shutdown(vm_, vm::ShutdownMode::hypervisor_default); !r)
    return std::move(r).error().context(fmt::format("ask '{}' to shut down", vm_));
  if (auto w = wait(deadline, false); !w) {
    if (w.error().code() == Errc::timeout)
      return make_error(Errc::timeout, "'{}' did not shut down before the stop timeout: it is left running, no backup taken",
                        vm_);
    return std::move(w).error();
  }
  return {};
}

Result<void> HypervisorStopControl::start(Deadline deadline) {
  if (auto r = hv_.start(vm_); !r) return std::move(r).error().context(fmt::format("start '{}' again", vm_));
  if (auto w = wait(deadline, true); !w) return std::move(w).error().context(fmt::format("start '{}' again", vm_));
  return {};
}

}  // namespace evos::backup
