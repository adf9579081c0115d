#include "net_commands.hpp"

#include "exit_codes.hpp"

#include <evos/check/cluster_check_io.hpp>
#include <evos/cluster/corosync_membership.hpp>
#include <evos/network/admin.hpp>
#include <evos/network/nodes.hpp>
#include <evos/virt/libvirt_hypervisor.hpp>

#include <fmt/core.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace evosctl {
namespace {

using evos::Deadline;
using evos::Errc;
using evos::Error;
namespace network = evos::network;
namespace virt = evos::virt;

struct NetOptions {
  std::string name;
  std::string nat;
  std::string bridge;
  std::string dhcp_range;
  std::vector<std::string> hosts;
  std::vector<std::string> hypervisors;
  bool yes = false;
};

// --hypervisor URIs as given; by default this node's (-c) and, when Corosync runs, every other
// configured node's (evos::network::default_hypervisors).
evos::Result<std::vector<std::string>> hypervisor_uris(const GlobalOptions& g, const std::vector<std::string>& given) {
  if (!given.empty()) return given;
  auto m = evos::cluster::read_membership(Deadline::after(std::chrono::seconds(5)).earliest(g.deadline));
  return network::default_hypervisors(g.hypervisor, m ? &*m : nullptr);
}

struct Connected {
  std::vector<std::unique_ptr<virt::LibvirtHypervisor>> hvs;
  std::vector<network::Node> nodes;
};

evos::Result<Connected> connect_all(const std::vector<std::string>& uris, virt::Access access) {
  Connected c;
  std::set<std::string> seen;
  for (const auto& uri : uris) {
    if (!seen.insert(uri).second) return Error(Errc::invalid_argument, fmt::format("--hypervisor {} is given twice", uri));
    auto hv = virt::connect_libvirt(uri, access);
    if (!hv) return std::move(hv).error();
    c.hvs.push_back(std::move(*hv));
  }
  for (std::size_t i = 0; i < uris.size(); ++i) c.nodes.push_back({uris[i], c.hvs[i].get()});
  return c;
}

int create(const GlobalOptions& g, const NetOptions& o) {
  if (o.nat.empty() == o.bridge.empty())
    return fail(Error(Errc::invalid_argument, "net create: give either --nat CIDR or --bridge BRIDGE"));
  if (!o.bridge.empty() && (!o.dhcp_range.empty() || !o.hosts.empty()))
    return fail(Error(Errc::invalid_argument, "net create: --dhcp-range and --host belong to --nat networks"));
  auto spec = o.bridge.empty()
                  ? network::nat_spec({o.name, o.nat, o.dhcp_range.empty() ? std::nullopt : std::optional(o.dhcp_range), o.hosts})
                  : network::bridge_spec(o.name, o.bridge);
  if (!spec) return fail(spec.error());
  auto uris = hypervisor_uris(g, o.hypervisors);
  if (!uris) return fail(uris.error());
  auto c = connect_all(*uris, virt::Access::read_write);
  if (!c) return fail(c.error());
  auto done = network::create_network(*spec, c->nodes);
  if (!done) return fail(done.error());
  for (const auto& r : *done)
    fmt::print("network '{}' ({}) on {}: {}\n", spec->name, network::summary(*spec), r.node,
               r.action == network::CreateAction::created  ? "created"
               : r.action == network::CreateAction::started ? "already exists, started"
                                                            : "already exists");
  return ok;
}

int remove(const GlobalOptions& g, const NetOptions& o) {
  if (auto v = network::check_name(o.name); !v) return fail(v.error());
  auto uris = hypervisor_uris(g, o.hypervisors);
  if (!uris) return fail(uris.error());
  if (!o.yes)
    return fail(Error(Errc::invalid_argument, fmt::format("net delete {} removes the network from {}: add --yes to do it", o.name,
                                                          fmt::join(*uris, ", "))));
  auto c = connect_all(*uris, virt::Access::read_write);
  if (!c) return fail(c.error());
  auto done = network::delete_network(o.name, c->nodes);
  if (!done) return fail(done.error());
  for (const auto& r : *done) fmt::print("network '{}' on {}: {}\n", o.name, r.node, r.existed ? "deleted" : "was not defined");
  return ok;
}

nlohmann::json spec_json(const network::NetworkSpec& s) {
  nlohmann::json hosts = nlohmann::json::array();
  for (const auto& h : s.hosts) hosts.push_back({{"mac", h.mac}, {"ip", h.ip}});
  nlohmann::json j = {{"kind", std::string(network::to_string(s.kind))}, {"forward_mode", s.forward_mode}, {"bridge", s.bridge}};
  if (!s.mac.empty()) j["mac"] = s.mac;
  if (!s.address.empty()) {
    j["address"] = s.address;
    j["prefix"] = s.prefix;
  }
  j["dhcp_range"] = s.dhcp_start.empty() ? nlohmann::json(nullptr) : nlohmann::json{{"start", s.dhcp_start}, {"end", s.dhcp_end}};
  j["hosts"] = hosts;
  return j;
}

int list(const GlobalOptions& g, const NetOptions& o) {
  auto given = hypervisor_uris(g, o.hypervisors);
  if (!given) return fail(given.error());
  const auto& uris = *given;
  std::vector<network::NodeListing> listings;
  nlohmann::json errors = nlohmann::json::array();
  int failed = 0;
  for (const auto& uri : uris) {
    auto hv = virt::connect_libvirt(uri, virt::Access::read_only);
    auto nets = hv ? (*hv)->networks() : evos::Result<std::vector<network::NetworkInfo>>(hv.error());
    if (!nets) {
      ++failed;
      if (!g.json) fmt::print(stderr, "evosctl: {}\n", nets.error().message());
      errors.push_back({{"hypervisor", uri}, {"error", nets.error().message()}});
      continue;
    }
    listings.push_back({uri, std::move(*nets)});
  }
  const auto all = network::list_across(listings);
  if (g.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& n : all) {
      nlohmann::json nodes = nlohmann::json::array();
      for (const auto& x : n.nodes) {
        nlohmann::json jn = {{"hypervisor", x.node}, {"defined", x.defined}, {"active", x.active}, {"autostart", x.autostart}};
        jn["definition"] = x.spec ? spec_json(*x.spec) : nlohmann::json(nullptr);
        nodes.push_back(std::move(jn));
      }
      arr.push_back({{"name", n.name}, {"identical", n.identical && failed == 0}, {"problems", n.problems}, {"nodes", nodes}});
    }
    fmt::print("{}\n", nlohmann::json{{"hypervisors", uris}, {"unreachable", errors}, {"networks", arr}}.dump(2));
  } else {
    fmt::print("{:<20} {:<10} {:<44} {}\n", "NETWORK", "IDENTICAL", "DEFINITION", "NODES");
    for (const auto& n : all) {
      std::string def = "-";
      for (const auto& x : n.nodes)
        if (x.spec) {
          def = network::summary(*x.spec);
          break;
        }
      std::string where;
      for (const auto& x : n.nodes)
        where += fmt::format("{}{}={}", where.empty() ? "" : " ", x.node, !x.defined ? "missing" : x.active ? "active" : "inactive");
      fmt::print("{:<20} {:<10} {:<44} {}\n", n.name, n.identical && failed == 0 ? "yes" : "no", def, where);
      for (const auto& p : n.problems) fmt::print("  {}\n", p);
    }
  }
  return failed == 0 ? ok : unavailable;
}

