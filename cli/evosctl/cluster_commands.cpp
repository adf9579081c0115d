#include "cluster_commands.hpp"

#include "exit_codes.hpp"
#include "install_paths.hpp"

#include <evos/cluster/admin.hpp>
#include <evos/cluster/attributes.hpp>
#include <evos/cluster/cib_plan.hpp>
#include <evos/cluster/config_changes.hpp>
#include <evos/cluster/corosync_membership.hpp>
#include <evos/cluster/pacemaker_tools.hpp>
#include <evos/cluster/template_files.hpp>
#include <evos/cluster/vm_ha_io.hpp>
#include <evos/net/detail.hpp>

#include <fmt/core.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace evosctl {
namespace {

using evos::Deadline;
using evos::Errc;
using evos::Error;
namespace cluster = evos::cluster;

struct HaOptions {
  std::string name;
  std::string config;
  std::string node;
  std::string template_dir;
  bool migration_unsafe = false;
  bool force_stop = false;
  bool stop = false;
  int shutdown_timeout_s = 0;
  bool no_wait = false;
  int timeout_s = 120;
};

evos::Result<std::string> read_template(const std::string& option, std::string_view name) {
  return cluster::read_template(template_dir(option), name);
}

int ha_enable(const HaOptions& o) {
  auto text = read_template(o.template_dir, "vm-shared.crm");
  if (!text) return fail(text.error());
  const auto deadline = Deadline::after(std::chrono::seconds(o.timeout_s));
  auto loaded = cluster::enable_vm_ha(*text, {o.name, o.config, o.migration_unsafe, o.force_stop, o.shutdown_timeout_s}, true, deadline);
  if (!loaded) return fail(loaded.error());
  const std::string id = *loaded;
  if (o.no_wait) {
    fmt::print("{} configured\n", id);
    return ok;
  }
  auto st = cluster::wait_for_resource(id, deadline, [](const cluster::ResourceStatus* r) { return r && r->active && !r->nodes.empty(); });
  if (!st) return fail(st.error());
  fmt::print("{} started on {}\n", id, st->resource(id)->nodes.front());
  return ok;
}

int cluster_init(const cluster::ClusterDefaults& d, const std::string& tdir, int timeout_s) {
  auto text = read_template(tdir, "cluster-base.crm");
  if (!text) return fail(text.error());
  auto config = cluster::render_cluster_base(*text, d);
  if (!config) return fail(config.error());
  if (auto r = cluster::load_crm_configuration(*config, Deadline::after(std::chrono::seconds(timeout_s))); !r) return fail(r.error());
  fmt::print("cluster defaults applied: fencing on, priority-fencing-delay {}, transition-delay {}, stickiness 100\n",
             d.priority_fencing_delay, d.transition_delay);
  return ok;
}

struct TestipOptions {
  cluster::TestipSettings settings;
  std::string template_dir;
  int timeout_s = 60;
};

// crm-templates/testip.crm, block by block (evos::cluster::render_testip).
int testip_enable(const TestipOptions& o) {
  auto text = read_template(o.template_dir, "testip.crm");
  if (!text) return fail(text.error());
  auto config = cluster::render_testip(*text, o.settings);
  if (!config) return fail(config.error());
  if (auto r = cluster::load_crm_configuration(config->text, Deadline::after(std::chrono::seconds(o.timeout_s))); !r)
    return fail(r.error());
  fmt::print("test IPs {}: clone testip-clone{}{}\n", config->host_list,
             o.settings.vms.empty() ? "" : fmt::format("; rules for {} VM(s)", o.settings.vms.size()),
             o.settings.mirrors.empty() ? "" : fmt::format("; rules for {} mirror(s)", o.settings.mirrors.size()));
  return ok;
}

int testip_disable(int timeout_s) {
  auto removed = cluster::disable_testip(Deadline::after(std::chrono::seconds(timeout_s)));
  if (!removed) return fail(removed.error());
  fmt::print("test IPs removed: {}\n", fmt::join(removed->ids, ", "));
  return ok;
}

struct FenceRaceOptions {
  cluster::FenceRaceSettings settings;
  std::string template_dir;
  int timeout_s = 60;
};

// crm-templates/fencing-race.crm (docs/fence-race.md), with what it replaces saved in the CIB
// for `fence-race disable` (evos::cluster::enable_fence_race).
int fence_race_enable(const FenceRaceOptions& o) {
  auto text = read_template(o.template_dir, "fencing-race.crm");
  if (!text) return fail(text.error());
  auto rendered = cluster::render_fence_race(*text, o.settings);
  if (!rendered) return fail(rendered.error());
  if (auto r = cluster::enable_fence_race(rendered->text, Deadline::after(std::chrono::seconds(o.timeout_s))); !r)
    return fail(r.error());
  const auto& first = *rendered->device_of.begin();
  const auto& second = *std::next(rendered->device_of.begin());
  fmt::print("fence race device fence-race (delay {}) before {} on {} and {} on {}; priority-fencing-delay 0\n", o.settings.delay,
             first.second, first.first, second.second, second.first);
  return ok;
}

int fence_race_disable(int timeout_s) {
  auto plan = cluster::disable_fence_race(Deadline::after(std::chrono::seconds(timeout_s)));
  if (!plan) return fail(plan.error());
  fmt::print("fence race removed ({}); {}\n", fmt::join(plan->removal.ids, ", "),
             !plan->restore_delay ? "no saved state: fence-race taken out of the topology, priority-fencing-delay unchanged"
             : plan->priority_fencing_delay ? fmt::format("topology and priority-fencing-delay {} restored", *plan->priority_fencing_delay)
                                            : std::string("topology restored, priority-fencing-delay unset again"));
  return ok;
}

// evos::cluster::remove_resource: refused while running unless --stop.
int ha_disable(const HaOptions& o) {
  if (auto r = cluster::check_vm_name(o.name); !r) return fail(r.error());
  const std::string id = cluster::vm_resource_id(o.name);
  auto removed = cluster::remove_resource(id, o.stop, Deadline::after(std::chrono::seconds(o.timeout_s)));
  if (!removed) return fail(removed.error());
  fmt::print("{} removed from the cluster: {}\n", id, fmt::join(removed->ids, ", "));
  return ok;
}

int migrate(const HaOptions& o) {
  if (auto e = cluster::check_vm_name(o.name); !e) return fail(e.error());
  if (auto e = cluster::check_node_name(o.node, "node"); !e) return fail(e.error());
  const std::string id = cluster::vm_resource_id(o.name);
  const auto deadline = Deadline::after(std::chrono::seconds(o.timeout_s));
  auto st = cluster::read_pacemaker_status(deadline);
  if (!st) return fail(st.error());
  const auto* r = st->resource(id);
  if (!r) return fail(Error(Errc::not_found, fmt::format("{} is not a cluster resource", id)));
  const auto* node = st->node(o.node);
  if (!node) return fail(Error(Errc::not_found, fmt::format("{} is not a cluster node", o.node)));
  if (r->active && r->nodes == std::vector<std::string>{o.node}) {
    fmt::print("{} already runs on {}\n", id, o.node);
    return ok;
  }
  const auto t0 = evos::Clock::now();
  // Pacemaker decides and performs the move (live migration with allow-migrate), so the cluster
  // always agrees on where the VM is; the temporary preference is removed afterwards and
  // stickiness keeps the VM where it landed.
  if (auto m = cluster::move_resource(id, o.node, deadline); !m) return fail(m.error());
  auto moved = cluster::wait_for_resource(id, deadline, [&](const cluster::ResourceStatus* x) {
    return x && x->active && x->nodes == std::vector<std::string>{o.node};
  });
  auto cleared = cluster::clear_resource_moves(id, Deadline::after(std::chrono::seconds(30)));
  if (!moved) return fail(moved.error());
  if (!cleared) return fail(cleared.error());
  fmt::print("{} runs on {} ({} ms)\n", id, o.node,
             std::chrono::duration_cast<evos::Millis>(evos::Clock::now() - t0).count());
  return ok;
}

// Test-IP reachability per node, as ocf:evos:ping published it (docs/testip.md).
using TestIps = std::map<std::string, evos::net::Detail>;

TestIps read_test_ips(const std::string& attribute, Deadline deadline) {
  TestIps out;
  auto values = cluster::Attributes().query(attribute + "-detail", deadline);
  if (!values) return out;  // no connectivity agent configured, or attrd unreachable
  for (const auto& [node, line] : *values)
    if (auto d = evos::net::parse_detail(line)) out.emplace(node, std::move(*d));
  return out;
}

std::string rtt_text(const std::optional<evos::net::Micros>& us) {
  return us ? fmt::format("{:.2f} ms", static_cast<double>(us->count()) / 1000.0) : "-";
}

nlohmann::json test_ips_json(const TestIps& ips) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [node, d] : ips) {
    nlohmann::json hosts = nlohmann::json::array();
    for (const auto& h : d.hosts) {
      nlohmann::json x = {{"host", h.host},          {"address", h.address}, {"state", std::string(evos::net::to_string(h.state))},
                          {"weight", h.weight},      {"sent", h.sent},       {"received", h.received},
                          {"loss_percent", h.loss_percent()}};
      x["min_rtt_us"] = h.min_rtt ? nlohmann::json(h.min_rtt->count()) : nlohmann::json(nullptr);
      x["avg_rtt_us"] = h.avg_rtt ? nlohmann::json(h.avg_rtt->count()) : nlohmann::json(nullptr);
      hosts.push_back(std::move(x));
    }
    j[node] = {{"score", d.score}, {"time", d.unix_time}, {"hosts", hosts}};
  }
  return j;
}

