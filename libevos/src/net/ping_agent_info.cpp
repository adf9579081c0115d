#include <evos/net/ping_agent_info.hpp>
#include <evos/net/ping_params.hpp>

namespace evos::net {

const ocf::AgentInfo& ping_agent_info() {
  static const ocf::AgentInfo info{
      .name = "ping",
      .version = EVOS_VERSION,
      .shortdesc = "Test-IP connectivity as a node attribute",
      .longdesc =
          "Probes test IPs (IPv4 and IPv6 mixed, DNS names resolved at start) with ICMP echo, all hosts at once, and "
          "records the score multiplier x (sum of the weights of the reachable hosts) as a node attribute through "
          "attrd_updater with dampening, for location rules: a node that reaches no test IP runs no VM, a node that "
          "reaches fewer than its peer hands its VMs over. A monitor takes at most the probe timeout, whatever the "
          "number of hosts down; it reports OCF_DEGRADED while any host is unreachable. Per-host loss and round-trip "
          "times are published as the private attribute <name>-detail. Run it as a clone.",
      .params = ping_param_specs(),
      .actions =
          {
              {.name = "start", .timeout_s = 20},
              {.name = "stop", .timeout_s = 20},
              {.name = "monitor", .timeout_s = 10, .interval_s = 2, .depth = 0},
              {.name = "validate-all", .timeout_s = 20},
              {.name = "reload-agent", .timeout_s = 20},
              {.name = "meta-data", .timeout_s = 5},
          },
  };
  return info;
}

}  // namespace evos::net
