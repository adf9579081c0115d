#include <evos/vm/agent_info.hpp>
#include <evos/vm/params.hpp>

namespace evos::vm {

const ocf::AgentInfo& agent_info() {
  static const ocf::AgentInfo info{
      .name = "vm",
      .version = EVOS_VERSION,
      .shortdesc = "A libvirt virtual machine",
      .longdesc =
          "Runs one libvirt domain (a virtual machine) as a cluster resource, through the libvirt API on one "
          "connection: no virsh, no shell. Supports live migration (allow-migrate=true) peer-to-peer, with "
          "downtime, bandwidth, auto-converge and post-copy control, carrying snapshot metadata along. A running "
          "domain is reported running even if its config file is unreadable; a domain paused by an I/O error is "
          "reported failed. A libvirtd that is starting or restarting (its socket missing or refusing) is waited "
          "for: by a probe for up to half its timeout, by other actions for up to 5 s; one that does not answer "
          "is an error (1), never 'not running'. Every action is bounded by its operation timeout.",
      .params = param_specs(),
      .actions =
          {
              {.name = "start", .timeout_s = 90},
              {.name = "stop", .timeout_s = 90},
              {.name = "monitor", .timeout_s = 30, .interval_s = 10, .depth = 0},
              {.name = "monitor", .timeout_s = 30, .interval_s = 60, .depth = 10},
              {.name = "migrate_to", .timeout_s = 120},
              {.name = "migrate_from", .timeout_s = 60},
              {.name = "validate-all", .timeout_s = 10},
              {.name = "reload-agent", .timeout_s = 10},
              {.name = "meta-data", .timeout_s = 5},
          },
  };
  return info;
}

}  // namespace evos::vm
