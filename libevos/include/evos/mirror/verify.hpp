// Online verify of a mirror (`evosctl mirror verify`): DRBD compares both copies block by block
// over the replication link (`drbdadm verify`, the net section's `verify-alg`). The node that
// starts it is VerifyS, its peer VerifyT; blocks that differ are counted as out of sync on both
// sides. Verify resyncs nothing: the administrator decides which copy is good.
//
// Pure decisions (may a verify start, what the state says about it, what to do next), plus
// `start_verify` and `wait_verify`, which act through the drbd::Control port.
#pragma once

#include <evos/deadline.hpp>
#include <evos/drbd/control.hpp>
#include <evos/drbd/state.hpp>
#include <evos/error.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace evos::mirror {

// Whether an online verify may start here: the resource is up (else not_found), not in split
// brain, the peer connected, both disks UpToDate, and no resync or verify running. Every refusal
// is invalid_argument and names the problem and what to do.
Result<void> may_start_verify(const drbd::ResourceState& state);

// What the state says about a verify, running or finished.
struct VerifyReport {
  std::string resource;
  std::string peer;
  bool running = false;                // VerifyS or VerifyT
  bool source = false;                 // this node started it (VerifyS)
  std::optional<double> done_percent;  // while running
  std::uint64_t out_of_sync_kib = 0;   // found so far (DRBD's out-of-sync counter)
};
VerifyReport verify_report(const drbd::ResourceState& state);

// The next step once a verify found blocks out of sync (empty when none were found): DRBD does
// not resync them by itself.
std::string out_of_sync_advice(const VerifyReport& report);

// Checks may_start_verify on `state` (read just before) and runs `control.verify`.
Result<void> start_verify(drbd::Control& control, const drbd::ResourceState& state, Deadline deadline);

// Reads the state until no verify runs any more and reports the result. Between reads it calls
// `sleep` with at most `poll` (less when the deadline is closer); each read gets at least 5 s,
// also at the deadline. Errors: timeout (with the
// progress) when the deadline passes first; backend when the verify stopped because the peer
// went away or the resource went down (the count is then incomplete).
// The deadline is measured on `time`, which also sleeps (tests pass a fake).
Result<VerifyReport> wait_verify(drbd::Control& control, const std::string& resource, Deadline deadline,
                                 std::chrono::milliseconds poll, TimeSource& time);
// The same on the steady clock, sleeping through `sleep`.
using Sleep = std::function<void(std::chrono::milliseconds)>;
Result<VerifyReport> wait_verify(drbd::Control& control, const std::string& resource, Deadline deadline,
                                 std::chrono::milliseconds poll, const Sleep& sleep);

}  // namespace evos::mirror
