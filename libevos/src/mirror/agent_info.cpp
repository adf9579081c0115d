#include <evos/mirror/agent_info.hpp>
#include <evos/mirror/params.hpp>

namespace evos::mirror {

const ocf::AgentInfo& mirror_agent_info() {
  static const ocf::AgentInfo info{
      .name = "mirror",
      .version = EVOS_VERSION,
      .shortdesc = "A DRBD 9 mirror as a promotable clone",
      .longdesc =
          "Runs one DRBD 9 resource replicated between the two nodes, as a promotable clone (promoted-max=1): "
          "Promoted is DRBD's Primary. The promotion score is written with crm_attribute --promotion, only when it "
          "changes: 10000 for UpToDate data with the peer connected (the sync source of a resync included), 1000 for "
          "UpToDate data with the peer away, 100 for a Secondary beside a running Primary (it never outranks it), 10 for a sync "
          "target reading through its UpToDate peer, and none at all otherwise, so only a node with UpToDate data "
          "is ever promoted. Monitors report OCF_DEGRADED (190) and "
          "OCF_DEGRADED_PROMOTED (191) while the mirror lacks redundancy (the peer away, a resync, a split brain, I/O "
          "frozen by fencing) and OCF_FAILED_PROMOTED (9) for a Primary without access to UpToDate data. Promote "
          "refuses at once, with DRBD's reason, instead of retrying until the timeout. Demote and stop refuse while "
          "this node is the sync source of a running resync (protect_sync_source). Two Primaries exist only during a "
          "live migration: set promoted-max=2 for it, and the agent opens allow-two-primaries for the second "
          "promotion and closes it again at the demotion. No shell: drbdadm, drbdsetup and crm_attribute run by "
          "argv, each bounded by the operation timeout. notify=true is recommended (the Primary opens the "
          "dual-primary window in the pre-promote notification) but not required.",
      .params = mirror_param_specs(),
      .actions =
          {
              {.name = "start", .timeout_s = 60},
              {.name = "stop", .timeout_s = 60},
              {.name = "promote", .timeout_s = 60},
              {.name = "demote", .timeout_s = 60},
              {.name = "notify", .timeout_s = 30},
              {.name = "monitor", .timeout_s = 20, .interval_s = 10, .role = "Promoted"},
              {.name = "monitor", .timeout_s = 20, .interval_s = 20, .role = "Unpromoted"},
              {.name = "validate-all", .timeout_s = 10},
              {.name = "reload-agent", .timeout_s = 10},
              {.name = "meta-data", .timeout_s = 5},
          },
  };
  return info;
}

}  // namespace evos::mirror