nlohmann::json status_json(const evos::Result<cluster::Membership>& m, const evos::Result<cluster::PacemakerStatus>& p) {
  nlohmann::json j;
  if (m) {
    nlohmann::json members = nlohmann::json::array();
    for (const auto& n : m->nodes) members.push_back({{"nodeid", n.nodeid}, {"name", n.name}, {"member", n.online}});
    j["corosync"] = {{"cluster_name", m->cluster_name}, {"quorate", m->quorate}, {"local_nodeid", m->local_nodeid},
                     {"nodes", members}};
  } else {
    j["corosync"] = {{"error", m.error().message()}};
  }
  if (p) {
    nlohmann::json nodes = nlohmann::json::array(), resources = nlohmann::json::array();
    for (const auto& n : p->nodes)
      nodes.push_back({{"name", n.name}, {"online", n.online}, {"standby", n.standby}, {"maintenance", n.maintenance},
                       {"unclean", n.unclean}, {"dc", n.is_dc}, {"attributes", n.attributes}});
    for (const auto& r : p->resources)
      resources.push_back({{"id", r.id}, {"agent", r.agent}, {"role", r.role}, {"parent", r.parent}, {"active", r.active},
                           {"failed", r.failed}, {"managed", r.managed}, {"nodes", r.nodes}});
    j["pacemaker"] = {{"dc", p->dc}, {"quorate", p->quorate}, {"stonith_enabled", p->stonith_enabled}, {"nodes", nodes},
                      {"resources", resources}};
  } else {
    j["pacemaker"] = {{"error", p.error().message()}};
  }
  return j;
}

