// evosctl vm create|start|stop|restart|delete|console: parse, call libevos (evos/vm/operations.hpp),
// print. docs/vm-ops.md "Creating and running VMs" explains the design; docs/evosctl.md the usage.
#include "vm_create_commands.hpp"

#include "exit_codes.hpp"
#include "install_paths.hpp"

#include <evos/cluster/template_files.hpp>
#include <evos/virt/libvirt_hypervisor.hpp>
#include <evos/vm/operations.hpp>

#include <fmt/core.h>
#include <fmt/format.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace evosctl {
namespace {

using evos::Errc;
using evos::Error;

// Library progress for a person at a terminal: warnings and errors only, on stderr.
class QuietLog final : public evos::Log {
 public:
  void write(evos::Level level, std::string_view message) override {
    if (level == evos::Level::warning || level == evos::Level::error) fmt::print(stderr, "evosctl: {}\n", message);
  }
};

struct CreateArgs {
  evos::vm::VmRequest request;
  bool ha = false;
  bool migration_unsafe = false;
  int shutdown_timeout_s = 0;
  bool start = false;
  std::string template_dir;
  int timeout_s = 600;
};

struct LifeArgs {
  std::string name;
  std::string storage = evos::vm::default_storage_dir;
  int timeout_s = 120;
  int shutdown_s = 0;
  bool no_cluster = false;
  bool yes = false;
  bool keep_disks = false;
};

int create(const GlobalOptions& g, const CreateArgs& a) {
  auto spec = evos::vm::plan_vm(a.request);
  if (!spec) return fail(spec.error());
  evos::vm::CreateOptions o{.ha = a.ha, .ha_template = {}, .migration_unsafe = a.migration_unsafe,
                            .shutdown_timeout_s = a.shutdown_timeout_s, .start = a.start, .deadline = g.deadline};
  if (a.ha) {
    auto text = evos::cluster::read_template(template_dir(a.template_dir), "vm-shared.crm");
    if (!text) return fail(text.error());
    o.ha_template = std::move(*text);
  }
  auto hv = evos::virt::connect_libvirt(g.hypervisor);
  if (!hv) return fail(hv.error());
  QuietLog log;
  auto made = evos::vm::create_vm(*spec, o, **hv, log);
  if (!made) return fail(made.error());
  if (made->outcome == evos::vm::CreateOutcome::already_exists) {
    fmt::print(stderr, "evosctl: VM {} already exists ({}), as asked\n", spec->layout.name, spec->layout.definition());
    return exists;
  }
  std::vector<std::string> disks;
  for (const auto& d : spec->disks)
    disks.push_back(d.import_from.empty() ? fmt::format("{} {}", d.target, evos::vm::format_size(d.bytes))
                                          : fmt::format("{} from {}", d.target, d.import_from));
  fmt::print("VM {} created in {}: {} vCPU, {}, disks {}; {}{}\n", spec->layout.name, spec->layout.dir(), spec->vcpus,
             evos::vm::format_size(spec->memory_bytes), fmt::join(disks, ", "),
             a.ha ? "cluster resource " + made->resource : std::string("defined in libvirt on this node"),
             made->started ? ", started" : "");
  return ok;
}

evos::Result<evos::vm::VmFacts> facts(const GlobalOptions& g, const LifeArgs& a) {
  auto l = evos::vm::layout(a.storage, a.name);
  if (!l) return std::move(l).error();
  return evos::vm::vm_facts(*l, a.no_cluster, g.deadline);
}

int power(const GlobalOptions& g, const LifeArgs& a, evos::vm::PowerAction what) {
  auto f = facts(g, a);
  if (!f) return fail(f.error());
  auto hv = evos::virt::connect_libvirt(g.hypervisor);
  if (!hv) return fail(hv.error());
  QuietLog log;
  auto r = evos::vm::power_vm(*f, what, std::chrono::seconds(a.shutdown_s), **hv, log, g.deadline);
  if (!r) return fail(r.error());
  const char* verb = what == evos::vm::PowerAction::stop ? "stopped" : what == evos::vm::PowerAction::start ? "started" : "restarted";
  if (r->through_cluster)
    fmt::print("{} {} through the cluster ({}){}\n", a.name, r->changed ? verb : std::string("already ") + verb, *f->ha.resource,
               r->nodes.empty() ? "" : fmt::format(", on {}", fmt::join(r->nodes, ", ")));
  else
    fmt::print("{} {} on this node\n", a.name, r->changed ? verb : std::string("already ") + verb);
  return ok;
}

int remove(const GlobalOptions& g, const LifeArgs& a) {
  auto l = evos::vm::layout(a.storage, a.name);
  if (!l) return fail(l.error());
  if (!a.yes) {
    // Refused before anything is asked of libvirt or the cluster.
    auto refused = evos::vm::plan_delete({.name = a.name, .yes = false, .keep_disks = a.keep_disks}, false);
    return fail(refused.error());
  }
  auto f = facts(g, a);
  if (!f) return fail(f.error());
  auto hv = evos::virt::connect_libvirt(g.hypervisor);
  if (!hv) return fail(hv.error());
  auto r = evos::vm::delete_vm(*f, a.yes, a.keep_disks, **hv, g.deadline);
  if (!r) return fail(r.error());
  fmt::print("VM {} deleted: {}{}\n", a.name, fmt::join(r->steps, ", "), a.keep_disks ? " (disks kept)" : "");
  return ok;
}

int console(const GlobalOptions& g, const LifeArgs& a) {
  auto f = facts(g, a);
  if (!f) return fail(f.error());
  if (f->ha.resource && f->ha.active) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    if (f->ha.nodes.size() != 1 || f->ha.nodes.front() != host)
      return fail(Error(Errc::invalid_argument, fmt::format("VM {} runs on {}, not on this node ({}): run evosctl vm console there", a.name,
                                                            fmt::join(f->ha.nodes, ", "), host)));
  }
  auto hv = evos::virt::connect_libvirt(g.hypervisor, evos::virt::Access::read_only);
  if (!hv) return fail(hv.error());
  auto st = (*hv)->state(a.name);
  if (!st) return fail(st.error());
  if (st->power == evos::vm::Power::absent || st->power == evos::vm::Power::shut_off)
    return fail(Error(Errc::invalid_argument, fmt::format("VM {} does not run on this node ({})", a.name, evos::vm::describe(*st))));
  hv->reset();
  std::fflush(stdout);
  fmt::print(stderr, "evosctl: console of {}; leave with Ctrl+] (virsh's escape)\n", a.name);
  // exec, not a child: the terminal is the console's (virsh console), and evosctl's watchdog
  // must not end an interactive session; argv only, never a shell.
  const std::string uri = g.hypervisor;
  std::vector<const char*> argv = {"virsh", "-c", uri.c_str(), "console", a.name.c_str(), nullptr};
  ::execvp("virsh", const_cast<char* const*>(argv.data()));
  return fail(Error(Errc::not_installed, fmt::format("cannot run virsh: {}", std::strerror(errno))));
}

