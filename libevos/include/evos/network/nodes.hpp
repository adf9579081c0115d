// Which hypervisors `evosctl net` and `cluster check` talk to (pure).
#pragma once

#include <evos/cluster/status.hpp>
#include <evos/error.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace evos::network {

// The VM agent's remote_hypervisor default: how one node reaches another's libvirtd.
inline constexpr std::string_view default_remote_hypervisor = "qemu+tcp://%n/system";

// `tpl` with every %n replaced by `node`. The node name is checked first: a host name (A-Z a-z
// 0-9 . - _), so it cannot change the URI's meaning ('@', ':', '/', '?').
Result<std::string> node_uri(std::string_view tpl, std::string_view node);

// This node's URI, then every other configured Corosync node's through `tpl`; without a
// membership (Corosync not running: not in a cluster) this node's only.
Result<std::vector<std::string>> default_hypervisors(const std::string& local_uri, const cluster::Membership* membership,
                                                     std::string_view tpl = default_remote_hypervisor);

}  // namespace evos::network