struct CheckOptions {
  std::string remote{network::default_remote_hypervisor};
  int timeout_s = 30;
};

// `cluster check`: evos::check::run_cluster_check over Pacemaker, Corosync and every node's
// libvirtd; 0 when nothing blocks a failover, 1 when something does.
int cluster_check(const GlobalOptions& g, const CheckOptions& o) {
  const auto deadline = Deadline::after(std::chrono::seconds(o.timeout_s)).earliest(g.deadline);
  auto report = evos::check::run_cluster_check({g.hypervisor, o.remote}, deadline);
  if (!report) return fail(report.error());
  const int blocking = report->blocking();
  if (g.json) {
    nlohmann::json nodes = nlohmann::json::array(), vms = nlohmann::json::array(), findings = nlohmann::json::array();
    for (const auto& n : report->nodes)
      nodes.push_back({{"node", n.node}, {"hypervisor", n.hypervisor}, {"error", n.error ? nlohmann::json(*n.error) : nlohmann::json(nullptr)}});
    for (const auto& v : report->vms) vms.push_back({{"resource", v.resource}, {"config", v.config}, {"running_on", v.running_on}});
    for (const auto& f : report->findings)
      findings.push_back({{"resource", f.resource}, {"node", f.node}, {"problem", f.problem}, {"source", f.source}, {"detail", f.detail},
                          {"blocking", f.blocking}});
    fmt::print("{}\n", nlohmann::json{{"nodes", nodes}, {"vms", vms}, {"findings", findings}, {"ok", blocking == 0}}.dump(2));
  } else {
    for (const auto& f : report->findings)
      fmt::print("{} {}{}: {}\n", f.blocking ? "PROBLEM" : "WARNING", f.resource, f.node.empty() ? "" : " on " + f.node, f.detail);
    fmt::print("{} VM(s) on {} node(s): {}\n", report->vms.size(), report->nodes.size(),
               blocking == 0 ? "every network, definition and disk is available on every node" : fmt::format("{} problem(s)", blocking));
  }
  return blocking == 0 ? ok : failure;
}

}  // namespace