void life_options(CLI::App* c, LifeArgs& a, bool timeout) {
  c->add_option("NAME", a.name, "VM name")->required();
  c->add_option("--storage", a.storage, "The VM's storage directory (default /var/lib/evos/vms)");
  c->add_flag("--no-cluster", a.no_cluster, "Do not ask the cluster: act through libvirt on this node (a node with no cluster running)");
  if (timeout) c->add_option("--timeout", a.timeout_s, "Seconds to wait (default 120)")->check(CLI::Range(1, 3600));
}

}  // namespace

void add_vm_create_commands(CLI::App& vm, GlobalOptions& global, std::function<int()>& run) {
  auto c = std::make_shared<CreateArgs>();
  auto& q = c->request;
  auto* cr = vm.add_subcommand("create", "Create a VM on the storage both nodes see: directory, disks, definition (docs/vm-ops.md)");
  cr->add_option("NAME", q.name, "VM name (A-Z a-z 0-9 . _ - +)")->required();
  cr->add_option("--vcpus", q.vcpus, "Virtual CPUs (default 1)");
  cr->add_option("--memory", q.memory, "Memory with a unit: 512M, 2G")->required();
  // One size per --disk (repeat the option), so a size never swallows the next argument.
  cr->add_option("--disk", q.disks, "A disk of this size (20G; repeatable: vda, vdb...; after an imported vda)")->allow_extra_args(false);
  cr->add_option("--format", q.format, "Format of the created disks: qcow2 (default) or raw");
  cr->add_option("--storage", q.storage, "Storage directory both nodes see (default /var/lib/evos/vms)");
  cr->add_option("--network", q.network, "Attach to this libvirt network (defined on both nodes)");
  cr->add_option("--bridge", q.bridge, "Attach to this host bridge (present on both nodes)");
  cr->add_option("--import", q.import_image, "Boot from a copy of this disk image (converted to --format) as vda");
  cr->add_option("--cdrom", q.cdrom, "Boot from this ISO (referenced where it is: a path both nodes see)");
  cr->add_option("--kernel", q.kernel, "Boot this kernel directly (copied into the VM's directory)");
  cr->add_option("--initrd", q.initrd, "The initrd for --kernel (copied into the VM's directory)");
  cr->add_option("--cmdline", q.cmdline, "The kernel command line for --kernel");
  cr->add_option("--virt-type", q.virt_type, "kvm (default) or qemu (emulation, where there is no KVM)");
  cr->add_flag("--ha", c->ha, "Put it under the cluster (crm-templates/vm-shared.crm), as vm ha enable");
  cr->add_flag("--migration-unsafe", c->migration_unsafe, "With --ha: storage libvirt cannot recognise as shared");
  cr->add_option("--shutdown-timeout", c->shutdown_timeout_s,
                 "With --ha: seconds of graceful shutdown before the cluster destroys it (0: until the stop timeout)")
      ->check(CLI::Range(0, 86400));
  cr->add_flag("--start", c->start, "Start it once created (with --ha: through the cluster)");
  cr->add_option("--template-dir", c->template_dir, "Load the templates from this directory instead of the installed ones (for testing staged templates)");
  cr->add_option("--timeout", c->timeout_s, "Seconds for the whole create, disk copies included (default 600)")->check(CLI::Range(1, 86400));
  cr->callback([&run, &global, c] { run = [&global, c] { return create(global, *c); }; });

  auto l = std::make_shared<LifeArgs>();
  auto* start = vm.add_subcommand("start", "Start a VM: through the cluster (target-role) when it manages it, else libvirt here");
  life_options(start, *l, true);
  start->callback([&run, &global, l] { run = [&global, l] { return power(global, *l, evos::vm::PowerAction::start); }; });
  auto* stop = vm.add_subcommand("stop", "Stop a VM: through the cluster (target-role) when it manages it, else shut down, then destroy");
  life_options(stop, *l, true);
  stop->add_option("--shutdown-timeout", l->shutdown_s, "Seconds of graceful shutdown before destroying (0: most of --timeout)")
      ->check(CLI::Range(0, 3600));
  stop->callback([&run, &global, l] { run = [&global, l] { return power(global, *l, evos::vm::PowerAction::stop); }; });
  auto* restart = vm.add_subcommand("restart", "Stop, then start a VM (through the cluster when it manages it)");
  life_options(restart, *l, true);
  restart->add_option("--shutdown-timeout", l->shutdown_s, "Seconds of graceful shutdown before destroying (0: most of --timeout)")
      ->check(CLI::Range(0, 3600));
  restart->callback([&run, &global, l] { run = [&global, l] { return power(global, *l, evos::vm::PowerAction::restart); }; });
  auto* del = vm.add_subcommand("delete", "Delete a stopped VM: its cluster resource, libvirt definition, directory and disks");
  life_options(del, *l, true);
  del->add_flag("--yes", l->yes, "Confirm: without it nothing is deleted");
  del->add_flag("--keep-disks", l->keep_disks, "Keep the disk images (and snapshots); remove the definition and logs");
  del->callback([&run, &global, l] { run = [&global, l] { return remove(global, *l); }; });
  auto* con = vm.add_subcommand("console", "Attach to the VM's serial console on this node (virsh console; leave with Ctrl+])");
  life_options(con, *l, false);
  con->callback([&run, &global, l] { run = [&global, l] { return console(global, *l); }; });
}

}  // namespace evosctl
