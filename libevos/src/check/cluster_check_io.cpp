#include <evos/check/cluster_check_io.hpp>

#include <evos/cluster/corosync_membership.hpp>
#include <evos/cluster/pacemaker_tools.hpp>
#include <evos/cluster/vm_ha.hpp>
#include <evos/network/nodes.hpp>
#include <evos/virt/libvirt_hypervisor.hpp>
#include <evos/vm/identity_store.hpp>

#include <utility>

namespace evos::check {

Result<Report> run_cluster_check(const Options& options, Deadline deadline) {
  auto status = cluster::read_pacemaker_status(deadline);
  if (!status) return std::move(status).error();
  auto config = cluster::query_configuration(deadline);
  if (!config) return std::move(config).error();
  auto resources = cluster::vm_resources(*config);
  if (!resources) return std::move(resources).error();
  // This node is asked at the administrator's URI; without Corosync every node is "remote".
  std::string local;
  if (auto membership = cluster::read_membership(deadline))
    for (const auto& n : membership->nodes)
      if (n.nodeid == membership->local_nodeid) local = n.name;

  Report report;
  std::vector<network::HaVm> vms;
  std::vector<vm::VmStorage> storage;
  for (const auto& r : *resources) {
    if (r.config.empty()) continue;  // a primitive without its one required parameter: Pacemaker says so
    network::HaVm v{r.id, r.config, std::nullopt, "", {}};
    vm::VmStorage st{r.id, std::nullopt, r.promoted_mirror, ""};
    if (auto xml = vm::read_domain_xml(r.config)) {
      if (auto needs = vm::storage_needs(r.config, *xml)) st.needs = std::move(*needs);
      else st.needs_error = needs.error().message();
      v.xml = std::move(*xml);
    } else {
      v.read_error = xml.error().message();
    }
    if (const auto* s = status->resource(r.id)) v.running_on = s->nodes;
    report.vms.push_back({v.resource, v.config, v.running_on});
    vms.push_back(std::move(v));
    storage.push_back(std::move(st));
  }

  const auto directories = vm::directories_needed(storage);
  std::vector<network::NodeFacts> facts;
  std::vector<vm::NodeFiles> files;
  for (const auto& n : status->nodes) {
    auto remote = network::node_uri(options.remote_hypervisor, n.name);
    const std::string uri = n.name == local ? options.local_hypervisor : remote ? *remote : "";
    network::NodeFacts f{n.name, std::nullopt, {}, std::nullopt};
    vm::NodeFiles nf{n.name, std::nullopt, {}};
    auto hv = remote || n.name == local ? virt::connect_libvirt(uri, virt::Access::read_write)
                                        : Result<std::unique_ptr<virt::LibvirtHypervisor>>(remote.error());
    auto nets = hv ? (*hv)->networks() : Result<std::vector<network::NetworkInfo>>(hv.error());
    if (nets) {
      f.networks = std::move(*nets);
      if (auto br = (*hv)->host_bridges()) f.bridges = std::move(*br);
      for (const auto& dir : directories) {
        auto names = (*hv)->directory_files(dir);
        nf.directories[dir] = names ? vm::Listing{std::nullopt, std::move(*names)} : vm::Listing{names.error().message(), {}};
      }
    } else {
      f.error = nets.error().message();
      nf.error = f.error;
    }
    report.nodes.push_back({n.name, uri, f.error});
    facts.push_back(std::move(f));
    files.push_back(std::move(nf));
  }
  report.findings = merge_findings(network::check_vm_networks(vms, facts), vm::check_vm_storage(storage, files));
  return report;
}

}  // namespace evos::check
