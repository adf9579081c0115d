#include <evos/vm/params.hpp>

#include <algorithm>

namespace evos::vm {

using ocf::ParamSpec;
using ocf::ParamType;
using text::Syntax;

const std::vector<ParamSpec>& param_specs() {
  static const std::vector<ParamSpec> specs = [] {
    std::vector<ParamSpec> s;
    auto add = [&](ParamSpec spec) { s.push_back(std::move(spec)); };
    add({.name = "config", .required = true, .unique = true,
         .shortdesc = "Domain XML file",
         .longdesc = "Absolute path of the libvirt domain XML. start defines the domain from it (so edits take "
                     "effect at the next start) and starts it. A running domain is still reported running if this "
                     "file becomes unreadable.",
         .syntax = Syntax::path});
    add({.name = "domain",
         .shortdesc = "Domain name",
         .longdesc = "The domain's name. Defaults to <name> in the config file; the agent also remembers the name "
                     "in its state directory. Setting it lets monitor and stop find the domain even if the config "
                     "file was never readable on this node.",
         .syntax = Syntax::token});
    add({.name = "hypervisor", .default_value = "qemu:///system",
         .shortdesc = "Hypervisor URI",
         .longdesc = "The libvirt connection URI of the local hypervisor.",
         .syntax = Syntax::uri});
    add({.name = "remote_hypervisor", .default_value = "qemu+tcp://%n/system", .reloadable = true,
         .shortdesc = "Destination hypervisor URI",
         .longdesc = "The libvirt URI of the destination of a live migration, as the source libvirtd reaches it "
                     "(peer-to-peer migration). %n stands for the target node's name.",
         .syntax = Syntax::uri_template});
    add({.name = "migration_uri", .reloadable = true,
         .shortdesc = "Migration data URI",
         .longdesc = "Where QEMU sends the migration stream, e.g. tcp://%n-mig. %n stands for the target node's name. "
                     "Empty: libvirt's choice (migration_host in qemu.conf). Not together with migration_network.",
         .syntax = Syntax::uri_template});
    add({.name = "migration_network", .reloadable = true,
         .shortdesc = "Migration network suffix",
         .longdesc = "Suffix added to the first label of the target node's name to name its address on the "
                     "migration network (node2 with -mig sends to tcp://node2-mig). Not together with migration_uri.",
         .syntax = Syntax::token});
    // 30 ms: QEMU stops the guest with 1-2 MiB left instead of the 11-15 MiB its own 300 ms allow
    // (docs/vm-agent.md, "Migration policy"); Ganeti's default target too. The cap is QEMU's own
    // default (migration/options.c, DEFAULT_MIGRATE_SET_DOWNTIME): what every migration had before.
    add({.name = "migration_downtime", .type = ParamType::integer, .default_value = "30", .reloadable = true,
         .shortdesc = "Maximum migration downtime (ms)",
         .longdesc = "The longest QEMU may pause the guest to copy the last of its memory at the end of a live "
                     "migration, in milliseconds (QEMU's downtime-limit: it switches over once its estimate of that "
                     "copy fits). Sending the device state and libvirt's hand-over to the destination come on top "
                     "(docs/vm-agent.md, \"Migration policy\"). A migration that does not converge raises it, up to "
                     "migration_downtime_max. 0 keeps the hypervisor's default (300 ms for QEMU) and never raises it.",
         .min = 0, .max = 600000});
    add({.name = "migration_downtime_max", .type = ParamType::integer, .default_value = "300", .reloadable = true,
         .shortdesc = "Raised downtime limit at most (ms)",
         .longdesc = "When a pass over guest memory does not shrink what is left to send, or the guest dirties "
                     "memory as fast as the link carries it, migrate_to doubles the downtime limit, up to this "
                     "value (QEMU's own default, 300), unless migration_postcopy lets it switch to post-copy "
                     "instead. Below migration_downtime: the limit is never raised.",
         .min = 0, .max = 600000});
    add({.name = "migration_speed", .type = ParamType::integer, .default_value = "0", .reloadable = true,
         .shortdesc = "Migration bandwidth (MiB/s)",
         .longdesc = "Bandwidth limit of a live migration in MiB/s. 0 is unlimited.",
         .min = 0, .max = 1000000});
    add({.name = "migration_postcopy", .type = ParamType::boolean, .default_value = "false", .reloadable = true,
         .shortdesc = "Switch to post-copy",
         .longdesc = "Allow post-copy (VIR_MIGRATE_POSTCOPY) and switch to it (virDomainMigrateStartPostCopy) when "
                     "a pass over memory after the first does not converge: the guest dirties memory as fast as the "
                     "link carries it, or what is left to send did not shrink. The guest then runs on the "
                     "destination at once and fetches the rest on demand, so it always moves; a link failure "
                     "during post-copy loses the guest.",});
    add({.name = "migration_auto_converge", .type = ParamType::boolean, .default_value = "true", .reloadable = true,
         .shortdesc = "Auto-converge",
         .longdesc = "Let QEMU throttle the guest's vCPUs while a migration does not converge "
                     "(VIR_MIGRATE_AUTO_CONVERGE; QEMU starts throttling only when the guest dirties more than half "
                     "of what a pass sent, twice), so a busy guest's migration ends instead of running until its "
                     "timeout."});
    add({.name = "migration_tls", .type = ParamType::boolean, .default_value = "false", .reloadable = true,
         .shortdesc = "Encrypt the migration",
         .longdesc = "Send the migration stream over TLS (VIR_MIGRATE_TLS); both hosts need migrate TLS certificates."});
    add({.name = "migration_unsafe", .type = ParamType::boolean, .default_value = "false", .reloadable = true,
         .shortdesc = "Allow unsafe migration",
         .longdesc = "Migrate even when libvirt cannot tell that the disks are on shared storage or use cache=none "
                     "(VIR_MIGRATE_UNSAFE). Needed for disks in a plain directory that both nodes see."});
    add({.name = "shutdown_timeout", .type = ParamType::integer, .default_value = "0", .reloadable = true,
         .shortdesc = "Graceful shutdown time (s)",
         .longdesc = "Seconds stop waits for the guest to shut down before destroying it. 0: what the stop timeout "
                     "leaves after keeping a quarter (at least 5 s) for destroy.",
         .min = 0, .max = 86400});
    add({.name = "shutdown_mode", .reloadable = true,
         .shortdesc = "Shutdown method",
         .longdesc = "How stop asks the guest to shut down (virDomainShutdownFlags); empty lets the hypervisor choose.",
         .choices = {"", "acpi", "agent", "initctl", "signal", "paravirt"}});
    add({.name = "force_stop", .type = ParamType::boolean, .default_value = "false", .reloadable = true,
         .shortdesc = "Destroy on stop",
         .longdesc = "Destroy (power off) the domain on stop instead of shutting it down."});
    add({.name = "evosd_socket", .default_value = "/run/evos/evosd.sock", .reloadable = true,
         .shortdesc = "evosd's socket",
         .longdesc = "A recurring monitor first asks evosd on this socket (300 ms at most) and reports the domain "
                     "running if evosd vouches for it with a fresh libvirt connection; any other answer, or no "
                     "evosd, and it asks libvirt itself. Probes and deep monitors always ask libvirt (docs/evosd.md).",
         .syntax = Syntax::path});
    return s;
  }();
  return specs;
}

Result<Params> Params::from(const ocf::ParamValues& v) {
  Params p;
  p.config = v.text("config");
  p.domain = v.text("domain");
  p.hypervisor = v.text("hypervisor");
  p.migration.remote_hypervisor = v.text("remote_hypervisor");
  p.migration.migration_uri = v.text("migration_uri");
  p.migration.migration_network = v.text("migration_network");
  p.migration.max_downtime = std::chrono::milliseconds(v.integer("migration_downtime"));
  p.migration.max_downtime_cap = std::chrono::milliseconds(v.integer("migration_downtime_max"));
  p.migration.bandwidth_mib_s = static_cast<unsigned long long>(v.integer("migration_speed"));
  p.migration.postcopy = v.boolean("migration_postcopy");
  p.migration.auto_converge = v.boolean("migration_auto_converge");
  p.migration.tls = v.boolean("migration_tls");
  p.migration.unsafe = v.boolean("migration_unsafe");
  p.shutdown_timeout = std::chrono::seconds(v.integer("shutdown_timeout"));
  p.force_stop = v.boolean("force_stop");
  p.evosd_socket = v.text("evosd_socket");
  const auto& mode = v.text("shutdown_mode");
  p.shutdown_mode = mode == "acpi"       ? ShutdownMode::acpi
                    : mode == "agent"    ? ShutdownMode::agent
                    : mode == "initctl"  ? ShutdownMode::initctl
                    : mode == "signal"   ? ShutdownMode::signal
                    : mode == "paravirt" ? ShutdownMode::paravirt
                                         : ShutdownMode::hypervisor_default;
  if (!p.migration.migration_uri.empty() && !p.migration.migration_network.empty())
    return make_error(Errc::invalid_config, "parameters 'migration_uri' and 'migration_network' exclude each other");
  if (p.force_stop && v.is_set("shutdown_mode") && !mode.empty())
    return make_error(Errc::invalid_config, "parameter 'shutdown_mode' has no effect with 'force_stop'");
  return p;
}

namespace {
std::string substitute_node(std::string_view pattern, std::string_view node) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size() && pattern[i + 1] == 'n') {
      out += node;
      ++i;
    } else {
      out += pattern[i];
    }
  }
  return out;
}
}  // namespace

