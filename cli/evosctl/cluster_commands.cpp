#include "cluster_commands.hpp"

#include "exit_codes.hpp"
#include "install_paths.hpp"

#include <evos/cluster/corosync_membership.hpp>
#include <evos/cluster/crm_template.hpp>
#include <evos/cluster/pacemaker_tools.hpp>
#include <evos/fence/race.hpp>
#include <evos/net/detail.hpp>
#include <evos/net/host_list.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
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
  bool migration_unsafe = false;
  bool force_stop = false;
  int shutdown_timeout_s = 0;
  bool no_wait = false;
  int timeout_s = 120;
};

evos::Result<std::string> read_template(const std::string& name) {
  const std::string path = template_dir() + "/" + name;
  std::ifstream in(path);
  if (!in) return evos::make_error(Errc::not_installed, "cannot read template {}", path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Domain names become Pacemaker ids and crmsh words: letters, digits, '_', '.', '-' only.
std::optional<Error> check_vm_name(const std::string& name) {
  if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0])) ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != std::string::npos ||
      name.size() > 64)
    return Error(Errc::invalid_argument,
                 fmt::format("VM name {} must start with a letter and hold only letters, digits, '_', '.', '-' (at most 64)",
                             evos::text::quote_for_message(name)));
  return std::nullopt;
}

int ha_enable(const HaOptions& o) {
  if (auto e = check_vm_name(o.name)) return fail(*e);
  if (auto p = evos::text::syntax_problem(o.config, evos::text::Syntax::path))
    return fail(Error(Errc::invalid_argument, fmt::format("--config {} {}", evos::text::quote_for_message(o.config), *p)));
  auto text = read_template("vm-shared.crm");
  if (!text) return fail(text.error());
  auto rendered = cluster::render_template(
      *text, {{"VM", o.name},
              {"CONFIG", o.config},
              {"MIGRATION_UNSAFE", o.migration_unsafe ? "true" : "false"},
              {"FORCE_STOP", o.force_stop ? "true" : "false"},
              {"SHUTDOWN_TIMEOUT", std::to_string(o.shutdown_timeout_s)}});
  if (!rendered) return fail(rendered.error());
  const auto deadline = Deadline::after(std::chrono::seconds(o.timeout_s));
  if (auto r = cluster::load_crm_configuration(cluster::without_comments(*rendered), deadline); !r) return fail(r.error());
  const std::string id = vm_resource_id(o.name);
  if (o.no_wait) {
    fmt::print("{} configured\n", id);
    return ok;
  }
  auto st = cluster::wait_for_resource(id, deadline, [](const cluster::ResourceStatus* r) { return r && r->active && !r->nodes.empty(); });
  if (!st) return fail(st.error());
  fmt::print("{} started on {}\n", id, st->resource(id)->nodes.front());
  return ok;
}

// A Pacemaker duration as the cluster options take it: digits and an optional unit (ms, s, m, h).
bool is_duration(const std::string& text) {
  static const std::regex duration{"[0-9]{1,9}(ms|s|m|h)?"};
  return std::regex_match(text, duration);
}

int cluster_init(const std::string& priority_fencing_delay, const std::string& transition_delay, int timeout_s) {
  for (const auto& [option, value] : {std::pair{"--priority-fencing-delay", &priority_fencing_delay},
                                      std::pair{"--transition-delay", &transition_delay}})
    if (!is_duration(*value))
      return fail(Error(Errc::invalid_argument,
                        fmt::format("{} {} is not a duration such as 5s or 100ms", option, evos::text::quote_for_message(*value))));
  auto text = read_template("cluster-base.crm");
  if (!text) return fail(text.error());
  auto rendered = cluster::render_template(
      *text, {{"PRIORITY_FENCING_DELAY", priority_fencing_delay}, {"TRANSITION_DELAY", transition_delay}});
  if (!rendered) return fail(rendered.error());
  if (auto r = cluster::load_crm_configuration(cluster::without_comments(*rendered), Deadline::after(std::chrono::seconds(timeout_s))); !r)
    return fail(r.error());
  fmt::print("cluster defaults applied: fencing on, priority-fencing-delay {}, transition-delay {}, stickiness 100\n",
             priority_fencing_delay, transition_delay);
  return ok;
}

struct TestipOptions {
  std::string hosts;
  std::vector<std::string> vms;
  std::vector<std::string> mirrors;
  int timeout_s = 60;
};

