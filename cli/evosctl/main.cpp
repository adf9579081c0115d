// evosctl: the administrator's tool. Parses arguments, calls libevos, renders the result.
#include "backup_commands.hpp"
#include "cluster_commands.hpp"
#include "exit_codes.hpp"
#include "lab_command.hpp"
#include "mirror_commands.hpp"
#include "net_commands.hpp"
#include "stats_commands.hpp"
#include "vm_commands.hpp"
#include "vm_create_commands.hpp"

#include <evos/activity.hpp>
#include <evos/proc/run.hpp>
#include <evos/watchdog.hpp>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>

namespace {

// Every command gets a deadline (docs/evosctl.md, "Deadlines").
constexpr evos::Millis default_budget{30000};

// "vm list", "cluster status": the chosen chain of subcommands, for messages.
std::string command_name(const CLI::App& app) {
  std::string name;
  for (const CLI::App* sub = &app;;) {
    auto chosen = sub->get_subcommands();
    if (chosen.empty()) break;
    sub = chosen.front();
    name += (name.empty() ? "" : " ") + sub->get_name();
  }
  return name;
}

// The leaf subcommand's own --timeout (in seconds), given or its default, if it has one.
std::optional<evos::Millis> own_timeout(CLI::App& app) {
  CLI::App* leaf = &app;
  while (!leaf->get_subcommands().empty()) leaf = leaf->get_subcommands().front();
  if (leaf == &app) return std::nullopt;
  auto* opt = leaf->get_option_no_throw("--timeout");
  if (!opt) return std::nullopt;
  // The bound variable holds the given value or the default; this reads it back as text.
  auto seconds = evos::read_duration(opt->capture_default_str()->get_default_str(), "--timeout");
  return seconds ? std::optional<evos::Millis>(*seconds) : std::nullopt;
}

}  // namespace

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
  app.add_option("--timeout", global.timeout,
                 "Deadline for the whole command: 30s, 500ms, 2m (default: 30 s, or a command's own --timeout "
                 "plus a guard); past it evosctl names the call that hung and exits 7");
  // `evosctl vm list --timeout 5s`: an option a subcommand does not know is the global one.
  app.fallthrough();

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
  evosctl::add_vm_create_commands(vm, global, run);
  evosctl::add_mirror_commands(app, global, run);
  evosctl::add_backup_commands(app, global, run);
  evosctl::add_net_commands(app, global, run);
  evosctl::add_stats_commands(app, global, run);
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
  std::optional<evos::Millis> global_budget;
  if (!global.timeout.empty()) {
    auto t = evos::read_duration(global.timeout, "--timeout");
    if (!t) return evosctl::fail(t.error());
    if (t->count() == 0) return evosctl::fail(evos::Error(evos::Errc::invalid_argument, "--timeout must be more than 0"));
    global_budget = *t;
  }
  const evos::Millis budget = evos::command_budget(global_budget, own_timeout(app), default_budget);
  const std::string command = command_name(app);
  const auto hard = evos::Deadline::after(budget);
  global.deadline = hard.minus(evos::guard_time(budget));
  // A call blocked in a library (a libvirt RPC to a hung libvirtd, a Corosync IPC) answers no
  // deadline; the watchdog does, naming what it waited for (evos::Activity).
  evos::Watchdog watchdog(hard, [&command, budget] {
    evos::proc::kill_running_children();
    const std::string doing = evos::Activity::current();
    fmt::print(stderr, "evosctl: {} did not finish within its {} timeout (--timeout){}{}\n", command,
               evos::format_duration(budget), doing.empty() ? "" : " while waiting for ", doing);
    std::fflush(stderr);
    std::fflush(stdout);
    ::_exit(evosctl::timeout);  // not exit(): the command's thread may be blocked in a library
  });
  try {
    return run ? run() : evosctl::usage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "evosctl: unexpected error: {}\n", e.what());
    return evosctl::failure;
  }
}
