#include <evos/activity.hpp>
#include <evos/ocf/runner.hpp>
#include <evos/proc/environment.hpp>
#include <evos/proc/run.hpp>
#include <evos/watchdog.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>

namespace evos::ocf {
namespace {

void print_exit_reason(const std::string& prefix, std::string_view reason) {
  // One line: crm_mon shows the first line only, and a newline in a reason would end it early.
  std::string line(reason);
  std::replace(line.begin(), line.end(), '\n', ' ');
  fmt::print(stderr, "{}{}\n", prefix, line);
  std::fflush(stderr);
}

void print_usage(const AgentInfo& info) {
  std::string actions;
  for (const auto& a : info.actions)
    if (actions.find(a.name) == std::string::npos) actions += (actions.empty() ? "" : "|") + a.name;
  fmt::print(stderr, "usage: {} {{{}}}\n", info.name, actions);
}

// The handler declines with nullopt (front ends only: `front` makes every answer that is not the
// handler's own a nullopt too, printed and logged nowhere).
std::optional<int> run_impl(int argc, char** argv, const AgentInfo& info, const FrontHandler& handler, bool front) {
  const std::string action = argc > 1 ? argv[1] : "";
  if (front && (action.empty() || action == "meta-data" || action == "usage" || action == "help" || !info.action(action)))
    return std::nullopt;
  // OCF 1.1: meta-data needs no parameters and no privileges; answer it before anything else.
  if (action == "meta-data") {
    fmt::print("{}", render_metadata(info));
    return static_cast<int>(Status::success);
  }
  if (action == "usage" || action == "help") {
    print_usage(info);
    return static_cast<int>(Status::success);
  }
  if (action.empty()) {
    print_usage(info);
    return static_cast<int>(Status::err_args);
  }

  const auto env = proc::environment();
  const auto started = Clock::now();
  auto request = parse_request(action, env, info);
  if (front && !request) return std::nullopt;
  const bool verbose = env.contains("OCF_TRACE_RA") || (env.contains("HA_debug") && env.at("HA_debug") != "0");
  StderrLog log("evos-" + info.name, request ? request->instance : "", verbose);
  if (!request) {
    log.error("{}", request.error().message());
    print_exit_reason("ocf-exit-reason:", request.error().message());
    return static_cast<int>(to_status(request.error().code()));
  }
  const Request& req = *request;
  if (!info.action(action)) {
    log.error("action {} is not implemented", text::quote_for_message(action));
    return static_cast<int>(Status::err_unimplemented);
  }

  const Millis guard = guard_time(req.timeout);
  const auto hard_deadline = Deadline::at(started + req.timeout - guard / 2);
  const std::string prefix = req.exit_reason_prefix;
  Watchdog watchdog(hard_deadline, [&req, &log, &prefix] {
    const std::string doing = Activity::current();
    const std::string reason = fmt::format("{} did not finish within its {} ms timeout{}{}", req.action,
                                           req.timeout.count(), doing.empty() ? "" : " while waiting for ", doing);
    // The children proc::run started lead process groups of their own: end them with us.
    proc::kill_running_children();
    log.error("{}", reason);
    print_exit_reason(prefix, reason);
    ::_exit(static_cast<int>(Status::err_generic));  // not exit(): other threads may be blocked in a library
  });

  Outcome outcome;
  auto params = parse_params(info.params, req.reskeys);
  if (!params) {
    if (front) return std::nullopt;
    outcome = Outcome::from(params.error());
  } else {
    try {
      auto answer = handler(Context{req, *params, log, Deadline::at(started + req.timeout - guard)});
      if (!answer) return std::nullopt;
      outcome = std::move(*answer);
    } catch (const std::exception& e) {
      if (front) return std::nullopt;
      outcome = {Status::err_generic, fmt::format("{} failed unexpectedly: {}", action, e.what())};
    }
  }

  if (outcome.status != Status::success && outcome.status != Status::not_running &&
      outcome.status != Status::running_promoted) {
    if (!outcome.reason.empty()) {
      log.write(outcome.status == Status::degraded || outcome.status == Status::degraded_promoted ? Level::warning
                                                                                                 : Level::error,
                fmt::format("{}: {} ({})", action, outcome.reason, to_string(outcome.status)));
      print_exit_reason(prefix, outcome.reason);
    }
  }
  return static_cast<int>(outcome.status);
}

}  // namespace

int run(int argc, char** argv, const AgentInfo& info, const Handler& handler) {
  const auto always = [&handler](const Context& ctx) -> std::optional<Outcome> { return handler(ctx); };
  return *run_impl(argc, argv, info, always, false);
}

std::optional<int> run_front(int argc, char** argv, const AgentInfo& info, const FrontHandler& handler) {
  return run_impl(argc, argv, info, handler, true);
}

}  // namespace evos::ocf
