// Gathers what `cluster check` needs (evos/check/cluster_check.hpp): Pacemaker's status and
// configuration (its ocf:evos:vm primitives), Corosync's name for this node, each VM's
// definition, and from every node's own libvirtd its networks, host bridges and the files of the
// directories the VMs need.
#pragma once

#include <evos/check/cluster_check.hpp>
#include <evos/deadline.hpp>
#include <evos/error.hpp>

#include <string>

namespace evos::check {

struct Options {
  std::string local_hypervisor;   // this node's libvirt URI (evosctl -c)
  std::string remote_hypervisor;  // the other nodes', "%n" standing for the node's name
};

// Errors only when Pacemaker cannot be asked or its configuration is not one; a node that cannot
// be asked is a finding. The directory listings open read-write connections: a directory no
// storage pool covers is listed through a transient pool (LibvirtHypervisor::directory_files).
// A VM may fail over to any cluster node (location constraints are not read).
Result<Report> run_cluster_check(const Options& options, Deadline deadline);

}  // namespace evos::check
