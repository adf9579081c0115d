#include <evos/activity.hpp>
#include <evos/drbd/drbdsetup_control.hpp>
#include <evos/drbd/events2_parser.hpp>
#include <evos/drbd/status_json_parser.hpp>
#include <evos/proc/run.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>

namespace evos::drbd {
namespace {

Result<void> check_resource(const std::string& resource) {
  if (auto p = resource_name_problem(resource))
    return Error(Errc::invalid_argument, fmt::format("DRBD resource {} {}", text::quote_for_message(resource), *p));
  return {};
}

proc::Options run_options(const ControlOptions& o) {
  proc::Options options;
  options.env = o.env;
  options.search_path = o.search_path;
  return options;
}

}  // namespace

DrbdsetupControl::DrbdsetupControl(ControlOptions options) : options_(std::move(options)) {}

Result<void> DrbdsetupControl::drbdadm(const std::string& resource, std::vector<std::string> command, Deadline deadline) {
  if (auto ok = check_resource(resource); !ok) return ok.error();
  std::vector<std::string> argv{options_.drbdadm};
  if (!options_.config_file.empty()) {
    argv.push_back("-c");
    argv.push_back(options_.config_file);
  }
  argv.insert(argv.end(), command.begin(), command.end());
  argv.push_back(resource);
  const std::string described = proc::describe(argv);
  Activity activity(fmt::format("drbd: {}", described));
  auto ran = proc::run(argv, deadline, run_options(options_));
  if (!ran) return std::move(ran).error().context(described);
  if (ran->signal != 0)
    return make_error(Errc::backend, "{}: killed by signal {}", described, ran->signal);
  if (!ran->ok()) return classify_failure(described, ran->exit_code, ran->err);
  return {};
}

Result<std::string> DrbdsetupControl::drbdsetup_output(const std::string& resource, std::vector<std::string> args,
                                                       Deadline deadline, bool& not_up) {
  not_up = false;
  if (resource != "all") {
    if (auto ok = check_resource(resource); !ok) return ok.error();
  }
  std::vector<std::string> argv{options_.drbdsetup};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(resource);
  const std::string described = proc::describe(argv);
  Activity activity(fmt::format("drbd: {}", described));
  auto ran = proc::run(argv, deadline, run_options(options_));
  if (!ran) return std::move(ran).error().context(described);
  if (ran->signal != 0) return make_error(Errc::backend, "{}: killed by signal {}", described, ran->signal);
  if (!ran->ok()) {
    Error error = classify_failure(described, ran->exit_code, ran->err);
    if (error.code() == Errc::not_found) {
      not_up = true;
      return std::string();
    }
    return error;
  }
  return std::move(ran->out);
}

Result<void> DrbdsetupControl::up(const std::string& resource, Deadline deadline) {
  return drbdadm(resource, {"up"}, deadline);
}
Result<void> DrbdsetupControl::down(const std::string& resource, Deadline deadline) {
  return drbdadm(resource, {"down"}, deadline);
}
Result<void> DrbdsetupControl::adjust(const std::string& resource, Deadline deadline) {
  return drbdadm(resource, {"adjust"}, deadline);
}
Result<void> DrbdsetupControl::primary(const std::string& resource, bool force, Deadline deadline) {
  if (force) return drbdadm(resource, {"primary", "--force"}, deadline);
  return drbdadm(resource, {"primary"}, deadline);
}
Result<void> DrbdsetupControl::secondary(const std::string& resource, Deadline deadline) {
  return drbdadm(resource, {"secondary"}, deadline);
}
Result<void> DrbdsetupControl::connect(const std::string& resource, bool discard_my_data, Deadline deadline) {
  if (discard_my_data) return drbdadm(resource, {"connect", "--discard-my-data"}, deadline);
  return drbdadm(resource, {"connect"}, deadline);
}
Result<void> DrbdsetupControl::disconnect(const std::string& resource, Deadline deadline) {
  return drbdadm(resource, {"disconnect"}, deadline);
}
Result<void> DrbdsetupControl::invalidate(const std::string& resource, Deadline deadline) {
  return drbdadm(resource, {"invalidate"}, deadline);
}
Result<void> DrbdsetupControl::outdate(const std::string& resource, Deadline deadline) {
  return drbdadm(resource, {"outdate"}, deadline);
}
Result<void> DrbdsetupControl::verify(const std::string& resource, Deadline deadline) {
  return drbdadm(resource, {"verify"}, deadline);
}
Result<void> DrbdsetupControl::allow_two_primaries(const std::string& resource, bool allow, Deadline deadline) {
  return drbdadm(resource, {"net-options", allow ? "--allow-two-primaries=yes" : "--allow-two-primaries=no"}, deadline);
}

Result<ResourceState> DrbdsetupControl::state(const std::string& resource, Deadline deadline) {
  if (resource == "all") return make_error(Errc::invalid_argument, "state needs one resource, not 'all'");
  bool not_up = false;
  auto out = drbdsetup_output(resource, {"events2", "--now", "--statistics"}, deadline, not_up);
  if (!out) return std::move(out).error();
  if (not_up) return ResourceState{.name = resource};
  auto events = parse_events2(*out);
  if (!events) return std::move(events).error().context(fmt::format("read drbdsetup events2 of '{}'", resource));
  return state_from_events(resource, *events);
}

Result<std::vector<ResourceState>> DrbdsetupControl::status(const std::string& resource, Deadline deadline) {
  bool not_up = false;
  auto out = drbdsetup_output(resource, {"status", "--json"}, deadline, not_up);
  if (!out) return std::move(out).error();
  if (not_up) return std::vector<ResourceState>{};
  auto states = parse_status_json(*out);
  if (!states) return std::move(states).error().context(fmt::format("read drbdsetup status of '{}'", resource));
  return std::move(*states);
}

}  // namespace evos::drbd
