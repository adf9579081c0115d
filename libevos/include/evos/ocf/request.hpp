// One agent invocation as OCF 1.1 and Pacemaker describe it: the action (argv[1]) and the
// environment (OCF_RESKEY_*, OCF_RESKEY_CRM_meta_*, OCF_CHECK_LEVEL, OCF_RESOURCE_INSTANCE).
#pragma once

#include <evos/deadline.hpp>
#include <evos/error.hpp>
#include <evos/ocf/metadata.hpp>

#include <map>
#include <string>

namespace evos::ocf {

struct Request {
  std::string action;
  std::string instance;                         // OCF_RESOURCE_INSTANCE
  std::map<std::string, std::string> reskeys;   // OCF_RESKEY_<name> without the prefix
  Millis timeout{0};                            // OCF_RESKEY_CRM_meta_timeout, or the declared default
  Millis interval{0};                           // OCF_RESKEY_CRM_meta_interval; 0 is a probe for monitor
  int check_level = 0;                          // OCF_CHECK_LEVEL
  std::string migrate_source;                   // OCF_RESKEY_CRM_meta_migrate_source
  std::string migrate_target;                   // OCF_RESKEY_CRM_meta_migrate_target
  std::string exit_reason_prefix = "ocf-exit-reason:";

  [[nodiscard]] bool is_probe() const { return action == "monitor" && interval.count() == 0; }
  [[nodiscard]] std::string meta(const std::string& name) const;  // CRM_meta_<name>, or ""
};

// How much of the operation timeout is kept back from the handler: enough to abort cleanly and
// report, small against any sane timeout.
Millis guard_time(Millis timeout);

// Builds the request from the action and the environment (name → value). The timeout falls back
// to the action's declared timeout, so a manual run is bounded as well.
Result<Request> parse_request(std::string action, const std::map<std::string, std::string>& environment,
                              const AgentInfo& info);

}  // namespace evos::ocf
