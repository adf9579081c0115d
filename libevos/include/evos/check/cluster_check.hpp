// `evosctl cluster check`: for every HA VM and every node it may fail over to, whether that node
// has what the VM needs to start there: its networks (evos::network::check_vm_networks) and its
// definition and files (evos::vm::check_vm_storage). This header is the pure half: the report
// and its one kind of finding; cluster_check_io.hpp gathers the facts.
#pragma once

#include <evos/network/cluster_check.hpp>
#include <evos/vm/storage_check.hpp>

#include <optional>
#include <string>
#include <vector>

namespace evos::check {

// One problem, whichever part found it.
struct Finding {
  std::string resource;  // "vm-web1"
  std::string node;      // "" when it is not about one node (an unreadable definition)
  std::string problem;   // network::to_string or vm::to_string of the part's problem ("file-missing")
  std::string source;    // the network, bridge, file or device it is about
  std::string detail;    // a sentence for the administrator
  bool blocking = true;  // false: a warning, the VM would still start there
  bool operator==(const Finding&) const = default;
};

// Both parts' findings, networks first. A node the network part found unreachable is named once,
// by it: the storage part's node-unreachable findings say the same again.
std::vector<Finding> merge_findings(const std::vector<network::Finding>& networks, const std::vector<vm::StorageFinding>& storage);

struct NodeReport {
  std::string node;
  std::string hypervisor;            // the libvirt URI asked ("" when none could be made)
  std::optional<std::string> error;  // why it could not be asked
};
struct VmReport {
  std::string resource;
  std::string config;
  std::vector<std::string> running_on;  // Pacemaker's view
};
struct Report {
  std::vector<NodeReport> nodes;
  std::vector<VmReport> vms;
  std::vector<Finding> findings;
  [[nodiscard]] int blocking() const;
};

}  // namespace evos::check