Result<MigrationTarget> migration_target(const MigrationSettings& settings, const std::string& node) {
  if (auto problem = text::syntax_problem(node, Syntax::token))
    return make_error(Errc::invalid_argument, "migration target node {} {}", text::quote_for_message(node), *problem);
  MigrationTarget t{node, substitute_node(settings.remote_hypervisor, node), {}};
  if (!settings.migration_uri.empty()) {
    t.migration_uri = substitute_node(settings.migration_uri, node);
  } else if (!settings.migration_network.empty()) {
    const auto dot = node.find('.');
    const std::string host = dot == std::string::npos
                                 ? node + settings.migration_network
                                 : node.substr(0, dot) + settings.migration_network + node.substr(dot);
    t.migration_uri = "tcp://" + host;
  }
  return t;
}

std::chrono::milliseconds graceful_stop_budget(std::chrono::seconds configured, std::chrono::milliseconds stop_budget) {
  using std::chrono::milliseconds;
  // Destroy itself can take ~10 s (SIGTERM, wait, SIGKILL): keep at least 5 s for it always,
  // and a quarter of the budget when the administrator left the split to us.
  const milliseconds keep = configured.count() > 0 ? milliseconds(5000) : std::max<milliseconds>(stop_budget / 4, milliseconds(5000));
  const milliseconds available = stop_budget > keep ? stop_budget - keep : milliseconds(0);
  return configured.count() > 0 ? std::min<milliseconds>(configured, available) : available;
}

}  // namespace evos::vm