// crm-templates/testip.crm, block by block: the ping clone once, the rules per VM and per
// mirror clone. The host list is parsed by the agent's own parser, so what is accepted here is
// exactly what ocf:evos:ping accepts.
int testip_enable(const TestipOptions& o) {
  auto hosts = evos::net::parse_host_list(o.hosts);
  if (!hosts) return fail(Error(Errc::invalid_argument, fmt::format("--hosts: {}", hosts.error().message())));
  const std::string host_list = evos::net::to_host_list(*hosts);
  for (const auto& vm : o.vms)
    if (auto e = check_vm_name(vm)) return fail(*e);
  for (const auto& m : o.mirrors)
    if (auto p = evos::text::syntax_problem(m, evos::text::Syntax::token))
      return fail(Error(Errc::invalid_argument, fmt::format("--mirror {} {}", evos::text::quote_for_message(m), *p)));
  auto text = read_template("testip.crm");
  if (!text) return fail(text.error());
  std::string config;
  const auto add = [&](const char* block, const std::map<std::string, std::string>& values) -> std::optional<Error> {
    auto section = cluster::template_section(*text, block, "testip.crm");
    if (!section) return section.error();
    auto rendered = cluster::render_template(*section, values);
    if (!rendered) return rendered.error();
    config += cluster::without_comments(*rendered);
    return std::nullopt;
  };
  if (auto e = add("the clone (once)", {{"TEST_IPS", host_list}})) return fail(*e);
  for (const auto& vm : o.vms)
    if (auto e = add("per VM", {{"VM", vm}})) return fail(*e);
  for (const auto& m : o.mirrors)
    if (auto e = add("per mirror", {{"MIRROR_CLONE", m}})) return fail(*e);
  if (auto r = cluster::load_crm_configuration(config, Deadline::after(std::chrono::seconds(o.timeout_s))); !r)
    return fail(r.error());
  fmt::print("test IPs {}: clone testip-clone{}{}\n", host_list,
             o.vms.empty() ? "" : fmt::format("; rules for {} VM(s)", o.vms.size()),
             o.mirrors.empty() ? "" : fmt::format("; rules for {} mirror(s)", o.mirrors.size()));
  return ok;
}

struct FenceRaceOptions {
  std::string peers;
  std::string test_ips;
  std::vector<std::string> devices;  // NODE=DEVICE
  std::string delay = "5s";
  int timeout_s = 60;
};

// crm-templates/fencing-race.crm: fence_evos_race before each node's real fence device
// (docs/fence-race.md). The parameters are checked by the agent's own parser (RaceParams), so
// what is accepted here is exactly what the device will accept.
int fence_race_enable(const FenceRaceOptions& o) {
  // The ICMP timeout the template sets; validated together with the rest.
  const evos::fence::Options agent_params{
      {"peer_addresses", o.peers}, {"test_ips", o.test_ips}, {"delay", o.delay}, {"timeout", "250ms"}};
  auto params = evos::fence::RaceParams::from(agent_params);
  if (!params) return fail(Error(Errc::invalid_argument, params.error().message()));
  if (params->peer_addresses.size() != 2)
    return fail(Error(Errc::invalid_argument,
                      fmt::format("--peers names {} node(s); a two-node cluster has two", params->peer_addresses.size())));
  std::map<std::string, std::string> device_of;
  for (const auto& d : o.devices) {
    const auto eq = d.find('=');
    const std::string node = d.substr(0, eq), device = eq == std::string::npos ? "" : d.substr(eq + 1);
    for (const auto& [what, value] : {std::pair{"node", &node}, std::pair{"device", &device}})
      if (auto p = evos::text::syntax_problem(*value, evos::text::Syntax::token))
        return fail(Error(Errc::invalid_argument,
                          fmt::format("--device {}: the {} {}; expected NODE=DEVICE", evos::text::quote_for_message(d), what, *p)));
    if (!params->peer_addresses.contains(node))
      return fail(Error(Errc::invalid_argument, fmt::format("--device {}: node '{}' is not in --peers", evos::text::quote_for_message(d), node)));
    if (!device_of.emplace(node, device).second)
      return fail(Error(Errc::invalid_argument, fmt::format("--device: node '{}' given twice", node)));
  }
  for (const auto& [node, addresses] : params->peer_addresses)
    if (!device_of.contains(node))
      return fail(Error(Errc::invalid_argument, fmt::format("--device: no fence device for node '{}' (NODE=DEVICE)", node)));
  const std::string test_ips = evos::net::to_host_list(params->test_ips);
  auto text = read_template("fencing-race.crm");
  if (!text) return fail(text.error());
  const auto& first = *device_of.begin();
  const auto& second = *std::next(device_of.begin());
  auto rendered = cluster::render_template(*text, {{"PEER_ADDRESSES", o.peers},
                                                   {"TEST_IPS", test_ips},
                                                   {"DELAY", o.delay},
                                                   {"NODE1", first.first},
                                                   {"FENCE_DEVICE1", first.second},
                                                   {"NODE2", second.first},
                                                   {"FENCE_DEVICE2", second.second}});
  if (!rendered) return fail(rendered.error());
  if (auto r = cluster::load_crm_configuration(cluster::without_comments(*rendered), Deadline::after(std::chrono::seconds(o.timeout_s))); !r)
    return fail(r.error());
  fmt::print("fence race device fence-race (delay {}) before {} on {} and {} on {}; priority-fencing-delay 0\n", o.delay,
             first.second, first.first, second.second, second.first);
  return ok;
}