void print_status_text(const evos::Result<cluster::Membership>& m, const evos::Result<cluster::PacemakerStatus>& p) {
  if (m)
    fmt::print("cluster {}: {}\n", m->cluster_name.empty() ? "(unnamed)" : m->cluster_name, m->quorate ? "quorate" : "NOT quorate");
  else
    fmt::print("corosync: {}\n", m.error().message());
  if (!p) {
    fmt::print("pacemaker: {}\n", p.error().message());
    return;
  }
  fmt::print("DC: {}   fencing: {}\n\n", p->dc.empty() ? "none" : p->dc, p->stonith_enabled ? "enabled" : "DISABLED");
  fmt::print("{:<16} {:<10} {:<10}\n", "NODE", "COROSYNC", "PACEMAKER");
  for (const auto& n : p->nodes) {
    std::string member = "-";
    if (m)
      for (const auto& c : m->nodes)
        if (c.name == n.name) member = c.online ? "member" : "lost";
    std::string pcmk = n.unclean ? "UNCLEAN" : n.online ? (n.standby ? "standby" : "online") : "offline";
    if (n.maintenance) pcmk += "+maint";
    fmt::print("{:<16} {:<10} {:<10}\n", n.name, member, pcmk);
  }
  fmt::print("\n{:<24} {:<18} {:<12} {}\n", "RESOURCE", "AGENT", "ROLE", "NODES");
  for (const auto& r : p->resources) {
    std::string where;
    for (const auto& n : r.nodes) where += (where.empty() ? "" : ",") + n;
    std::string role = r.role + (r.failed ? " FAILED" : "") + (r.managed ? "" : " unmanaged");
    fmt::print("{:<24} {:<18} {:<12} {}\n", r.parent.empty() ? r.id : r.parent + "/" + r.id, r.agent, role, where);
  }
}

