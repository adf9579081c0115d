// evosctl: the administrator's tool. Parses arguments, calls libevos, renders the result.
#include "cluster_commands.hpp"
#include "exit_codes.hpp"
#include "lab_command.hpp"
#include "mirror_commands.hpp"
#include "vm_commands.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>

int main(int argc, char** argv) {
  // The lab takes its own arguments (docs/lab.md); hand them over untouched.
  if (argc > 1 && std::string_view(argv[1]) == "lab" && !(argc > 2 && (std::string_view(argv[2]) == "--help" || std::string_view(argv[2]) == "-h")))
    return evosctl::exec_lab(argc, argv);

  CLI::App app{"evosctl: manage evos virtual machines and mirrors"};
  app.require_subcommand(1);
  evosctl::GlobalOptions global;
  const char* env_uri = std::getenv("EVOS_HYPERVISOR");
  global.hypervisor = env_uri && *env_uri ? env_uri : "qemu:///system";
  app.add_option("-c,--connect", global.hypervisor, "libvirt URI (default $EVOS_HYPERVISOR or qemu:///system)");

  std::function<int()> run;
  auto* version = app.add_subcommand("version", "Print the evos version");
  version->add_flag("--json", global.json, "Print JSON");
  version->callback([&] {
    run = [&] {
      if (global.json)
        fmt::print("{}\n", nlohmann::json{{"version", EVOS_VERSION}}.dump());
      else
        fmt::print("evosctl {}\n", EVOS_VERSION);
      return 0;
    };
  });
  auto& vm = evosctl::add_vm_commands(app, global, run);
  evosctl::add_cluster_commands(app, vm, global, run);
  evosctl::add_mirror_commands(app, global, run);
  app.add_subcommand("lab", "The two-node lab on this machine: up|down|status|exec NODE CMD...|kill NODE|boot NODE|"
                            "cut LINK NODE|heal LINK NODE [--name N] (see docs/lab.md)")
      ->allow_extras();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return evosctl::usage;
  }
  try {
    return run ? run() : evosctl::usage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "evosctl: unexpected error: {}\n", e.what());
    return evosctl::failure;
  }
}
