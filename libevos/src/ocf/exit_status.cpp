#include <evos/ocf/exit_status.hpp>

namespace evos::ocf {

std::string_view to_string(Status status) noexcept {
  switch (status) {
    case Status::success: return "OCF_SUCCESS";
    case Status::err_generic: return "OCF_ERR_GENERIC";
    case Status::err_args: return "OCF_ERR_ARGS";
    case Status::err_unimplemented: return "OCF_ERR_UNIMPLEMENTED";
    case Status::err_perm: return "OCF_ERR_PERM";
    case Status::err_installed: return "OCF_ERR_INSTALLED";
    case Status::err_configured: return "OCF_ERR_CONFIGURED";
    case Status::not_running: return "OCF_NOT_RUNNING";
    case Status::running_promoted: return "OCF_RUNNING_PROMOTED";
    case Status::failed_promoted: return "OCF_FAILED_PROMOTED";
    case Status::degraded: return "OCF_DEGRADED";
    case Status::degraded_promoted: return "OCF_DEGRADED_PROMOTED";
  }
  return "OCF_UNKNOWN";
}

// No default: -Wswitch-enum flags a new Errc here (pacemaker's pcmk_rc2ocf habit).
Status to_status(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_config: return Status::err_configured;
    case Errc::invalid_argument: return Status::err_args;
    case Errc::not_installed: return Status::err_installed;
    case Errc::permission_denied: return Status::err_perm;
    case Errc::unimplemented: return Status::err_unimplemented;
    case Errc::not_found:
    case Errc::timeout:
    case Errc::backend: return Status::err_generic;
  }
  return Status::err_generic;
}

Outcome outcome_of(Health health, const std::string& why, bool promoted) {
  switch (health) {
    case Health::running: return {promoted ? Status::running_promoted : Status::success, {}};
    case Health::degraded: return {promoted ? Status::degraded_promoted : Status::degraded, why};
    case Health::stopped: return {Status::not_running, {}};
    case Health::failed: return {promoted ? Status::failed_promoted : Status::err_generic, why};
  }
  return {Status::err_generic, why};
}

}  // namespace evos::ocf