void print_test_ips_text(const TestIps& ips) {
  if (ips.empty()) return;
  fmt::print("\n{:<16} {:<8} {}\n", "TEST IPS", "SCORE", "HOST STATE LOSS RTT(avg)");
  for (const auto& [node, d] : ips) {
    std::string hosts;
    for (const auto& h : d.hosts)
      hosts += fmt::format("{}{} {} {}% {}", hosts.empty() ? "" : ", ", h.host, evos::net::to_string(h.state),
                           h.loss_percent(), rtt_text(h.avg_rtt));
    fmt::print("{:<16} {:<8} {}\n", node, d.score, hosts);
  }
}

int status(const GlobalOptions& g, int timeout_s, const std::string& testip_attribute) {
  // An explicit global --timeout may be shorter than this command's own (docs/evosctl.md).
  const auto deadline = Deadline::after(std::chrono::seconds(timeout_s)).earliest(g.deadline);
  auto membership = cluster::read_membership(deadline);
  auto pacemaker = cluster::read_pacemaker_status(deadline);
  const TestIps ips = read_test_ips(testip_attribute, deadline);
  if (g.json) {
    auto j = status_json(membership, pacemaker);
    j["test_ips"] = test_ips_json(ips);
    fmt::print("{}\n", j.dump(2));
  } else {
    print_status_text(membership, pacemaker);
    print_test_ips_text(ips);
  }
  if (!membership && !pacemaker) return to_exit(pacemaker.error().code());
  return ok;
}

}  // namespace

