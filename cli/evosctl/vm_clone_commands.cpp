#include "vm_clone_commands.hpp"

#include "exit_codes.hpp"

#include <evos/clone/operations.hpp>
#include <evos/vm/layout.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace evosctl {
namespace {

struct CloneOptions {
  std::string source;
  std::string name;
  bool linked = false;
  bool full = false;
  std::string snapshot;
  std::string storage = evos::vm::default_storage_dir;
  std::string timeout = "60m";
};

int clone(const GlobalOptions& g, const CloneOptions& o) {
  evos::clone::CloneRequest q;
  q.storage = o.storage;
  q.source = o.source;
  q.name = o.name;
  q.kind = o.linked ? evos::clone::Kind::linked : evos::clone::Kind::full;
  if (!o.snapshot.empty()) q.snapshot = o.snapshot;
  q.deadline = g.deadline;
  auto r = evos::clone::clone_vm(q);
  if (!r) return fail(r.error());
  if (g.json) {
    auto disks = nlohmann::json::array();
    for (const auto& d : r->disks)
      disks.push_back({{"target", d.target}, {"file", d.file}, {"format", d.format},
                       {"method", std::string(evos::clone::to_string(d.method))}, {"why", d.why}});
    fmt::print("{}\n", nlohmann::json{{"name", r->name}, {"source", o.source},
                                      {"snapshot", o.snapshot.empty() ? nlohmann::json() : nlohmann::json(o.snapshot)},
                                      {"kind", std::string(evos::clone::to_string(r->kind))},
                                      {"definition", r->definition}, {"disks", disks}}
                           .dump(2));
    return ok;
  }
  fmt::print("{} is a {} clone of {}{}: {}\n", r->name, evos::clone::to_string(r->kind), o.source,
             o.snapshot.empty() ? "" : fmt::format(" at snapshot {}", o.snapshot), r->definition);
  for (const auto& d : r->disks)
    fmt::print("  {}: {} by {}: {}\n", d.target, d.file, evos::clone::to_string(d.method), d.why);
  return ok;
}

int make_template(const GlobalOptions& g, const std::string& name, const std::string& storage) {
  auto r = evos::clone::make_template(storage, name, g.deadline);
  if (!r) return fail(r.error());
  if (g.json) {
    fmt::print("{}\n", nlohmann::json{{"name", r->name}, {"already", r->already}, {"disks", r->disks}}.dump(2));
    return ok;
  }
  if (r->already) {
    fmt::print("{} is a template already\n", r->name);
    return ok;
  }
  fmt::print("{} is a template: its disks are read-only, it is not started, linked clones may use it\n", r->name);
  for (const auto& d : r->disks) fmt::print("  {}\n", d);
  return ok;
}

}  // namespace

void add_vm_clone_commands(CLI::App& vm, GlobalOptions& global, std::function<int()>& run) {
  auto o = std::make_shared<CloneOptions>();
  auto* c = vm.add_subcommand("clone", "Copy a shut-off VM, a template or a VM's snapshot as a new VM (new name, UUID, MACs, disks)");
  c->add_option("SRC", o->source, "The VM to copy")->required();
  c->add_option("NEW", o->name, "The new VM's name")->required();
  auto* linked = c->add_flag("--linked", o->linked, "qcow2 overlays on a template's disks");
  auto* full = c->add_flag("--full", o->full, "An independent copy: reflink where the file system can, else a copy (default)");
  linked->excludes(full);
  c->add_option("--from-snapshot", o->snapshot, "Copy the state of this snapshot of SRC (SRC may run meanwhile; a full clone)");
  c->add_option("--storage", o->storage, "The storage directory of both VMs")->capture_default_str();
  c->add_option("--timeout", o->timeout, "Deadline for the whole command (default 60m)")->capture_default_str();
  c->add_flag("--json", global.json, "Print JSON");
  c->callback([&global, &run, o] { run = [&global, o] { return clone(global, *o); }; });

  auto t = std::make_shared<CloneOptions>();
  auto* tp = vm.add_subcommand("template", "Make a shut-off VM a template: read-only disks, never started, a base for linked clones");
  tp->add_option("SRC", t->source, "The VM")->required();
  tp->add_option("--storage", t->storage, "The VM's storage directory")->capture_default_str();
  tp->add_flag("--json", global.json, "Print JSON");
  tp->callback([&global, &run, t] { run = [&global, t] { return make_template(global, t->source, t->storage); }; });
}

}  // namespace evosctl
