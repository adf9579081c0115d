// The pure half of `evosctl cluster ...` and `evosctl vm ha|migrate`: input checks and the
// rendering of crm-templates/ (cluster-base.crm, vm-shared.crm, testip.crm, fencing-race.crm)
// into the crmsh text that is loaded. Every check runs before anything touches the cluster, and
// a value that passes can never change a template's syntax. Bad input is Errc::invalid_argument
// naming the option and the value.
#pragma once

#include <evos/error.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace evos::cluster {

// Domain names become Pacemaker ids and crmsh words: a letter first, then letters, digits, '_',
// '.', '-'; at most 64 bytes.
Result<void> check_vm_name(std::string_view name);

// The VM's resource id (vm-shared.crm, vm-drbd.crm): "vm-" + domain.
std::string vm_resource_id(std::string_view domain);

// A node name given on the command line (Pacemaker node names: evos::text token syntax).
Result<void> check_node_name(std::string_view node, std::string_view option);

// cluster-base.crm.
struct ClusterDefaults {
  std::string priority_fencing_delay = "5s";
  std::string transition_delay = "100ms";
};
Result<std::string> render_cluster_base(std::string_view tpl, const ClusterDefaults& d);

// vm-shared.crm.
struct VmHaSettings {
  std::string name;
  std::string config;  // the domain XML's path on shared storage
  bool migration_unsafe = false;
  bool force_stop = false;
  int shutdown_timeout_s = 0;
};
Result<std::string> render_vm_shared(std::string_view tpl, const VmHaSettings& s);

// testip.crm, block by block: the clone once, the rules once per VM and per mirror clone. The
// host list is parsed by ocf:evos:ping's own parser, so what is accepted is what the agent accepts.
struct TestipSettings {
  std::string hosts;
  std::vector<std::string> vms;
  std::vector<std::string> mirrors;
};
struct RenderedTestip {
  std::string text;       // crmsh, comments left out
  std::string host_list;  // the canonical host list written into the clone
};
Result<RenderedTestip> render_testip(std::string_view tpl, const TestipSettings& s);

// NODE=DEVICE arguments paired with the nodes of --peers: one device per node, every node
// covered, no unknown node; names in evos::text token syntax.
Result<std::map<std::string, std::string>> pair_fence_devices(const std::vector<std::string>& node_eq_device,
                                                               const std::set<std::string>& nodes);

// fencing-race.crm. The parameters are checked by fence_evos_race's own parser (RaceParams), so
// what is accepted is what the device accepts; exactly two nodes, one fence device each.
struct FenceRaceSettings {
  std::string peers;
  std::string test_ips;
  std::vector<std::string> devices;  // NODE=DEVICE
  std::string delay = "5s";
};
struct RenderedFenceRace {
  std::string text;                           // crmsh, comments left out
  std::map<std::string, std::string> device_of;  // node -> its real fence device
};
Result<RenderedFenceRace> render_fence_race(std::string_view tpl, const FenceRaceSettings& s);

}  // namespace evos::cluster