void add_cluster_commands(CLI::App& app, CLI::App& vm, GlobalOptions& global, std::function<int()>& run) {
  auto opts = std::make_shared<HaOptions>();
  auto timeout = std::make_shared<int>(15);

  auto* cl = app.add_subcommand("cluster", "The cluster: membership, quorum, nodes and resources");
  cl->require_subcommand(1);
  auto* st = cl->add_subcommand("status", "Members and quorum (Corosync), nodes and resources (Pacemaker)");
  st->add_flag("--json", global.json, "Print JSON");
  st->add_option("--timeout", *timeout, "Seconds to wait for Corosync and Pacemaker")->check(CLI::Range(1, 600));
  auto testip = std::make_shared<std::string>("evos-testip");
  st->add_option("--testip-attribute", *testip, "The connectivity agent's attribute name (its 'name' parameter)");
  st->callback([&run, &global, timeout, testip] { run = [&global, timeout, testip] { return status(global, *timeout, *testip); }; });

  auto defaults = std::make_shared<cluster::ClusterDefaults>();
  const auto template_option = [](CLI::App* c, std::string& into) {
    c->add_option("--template-dir", into, "Load the templates from this directory instead of the installed ones (for testing staged templates)");
  };
  auto* init = cl->add_subcommand("init", "Apply crm-templates/cluster-base.crm: fencing on, priority-fencing-delay, transition-delay, stickiness");
  init->add_option("--priority-fencing-delay", defaults->priority_fencing_delay, "How much longer the node without VMs waits to fence (default 5s)");
  init->add_option("--transition-delay", defaults->transition_delay,
                   "How long the DC lets cluster events settle before it schedules (default 100ms; 0 = Pacemaker's default)");
  init->add_option("--timeout", opts->timeout_s, "Seconds to wait")->check(CLI::Range(1, 3600));
  template_option(init, opts->template_dir);
  init->callback([&run, defaults, opts] { run = [defaults, opts] { return cluster_init(*defaults, opts->template_dir, opts->timeout_s); }; });

  auto fr = std::make_shared<FenceRaceOptions>();
  auto* race = cl->add_subcommand("fence-race", "The fence race device: only a node that may lose a split waits (docs/fence-race.md)");
  race->require_subcommand(1);
  auto* race_en = race->add_subcommand("enable", "Apply crm-templates/fencing-race.crm: fence_evos_race before each node's fence device");
  race_en->add_option("--peers", fr->settings.peers, "Each node's addresses off the cluster link: \"NODE=ADDR[,ADDR] NODE=ADDR\"")->required();
  race_en->add_option("--test-ips", fr->settings.test_ips, "The test IPs, space-separated (as for the ping agent)")->required();
  race_en->add_option("--device", fr->settings.devices, "NODE=DEVICE: the fence device that fences NODE (once per node)")->required();
  race_en->add_option("--delay", fr->settings.delay, "How long the node that should lose waits (default 5s; above the device's power-off time)");
  race_en->add_option("--timeout", fr->timeout_s, "Seconds to wait")->check(CLI::Range(1, 3600));
  template_option(race_en, fr->template_dir);
  race_en->callback([&run, fr] { run = [fr] { return fence_race_enable(*fr); }; });
  auto* race_dis = race->add_subcommand("disable", "Remove fence-race; restore the fencing topology and priority-fencing-delay saved by enable");
  race_dis->add_option("--timeout", fr->timeout_s, "Seconds to wait")->check(CLI::Range(1, 3600));
  race_dis->callback([&run, fr] { run = [fr] { return fence_race_disable(fr->timeout_s); }; });

  auto to = std::make_shared<TestipOptions>();
  auto* tip = cl->add_subcommand("testip", "Test IPs: the connectivity clone and its placement rules");
  tip->require_subcommand(1);
  auto* tip_en = tip->add_subcommand("enable", "Apply crm-templates/testip.crm: the ping clone, rules per VM and mirror");
  tip_en->add_option("--hosts", to->settings.hosts, "The test IPs, space-separated (IPv4, IPv6, names; optional =WEIGHT)")->required();
  tip_en->add_option("--vm", to->settings.vms, "A VM under cluster control to apply the rules to (repeatable)");
  tip_en->add_option("--mirror", to->settings.mirrors, "A mirror's promotable clone to apply the rule to (repeatable)");
  tip_en->add_option("--timeout", to->timeout_s, "Seconds to wait")->check(CLI::Range(1, 3600));
  template_option(tip_en, to->template_dir);
  tip_en->callback([&run, to] { run = [to] { return testip_enable(*to); }; });
  auto* tip_dis = tip->add_subcommand("disable", "Remove the ping clone testip-clone and every rule on its attribute");
  tip_dis->add_option("--timeout", to->timeout_s, "Seconds to wait")->check(CLI::Range(1, 3600));
  tip_dis->callback([&run, to] { run = [to] { return testip_disable(to->timeout_s); }; });

  auto* ha = vm.add_subcommand("ha", "Put a VM under cluster control, or take it out");
  ha->require_subcommand(1);
  auto* enable = ha->add_subcommand("enable", "Create the VM's cluster resource from crm-templates/vm-shared.crm");
  enable->add_option("NAME", opts->name, "Domain name")->required();
  enable->add_option("--config", opts->config, "Domain XML on shared storage")->required();
  enable->add_flag("--migration-unsafe", opts->migration_unsafe, "Storage libvirt cannot recognise as shared");
  // Stop parameters must be in the first configuration: Pacemaker 2.1 stops with the parameters
  // of the last start or probe on a node, never of a migrate_from (docs/testip.md, notes).
  enable->add_flag("--force-stop", opts->force_stop, "Stop destroys the domain at once (guests without ACPI)");
  enable->add_option("--shutdown-timeout", opts->shutdown_timeout_s,
                     "Seconds of graceful shutdown before destroying (0: until the stop timeout)")
      ->check(CLI::Range(0, 86400));
  enable->add_flag("--no-wait", opts->no_wait, "Do not wait for the VM to start");
  enable->add_option("--timeout", opts->timeout_s, "Seconds to wait")->check(CLI::Range(1, 3600));
  template_option(enable, opts->template_dir);
  enable->callback([&run, opts] { run = [opts] { return ha_enable(*opts); }; });

  auto* disable = ha->add_subcommand("disable", "Remove the VM's resource and every constraint naming it (test-IP rules too)");
  disable->add_option("NAME", opts->name, "Domain name")->required();
  disable->add_flag("--stop", opts->stop, "If it runs, stop it through the cluster first (else a running VM is refused)");
  disable->add_option("--timeout", opts->timeout_s, "Seconds to wait")->check(CLI::Range(1, 3600));
  disable->callback([&run, opts] { run = [opts] { return ha_disable(*opts); }; });

  auto* mig = vm.add_subcommand("migrate", "Move a VM to a node through Pacemaker (live when allowed)");
  mig->add_option("NAME", opts->name, "Domain name")->required();
  mig->add_option("NODE", opts->node, "Target node")->required();
  mig->add_option("--timeout", opts->timeout_s, "Seconds to wait")->check(CLI::Range(1, 3600));
  mig->callback([&run, opts] { run = [opts] { return migrate(*opts); }; });
}

}  // namespace evosctl