int ha_disable(const HaOptions& o) {
  if (auto e = check_vm_name(o.name)) return fail(*e);
  const std::string id = vm_resource_id(o.name);
  const auto deadline = Deadline::after(std::chrono::seconds(o.timeout_s));
  auto st = cluster::read_pacemaker_status(deadline);
  if (!st) return fail(st.error());
  if (!st->resource(id)) return fail(Error(Errc::not_found, fmt::format("{} is not a cluster resource", id)));
  // Stop it through the cluster first: deleting a running resource would orphan it.
  if (auto r = cluster::set_resource_meta(id, "target-role", "Stopped", deadline); !r) return fail(r.error());
  auto stopped = cluster::wait_for_resource(id, deadline, [](const cluster::ResourceStatus* r) { return !r || !r->active; });
  if (!stopped) return fail(stopped.error());
  if (auto r = cluster::clear_resource_moves(id, deadline); !r) return fail(r.error());
  if (auto r = cluster::delete_primitive(id, deadline); !r) return fail(r.error());
  fmt::print("{} stopped and removed from the cluster\n", id);
  return ok;
}

int migrate(const HaOptions& o) {
  if (auto e = check_vm_name(o.name)) return fail(*e);
  if (auto p = evos::text::syntax_problem(o.node, evos::text::Syntax::token))
    return fail(Error(Errc::invalid_argument, fmt::format("node {} {}", evos::text::quote_for_message(o.node), *p)));
  const std::string id = vm_resource_id(o.name);
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
  auto values = cluster::query_node_attribute(attribute + "-detail", deadline);
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

std::string vm_resource_id(const std::string& domain) { return "vm-" + domain; }

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

  auto delay = std::make_shared<std::string>("5s");
  auto tdelay = std::make_shared<std::string>("100ms");
  auto* init = cl->add_subcommand("init", "Apply crm-templates/cluster-base.crm: fencing on, priority-fencing-delay, transition-delay, stickiness");
  init->add_option("--priority-fencing-delay", *delay, "How much longer the node without VMs waits to fence (default 5s)");
  init->add_option("--transition-delay", *tdelay,
                   "How long the DC lets cluster events settle before it schedules (default 100ms; 0 = Pacemaker's default)");
  init->add_option("--timeout", opts->timeout_s, "Seconds to wait")->check(CLI::Range(1, 3600));
  init->callback([&run, delay, tdelay, opts] { run = [delay, tdelay, opts] { return cluster_init(*delay, *tdelay, opts->timeout_s); }; });

  auto fr = std::make_shared<FenceRaceOptions>();
  auto* race = cl->add_subcommand("fence-race", "The fence race device: only a node that may lose a split waits (docs/fence-race.md)");
  race->require_subcommand(1);
  auto* race_en = race->add_subcommand("enable", "Apply crm-templates/fencing-race.crm: fence_evos_race before each node's fence device");
  race_en->add_option("--peers", fr->peers, "Each node's addresses off the cluster link: \"NODE=ADDR[,ADDR] NODE=ADDR\"")->required();
  race_en->add_option("--test-ips", fr->test_ips, "The test IPs, space-separated (as for the ping agent)")->required();
  race_en->add_option("--device", fr->devices, "NODE=DEVICE: the fence device that fences NODE (once per node)")->required();
  race_en->add_option("--delay", fr->delay, "How long the node that should lose waits (default 5s; above the device's power-off time)");
  race_en->add_option("--timeout", fr->timeout_s, "Seconds to wait")->check(CLI::Range(1, 3600));
  race_en->callback([&run, fr] { run = [fr] { return fence_race_enable(*fr); }; });

  auto to = std::make_shared<TestipOptions>();
  auto* tip = cl->add_subcommand("testip", "Test IPs: the connectivity clone and its placement rules");
  tip->require_subcommand(1);
  auto* tip_en = tip->add_subcommand("enable", "Apply crm-templates/testip.crm: the ping clone, rules per VM and mirror");
  tip_en->add_option("--hosts", to->hosts, "The test IPs, space-separated (IPv4, IPv6, names; optional =WEIGHT)")->required();
  tip_en->add_option("--vm", to->vms, "A VM under cluster control to apply the rules to (repeatable)");
  tip_en->add_option("--mirror", to->mirrors, "A mirror's promotable clone to apply the rule to (repeatable)");
  tip_en->add_option("--timeout", to->timeout_s, "Seconds to wait")->check(CLI::Range(1, 3600));
  tip_en->callback([&run, to] { run = [to] { return testip_enable(*to); }; });

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
  enable->callback([&run, opts] { run = [opts] { return ha_enable(*opts); }; });

  auto* disable = ha->add_subcommand("disable", "Stop the VM through the cluster and remove its resource");
  disable->add_option("NAME", opts->name, "Domain name")->required();
  disable->add_option("--timeout", opts->timeout_s, "Seconds to wait")->check(CLI::Range(1, 3600));
  disable->callback([&run, opts] { run = [opts] { return ha_disable(*opts); }; });

  auto* mig = vm.add_subcommand("migrate", "Move a VM to a node through Pacemaker (live when allowed)");
  mig->add_option("NAME", opts->name, "Domain name")->required();
  mig->add_option("NODE", opts->node, "Target node")->required();
  mig->add_option("--timeout", opts->timeout_s, "Seconds to wait")->check(CLI::Range(1, 3600));
  mig->callback([&run, opts] { run = [opts] { return migrate(*opts); }; });
}

}  // namespace evosctl