void add_net_commands(CLI::App& app, GlobalOptions& global, std::function<int()>& run) {
  auto o = std::make_shared<NetOptions>();
  auto* net = app.add_subcommand("net", "libvirt networks (bridge, NAT), defined identically on every node");
  net->require_subcommand(1);
  const auto hypervisors = [o](CLI::App* c) {
    c->add_option("--hypervisor", o->hypervisors,
                  "libvirt URI of a node to act on (repeatable; default: -c and every other Corosync node at qemu+tcp://NODE/system)");
  };

  auto* cr = net->add_subcommand("create", "Define, start and autostart a network on every node (again: 'already exists')");
  cr->add_option("NAME", o->name, "Network name")->required();
  cr->add_option("--nat", o->nat, "NAT network: the gateway's address and prefix, e.g. 192.168.100.1/24");
  cr->add_option("--bridge", o->bridge, "Bridge network onto this host bridge (set up on every node)");
  cr->add_option("--dhcp-range", o->dhcp_range, "FIRST-LAST addresses DHCP gives out, or none (default: the upper half of the subnet)");
  cr->add_option("--host", o->hosts, "MAC=IP: a static DHCP entry (repeatable)");
  hypervisors(cr);
  cr->callback([&run, &global, o] { run = [&global, o] { return create(global, *o); }; });

  auto* ls = net->add_subcommand("list", "Every network on every node, and whether it is identical on all of them");
  ls->add_flag("--json", global.json, "Print JSON");
  hypervisors(ls);
  ls->callback([&run, &global, o] { run = [&global, o] { return list(global, *o); }; });

  auto* del = net->add_subcommand("delete", "Stop and undefine a network on every node (refused while a domain uses it)");
  del->add_option("NAME", o->name, "Network name")->required();
  del->add_flag("--yes", o->yes, "Really delete");
  hypervisors(del);
  del->callback([&run, &global, o] { run = [&global, o] { return remove(global, *o); }; });

  for (auto* cluster : app.get_subcommands([](CLI::App* a) { return a->get_name() == "cluster"; })) {
    auto c = std::make_shared<CheckOptions>();
    auto* chk = cluster->add_subcommand("check", "Report every HA VM whose network, definition or disk would not be available on a node it may fail over to");
    chk->add_flag("--json", global.json, "Print JSON");
    chk->add_option("--remote-hypervisor", c->remote, "libvirt URI of the other nodes, %n = node (default qemu+tcp://%n/system)");
    chk->add_option("--timeout", c->timeout_s, "Seconds to wait for Pacemaker and Corosync")->check(CLI::Range(1, 600));
    chk->callback([&run, &global, c] { run = [&global, c] { return cluster_check(global, *c); }; });
  }
}

}  // namespace evosctl
