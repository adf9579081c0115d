// evosd: follows libvirt's domain events on this node, tells Pacemaker at once when an HA VM stops
// behind its back, follows DRBD's events2 and Corosync's membership and quorum, and answers the VM
// agent's monitors from what it holds (docs/evosd.md).
// Behaviour lives in evos::daemon; this file parses the command line, lists the services and
// maps the result to an exit code.
#include <evos/daemon/config.hpp>
#include <evos/daemon/daemon.hpp>
#include <evos/log.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>
#include <optional>

namespace {

// Exit codes: 0 stopped by a signal, 1 a service could not start, 2 bad command line or config.
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

}  // namespace

int main(int argc, char** argv) {
  namespace daemon = evos::daemon;
  CLI::App app{"evosd: evos's event-driven node daemon (docs/evosd.md)", "evosd"};
  std::string config_path{daemon::default_config_path};
  std::map<std::string, std::string> settings;
  bool verbose = false, check = false, version = false;
  auto* config_opt = app.add_option("--config", config_path, "configuration file (default /etc/evos/evosd.conf)");
  auto setting = [&](const char* flag, const char* key, const char* help) {
    app.add_option_function<std::string>(flag, [&settings, key](const std::string& v) { settings[key] = v; }, help);
  };
  setting("--socket", "socket", "the Unix socket's path (config: socket)");
  setting("--uri", "libvirt_uri", "the libvirt URI to follow (config: libvirt_uri)");
  setting("--node", "node", "this node's cluster name (config: node; default: crm_node --name)");
  setting("--records", "records", "the VM agent's operation records (config: records)");
  setting("--metrics-listen", "metrics_listen", "ADDRESS:PORT of the metrics, or off (config: metrics_listen)");
  setting("--history", "history", "the history file evosctl stats reads, or off (config: history)");
  setting("--drbdsetup", "drbdsetup", "the drbdsetup whose events2 evosd follows (config: drbdsetup)");
  app.add_flag_function("--no-drbd-events", [&settings](std::int64_t) { settings["drbd_events"] = "no"; },
                        "do not follow drbdsetup events2 (config: drbd_events = no)");
  app.add_flag_function("--no-corosync-events", [&settings](std::int64_t) { settings["corosync_events"] = "no"; },
                        "do not follow Corosync's membership and quorum (config: corosync_events = no)");
  app.add_flag_function("--no-report", [&settings](std::int64_t) { settings["report_failures"] = "no"; },
                        "never run crm_resource --fail (config: report_failures = no)");
  app.add_flag("-v,--verbose", verbose, "log every event (debug lines)");
  app.add_flag("--check-config", check, "check the configuration and exit");
  app.add_flag("--version", version, "print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_usage;
  }
  if (version) {
    std::printf("evosd %s\n", EVOS_VERSION);
    return 0;
  }

  evos::StderrLog log("evosd", "", verbose);
  auto config = daemon::load_config(config_path, config_opt->count() > 0);
  if (!config) {
    log.error("{}", config.error().message());
    return exit_usage;
  }
  for (const auto& [key, value] : settings) {
    if (auto r = daemon::apply_setting(*config, key, value, "command line"); !r) {
      log.error("{}", r.error().message());
      return exit_usage;
    }
  }
  if (auto r = daemon::validate(*config); !r) {
    log.error("{}", r.error().message());
    return exit_usage;
  }
  if (check) {
    std::printf("configuration ok\n");
    return 0;
  }

  daemon::block_termination_signals();  // before any thread starts: only run_services waits for them
  daemon::Core core(*config, log, EVOS_VERSION);
  // The services evosd runs, started in this order and stopped in reverse.
  std::vector<std::unique_ptr<daemon::Service>> services;
  services.push_back(daemon::make_failure_reporter(core, log));
  services.push_back(daemon::make_libvirt_follower(core, log));
  services.push_back(daemon::make_socket_service(core, log));
  if (auto testip = daemon::make_testip_prober(core, log)) services.push_back(std::move(testip));
  if (auto drbd = daemon::make_drbd_follower(core, log)) services.push_back(std::move(drbd));
  if (auto corosync = daemon::make_corosync_follower(core, log)) services.push_back(std::move(corosync));
  if (auto metrics = daemon::make_metrics_service(core, log)) services.push_back(std::move(metrics));

  auto r = daemon::run_services(services, log);
  return r ? 0 : exit_failed;
}
