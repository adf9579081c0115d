// evos::drbd::Control: what mirror logic needs from DRBD on this node. The adapter
// (evos/drbd/drbdsetup_control.hpp) runs drbdadm and drbdsetup; tests use fakes or the drbd
// simulator. Every call takes a deadline.
//
// Also here, pure: what a failed drbdadm/drbdsetup run means in evos terms.
#pragma once

#include <evos/deadline.hpp>
#include <evos/drbd/state.hpp>
#include <evos/error.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::drbd {

class Control {
 public:
  virtual ~Control() = default;

  // drbdadm up / down / adjust <resource>.
  virtual Result<void> up(const std::string& resource, Deadline deadline) = 0;
  virtual Result<void> down(const std::string& resource, Deadline deadline) = 0;
  virtual Result<void> adjust(const std::string& resource, Deadline deadline) = 0;
  // drbdadm primary [--force] / secondary.
  virtual Result<void> primary(const std::string& resource, bool force, Deadline deadline) = 0;
  virtual Result<void> secondary(const std::string& resource, Deadline deadline) = 0;
  // drbdadm connect [--discard-my-data] / disconnect.
  virtual Result<void> connect(const std::string& resource, bool discard_my_data, Deadline deadline) = 0;
  virtual Result<void> disconnect(const std::string& resource, Deadline deadline) = 0;
  // drbdadm invalidate (full resync from the peer) / outdate (mark the local data stale).
  virtual Result<void> invalidate(const std::string& resource, Deadline deadline) = 0;
  virtual Result<void> outdate(const std::string& resource, Deadline deadline) = 0;
  // drbdadm verify: starts an online verify with the peer (this node becomes VerifyS) and returns;
  // progress and the out-of-sync blocks it finds show in `state`. It resyncs nothing.
  virtual Result<void> verify(const std::string& resource, Deadline deadline) = 0;
  // drbdadm net-options --allow-two-primaries=yes|no: opens and closes a live-migration window.
  virtual Result<void> allow_two_primaries(const std::string& resource, bool allow, Deadline deadline) = 0;

  // `drbdsetup events2 --now --statistics <resource>` folded into the state model. A resource
  // that is not up is a state (exists == false), not an error.
  virtual Result<ResourceState> state(const std::string& resource, Deadline deadline) = 0;
  // `drbdsetup status --json <resource|all>`; a resource that is not up gives an empty list.
  virtual Result<std::vector<ResourceState>> status(const std::string& resource, Deadline deadline) = 0;
};

// DRBD's state-change error codes (SS_* in drbd.h) that decide something.
inline constexpr int ss_two_primaries = -1;        // "Multiple primaries not allowed by config"
inline constexpr int ss_no_up_to_date_disk = -2;   // "Need access to UpToDate data"
inline constexpr int ss_resync_running = -8;       // "Can not start OV/resync since it is already active"
inline constexpr int ss_no_verify_alg = -14;       // "Need a verify algorithm to start online verify"
inline constexpr int ss_need_connection = -15;     // "Need a connection to start verify or resync"
// drbdsetup's exit codes (drbdsetup.c): a kernel error, a refused state change, the refusal for
// lack of UpToDate data (what ocf:linbit:drbd tests for), a local error.
inline constexpr int exit_kernel_error = 10;
inline constexpr int exit_state_change_failed = 11;
inline constexpr int exit_no_up_to_date_data = 17;
inline constexpr int exit_local_error = 20;

// The "(-2)" of "State change failed: (-2) Need access to UpToDate data", if present.
std::optional<int> state_change_code(std::string_view stderr_text);
// The "(158)" of "Failure: (158) Unknown resource", if present.
std::optional<int> kernel_error_code(std::string_view stderr_text);

// The Error for a drbdadm/drbdsetup run that exited non-zero. `command` is the program and its
// arguments as text (for the message). Refusals are backend errors whose message says why;
// unknown resources are not_found, a missing kernel module not_installed, configuration errors
// from drbdadm invalid_config.
Error classify_failure(std::string_view command, int exit_code, std::string_view stderr_text);

// Resource names evos passes to drbdadm (the rule of mirror_config.hpp): no option injection.
std::optional<std::string> resource_name_problem(std::string_view name);

}  // namespace evos::drbd
