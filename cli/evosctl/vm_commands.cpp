#include "vm_commands.hpp"

#include "exit_codes.hpp"
#include "output.hpp"
#include "vm_clone_commands.hpp"
#include "vm_snapshot_commands.hpp"

#include <evos/virt/libvirt_hypervisor.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <memory>

namespace evosctl {
namespace {

int list(const GlobalOptions& g) {
  auto hv = evos::virt::connect_libvirt(g.hypervisor, evos::virt::Access::read_only);
  if (!hv) return fail(hv.error());
  auto domains = (*hv)->list();
  if (!domains) return fail(domains.error());
  if (g.json) {
    auto arr = nlohmann::json::array();
    for (const auto& d : *domains) arr.push_back(to_json(d));
    fmt::print("{}\n", nlohmann::json{{"hypervisor", g.hypervisor}, {"domains", arr}}.dump(2));
  } else {
    fmt::print("{}", domain_table(*domains));
  }
  return 0;
}

int status(const GlobalOptions& g, const std::string& name) {
  auto hv = evos::virt::connect_libvirt(g.hypervisor, evos::virt::Access::read_only);
  if (!hv) return fail(hv.error());
  auto d = (*hv)->summary(name);
  if (!d) return fail(d.error());
  if (g.json)
    fmt::print("{}\n", to_json(*d).dump(2));
  else
    fmt::print("{}", domain_details(*d));
  return 0;
}

}  // namespace

CLI::App& add_vm_commands(CLI::App& app, GlobalOptions& global, std::function<int()>& run) {
  auto* vm = app.add_subcommand("vm", "Virtual machines on a hypervisor");
  vm->require_subcommand(1);

  auto* ls = vm->add_subcommand("list", "List the domains with their state and health");
  ls->add_flag("--json", global.json, "Print JSON");
  ls->callback([&] { run = [&] { return list(global); }; });

  auto name = std::make_shared<std::string>();
  auto* st = vm->add_subcommand("status", "Show one domain");
  st->add_option("NAME", *name, "Domain name")->required();
  st->add_flag("--json", global.json, "Print JSON");
  st->callback([&, name] { run = [&, name] { return status(global, *name); }; });
  add_vm_clone_commands(*vm, global, run);
  add_vm_snapshot_commands(*vm, global, run);
  return *vm;
}

}  // namespace evosctl
