#include "vm_snapshot_commands.hpp"

#include "exit_codes.hpp"

#include <evos/cluster/admin.hpp>
#include <evos/snapshot/operations.hpp>
#include <evos/vm/layout.hpp>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <memory>

namespace evosctl {
namespace {

namespace snapshot = evos::snapshot;
using evos::Errc;
using evos::Error;

struct SnapshotOptions {
  std::string vm;
  std::string snap;
  std::string storage = evos::vm::default_storage_dir;
  std::string as;
  std::string hypervisor;
  std::string node;
  std::string remote_hypervisor = "qemu+tcp://%n/system";
  bool yes = false;
  std::string timeout = "180s";
};

snapshot::Target target(const SnapshotOptions& o, const GlobalOptions& g) {
  return {.storage = o.storage, .vm = o.vm, .hypervisor = g.hypervisor, .remote_hypervisor = o.remote_hypervisor};
}

nlohmann::json opt(const std::optional<std::string>& s) { return s ? nlohmann::json(*s) : nlohmann::json(nullptr); }

nlohmann::json place_json(const snapshot::Place& p) {
  return {{"ha_resource", opt(p.ha_resource)}, {"running", p.running}, {"node", p.node}, {"hypervisor", p.hypervisor},
          {"notes", p.notes}};
}

void print_notes(const snapshot::Place& p) {
  for (const auto& n : p.notes) fmt::print(stderr, "evosctl: note: {}\n", n);
}

int run_create(const SnapshotOptions& o, const GlobalOptions& g) {
  auto r = snapshot::create_snapshot(target(o, g), o.snap, g.deadline);
  if (!r) return fail(r.error());
  if (g.json) {
    const auto consistency =
        r->already_exists ? nlohmann::json(nullptr) : nlohmann::json(std::string(snapshot::to_string(r->consistency)));
    fmt::print("{}\n", nlohmann::json{{"vm", o.vm}, {"snapshot", o.snap}, {"already_exists", r->already_exists},
                                      {"consistency", consistency}, {"place", place_json(r->place)}, {"overlays", r->overlays},
                                      {"warnings", r->warnings}}.dump());
    return ok;
  }
  for (const auto& w : r->warnings) fmt::print(stderr, "evosctl: warning: {}\n", w);
  if (r->already_exists) {
    fmt::print("snapshot {} of VM {} already exists\n", o.snap, o.vm);
    return ok;
  }
  print_notes(r->place);
  std::string how;
  switch (r->consistency) {
    case snapshot::Consistency::frozen: how = "live, frozen: the guest agent froze the file systems"; break;
    case snapshot::Consistency::crash_consistent: how = "live, crash-consistent: no guest agent answered"; break;
    case snapshot::Consistency::offline: how = "offline: the VM is shut off"; break;
  }
  fmt::print("snapshot {} of VM {} taken ({}{}); the VM now writes {}\n", o.snap, o.vm, how,
             r->place.running ? ", on " + r->place.node : "", fmt::join(r->overlays, ", "));
  return ok;
}

int run_list(const SnapshotOptions& o, const GlobalOptions& g) {
  auto r = snapshot::list_snapshots(target(o, g));
  if (!r) return fail(r.error());
  const auto& c = r->catalogue;
  if (g.json) {
    auto snaps = nlohmann::json::array();
    for (const auto& s : c.snapshots)
      snaps.push_back({{"name", s.name}, {"parent", opt(s.parent)}, {"children", c.children(s.name)}, {"created", s.created},
                       {"node", s.node}, {"consistency", std::string(snapshot::to_string(s.consistency))},
                       {"was_running", s.was_running}, {"disks", s.disks}});
    auto copies = nlohmann::json::array();
    for (const auto& k : c.copies) copies.push_back({{"vm", k.vm}, {"snapshot", k.snapshot}, {"disks", k.disks}});
    fmt::print("{}\n", nlohmann::json{{"vm", o.vm}, {"catalogue", r->path}, {"snapshots", snaps},
                                      {"current", {{"parent", opt(c.current_parent)}, {"disks", c.current}}},
                                      {"copies", copies}}.dump(2));
    return ok;
  }
  if (c.snapshots.empty()) {
    fmt::print("VM {} has no snapshots\n", o.vm);
    return ok;
  }
  fmt::print("{:<24} {:<24} {:<21} {:<16} {}\n", "SNAPSHOT", "PARENT", "CREATED", "CONSISTENCY", "NODE");
  for (const auto& s : c.snapshots)
    fmt::print("{:<24} {:<24} {:<21} {:<16} {}{}\n", s.name, s.parent.value_or("-"), s.created, snapshot::to_string(s.consistency),
               s.node, c.current_parent && *c.current_parent == s.name ? "  <- current state" : "");
  for (const auto& k : c.copies) fmt::print("booted as VM {} from {}\n", k.vm, k.snapshot);
  return ok;
}

Error needs_yes(const SnapshotOptions& o, bool revert) {
  return evos::make_error(Errc::invalid_argument, "{} snapshot {} of VM {}: {}; add --yes to go ahead",
                    revert ? "reverting to" : "deleting", o.snap, o.vm,
                    revert ? "the VM's state since the snapshot is thrown away, and a running VM is restarted"
                           : "the snapshot cannot be taken back");
}

int run_revert(const SnapshotOptions& o, const GlobalOptions& g) {
  if (!o.yes) return fail(needs_yes(o, true));
  auto r = snapshot::revert_snapshot(target(o, g), o.snap, g.deadline);
  if (!r) return fail(r.error());
  if (g.json) {
    fmt::print("{}\n", nlohmann::json{{"vm", o.vm}, {"snapshot", o.snap}, {"place", place_json(r->place)}, {"restarted", r->restarted},
                                      {"overlays", r->overlays}, {"removed", r->removed}}.dump());
    return ok;
  }
  print_notes(r->place);
  fmt::print("VM {} reverted to snapshot {}{}; it now writes {}\n", o.vm, o.snap,
             r->restarted ? (r->place.ha_resource ? ", stopped and started again through Pacemaker" : ", stopped and started again")
                          : "",
             fmt::join(r->overlays, ", "));
  for (const auto& f : r->removed) fmt::print("  removed {}\n", f);
  return ok;
}

int run_delete(const SnapshotOptions& o, const GlobalOptions& g) {
  if (!o.yes) return fail(needs_yes(o, false));
  auto r = snapshot::delete_snapshot(target(o, g), o.snap, g.deadline);
  if (!r) return fail(r.error());
  if (g.json) {
    fmt::print("{}\n", nlohmann::json{{"vm", o.vm}, {"snapshot", o.snap}, {"removed", r->removed}, {"kept", r->kept},
                                      {"forgotten_copies", r->forgotten_copies}}.dump());
    return ok;
  }
  fmt::print("snapshot {} of VM {} deleted\n", o.snap, o.vm);
  for (const auto& f : r->removed) fmt::print("  removed {}\n", f);
  for (const auto& f : r->kept) fmt::print("  kept {}: the current disk is an overlay on it\n", f);
  for (const auto& v : r->forgotten_copies) fmt::print("  forgot booted copy {} (its disks are gone)\n", v);
  return ok;
}

int run_boot(const SnapshotOptions& o, const GlobalOptions& g) {
  if (o.as.empty()) return fail(Error(Errc::invalid_argument, "snapshot boot needs --as NEW, the new VM's name"));
  if (!o.hypervisor.empty() && !o.node.empty()) return fail(Error(Errc::invalid_argument, "give --hypervisor or --node, not both"));
  std::string uri = o.hypervisor.empty() ? g.hypervisor : o.hypervisor;
  if (!o.node.empty()) {
    if (auto r = evos::cluster::check_node_name(o.node, "--node"); !r) return fail(r.error());
    uri = "qemu+tcp://" + o.node + "/system";
  }
  auto r = snapshot::boot_snapshot(target(o, g), o.snap, o.as, uri, g.deadline);
  if (!r) return fail(r.error());
  if (g.json) {
    fmt::print("{}\n", nlohmann::json{{"vm", o.vm}, {"snapshot", o.snap}, {"new_vm", r->vm}, {"already_exists", r->already_exists},
                                      {"definition", r->definition}, {"hypervisor", r->hypervisor}, {"disks", r->disks}}.dump());
    return ok;
  }
  if (r->already_exists) {
    fmt::print("VM {} was already booted from snapshot {} of VM {}\n", o.as, o.snap, o.vm);
    return ok;
  }
  fmt::print("snapshot {} of VM {} booted as VM {} on {} (definition {}, disk{} {})\n", o.snap, o.vm, r->vm, r->hypervisor,
             r->definition, r->disks.size() == 1 ? "" : "s", fmt::join(r->disks, ", "));
  return ok;
}

}  // namespace

void add_vm_snapshot_commands(CLI::App& vm, GlobalOptions& global, std::function<int()>& run) {
  auto o = std::make_shared<SnapshotOptions>();
  auto* s = vm.add_subcommand("snapshot", "Cluster-aware snapshots: catalogue on the shared storage (docs/vm-ops.md)");
  s->require_subcommand(1);
  auto common = [&](CLI::App* c, bool with_snap, bool long_running) {
    c->add_option("NAME", o->vm, "The VM")->required();
    if (with_snap) c->add_option("SNAP", o->snap, "The snapshot")->required();
    c->add_option("--storage", o->storage, "The storage directory holding the VM's directory (default /var/lib/evos/vms)");
    c->add_flag("--json", global.json, "Print JSON");
    if (long_running) {
      c->add_option("--timeout", o->timeout, "Deadline for the whole command (default 180s)")->capture_default_str();
    }
  };
  auto remote = [&](CLI::App* c) {
    c->add_option("--remote-hypervisor", o->remote_hypervisor,
                  "How to reach libvirt on the node an HA-managed VM runs on, %n = the node (default qemu+tcp://%n/system)");
  };
  auto action = [&run, o, &global](int (*fn)(const SnapshotOptions&, const GlobalOptions&)) {
    return [&run, o, &global, fn] { run = [o, &global, fn] { return fn(*o, global); }; };
  };

  auto* create = s->add_subcommand(
      "create", "Take a snapshot (live when the VM runs: frozen through the guest agent, or crash-consistent)");
  common(create, true, true);
  remote(create);
  create->callback(action(run_create));

  auto* list = s->add_subcommand("list", "List a VM's snapshots (the same on every node)");
  common(list, false, false);
  list->callback(action(run_list));

  auto* revert = s->add_subcommand("revert", "Go back to a snapshot (any of them); a running VM is restarted");
  common(revert, true, true);
  remote(revert);
  revert->add_flag("--yes", o->yes, "Yes, throw the VM's state since the snapshot away");
  revert->callback(action(run_revert));

  auto* del = s->add_subcommand("delete", "Delete a snapshot without children");
  common(del, true, false);
  del->add_flag("--yes", o->yes, "Yes, delete it");
  del->callback(action(run_delete));

  auto* boot = s->add_subcommand("boot", "Start a snapshot as a new, independent VM (new name, UUID, MACs), e.g. on the other node");
  common(boot, true, true);
  boot->add_option("--as", o->as, "The new VM's name")->required();
  boot->add_option("--hypervisor", o->hypervisor, "libvirt URI of the node to run it on (default: -c)");
  boot->add_option("--node", o->node, "The node to run it on: qemu+tcp://NODE/system");
  boot->callback(action(run_boot));
}

}  // namespace evosctl
