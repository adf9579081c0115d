#include <evos/mirror/admin.hpp>
#include <evos/mirror/verify.hpp>

#include <fmt/core.h>

#include <algorithm>

namespace evos::mirror {

using drbd::ConnState;
using drbd::DiskState;
using drbd::ReplState;
using drbd::ResourceState;

namespace {

std::string percent(std::optional<double> p) { return p ? fmt::format(", {:.1f}% done", *p) : std::string(); }

}  // namespace

Result<void> may_start_verify(const ResourceState& s) {
  if (!s.exists) return make_error(Errc::not_found, "mirror {} is not up on this node", s.name);
  auto refuse = [&](const std::string& why) {
    return Error(Errc::invalid_argument, fmt::format("{}: cannot start an online verify: {}", s.name, why));
  };
  if (drbd::in_split_brain(s))
    return refuse(fmt::format("split brain with {}; resolve it first (evosctl mirror resolve {} --discard NODE)",
                              peer_of(s), s.name));
  if (s.connections.empty()) return refuse("no peer is configured, so there is nothing to compare with");
  if (drbd::is_verifying(s))
    return refuse(fmt::format("a verify is already running ({} here{}); follow it with evosctl mirror status {}",
                              drbd::is_verify_source(s) ? "VerifyS" : "VerifyT", percent(drbd::verify_progress(s)),
                              s.name));
  if (drbd::is_sync_source(s) || drbd::is_sync_target(s))
    return refuse(fmt::format("a resync is running ({} here{}, {} KiB left); wait until it has finished "
                              "(evosctl mirror status {})",
                              drbd::is_sync_source(s) ? "sending" : "receiving", percent(drbd::sync_progress(s)),
                              drbd::out_of_sync_kib(s), s.name));
  for (const auto& c : s.connections)
    if (c.state != ConnState::connected)
      return refuse(fmt::format("the peer {} is {}; verify compares both copies over the replication link, so the "
                                "peer must be connected",
                                drbd::peer_display_name(c), to_string(c.state)));
  for (const auto& d : s.devices)
    if (d.disk != DiskState::up_to_date)
      return refuse(fmt::format("the local disk is {}; verify needs UpToDate data on both nodes", to_string(d.disk)));
  for (const auto& c : s.connections) {
    if (c.peer_devices.empty()) return refuse(fmt::format("the peer {} has no volumes here", drbd::peer_display_name(c)));
    for (const auto& p : c.peer_devices) {
      if (p.peer_disk != DiskState::up_to_date)
        return refuse(fmt::format("the peer {}'s disk is {}; verify needs UpToDate data on both nodes", drbd::peer_display_name(c),
                                  to_string(p.peer_disk)));
      if (p.replication != ReplState::established)
        return refuse(fmt::format("replication with {} is {}; wait until it is Established", drbd::peer_display_name(c),
                                  to_string(p.replication)));
    }
  }
  if (s.devices.empty()) return refuse("it has no volumes");
  return {};
}

VerifyReport verify_report(const ResourceState& s) {
  VerifyReport r;
  r.resource = s.name;
  r.peer = peer_of(s);
  r.running = drbd::is_verifying(s);
  r.source = drbd::is_verify_source(s);
  r.done_percent = drbd::verify_progress(s);
  r.out_of_sync_kib = drbd::out_of_sync_kib(s);
  return r;
}

std::string out_of_sync_advice(const VerifyReport& r) {
  if (r.out_of_sync_kib == 0) return {};
  return fmt::format(
      "{}: {} KiB differ between this node and {}. DRBD has marked them out of sync but does not copy them by "
      "itself: to copy them from the Primary (the data in use), run 'drbdadm disconnect {} && drbdadm connect {}' "
      "on either node; if this node's data is the bad copy, 'evosctl mirror resync {}' here resyncs it fully from "
      "{}",
      r.resource, r.out_of_sync_kib, r.peer.empty() ? "the peer" : r.peer, r.resource, r.resource, r.resource,
      r.peer.empty() ? "the peer" : r.peer);
}

Result<void> start_verify(drbd::Control& control, const ResourceState& state, Deadline deadline) {
  if (auto ok = may_start_verify(state); !ok) return ok.error();
  if (auto r = control.verify(state.name, deadline); !r) return std::move(r).error().context("start the online verify");
  return {};
}

Result<VerifyReport> wait_verify(drbd::Control& control, const std::string& resource, Deadline deadline,
                                 std::chrono::milliseconds poll, const Sleep& sleep) {
  struct SteadySleeping final : TimeSource {
    const Sleep& sleep;
    explicit SteadySleeping(const Sleep& s) : sleep(s) {}
    Clock::time_point now() override { return Clock::now(); }
    void sleep_for(Millis d) override { sleep(d); }
  } time(sleep);
  return wait_verify(control, resource, deadline, poll, time);
}

Result<VerifyReport> wait_verify(drbd::Control& control, const std::string& resource, Deadline deadline,
                                 std::chrono::milliseconds poll, TimeSource& time) {
  for (;;) {
    // A read near the end still gets a few seconds, so the answer at the deadline is the progress
    // (not a killed drbdsetup).
    auto s = control.state(resource, time.after(std::max(time.remaining(deadline), std::chrono::milliseconds(5000))));
    if (!s) return std::move(s).error().context("wait for the online verify");
    if (!s->exists) return make_error(Errc::backend, "{} went down during the online verify", resource);
    const VerifyReport report = verify_report(*s);
    if (!report.running) {
      for (const auto& c : s->connections)
        if (c.state != ConnState::connected)
          return make_error(Errc::backend,
                            "{}: the online verify stopped because the peer {} is {}; {} KiB found out of sync so far",
                            resource, drbd::peer_display_name(c), to_string(c.state), report.out_of_sync_kib);
      return report;
    }
    if (time.expired(deadline))
      return make_error(Errc::timeout,
                        "{}: the online verify is still running ({}{}, {} KiB out of sync so far); it goes on: follow "
                        "it with evosctl mirror status {}",
                        resource, report.source ? "VerifyS" : "VerifyT", percent(report.done_percent),
                        report.out_of_sync_kib, resource);
    time.sleep_for(std::clamp(time.remaining(deadline), std::chrono::milliseconds(1), poll));
  }
}

}  // namespace evos::mirror
