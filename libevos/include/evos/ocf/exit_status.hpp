// OCF exit codes (OCF Resource Agent API 1.1, "Return codes"; 8/9 and 190/191 as Pacemaker
// defines them) and the one conversion from evos::Errc.
#pragma once

#include <evos/error.hpp>
#include <evos/health.hpp>

#include <string>
#include <string_view>

namespace evos::ocf {

enum class Status : int {
  // OCF 1.1, "Return codes"
  success = 0, err_generic = 1, err_args = 2, err_unimplemented = 3, err_perm = 4, err_installed = 5,
  err_configured = 6, not_running = 7,
  // Pacemaker's: promotable clones (8, 9) and degraded states (190, 191)
  running_promoted = 8, failed_promoted = 9, degraded = 190, degraded_promoted = 191,
};

std::string_view to_string(Status status) noexcept;

// The OCF meaning of an evos error. Services decide the cases where "not found" means success
// (stop) or "not running" (monitor) before an error ever reaches this mapping.
Status to_status(Errc code) noexcept;

// What an action ends with: the exit code and, for failures, the one-line exit reason shown by
// crm_mon (printed after OCF_EXIT_REASON_PREFIX).
struct Outcome {
  Status status = Status::success;
  std::string reason;

  static Outcome from(const Error& error) { return {to_status(error.code()), error.message()}; }
  static Outcome from(const Result<void>& result) { return result ? Outcome{} : from(result.error()); }
};

// What a health verdict returns (OCF 1.1 "Return codes"; for a promoted instance of a promotable
// clone Pacemaker's RUNNING_PROMOTED, DEGRADED_PROMOTED and FAILED_PROMOTED). Not running is 7
// whatever the role; `why` becomes the exit reason of anything but running and stopped.
Outcome outcome_of(Health health, const std::string& why, bool promoted = false);

}  // namespace evos::ocf
