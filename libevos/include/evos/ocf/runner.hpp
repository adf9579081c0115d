// evos::ocf::run: the OCF calling convention around an agent's handler. It answers meta-data
// without I/O, parses the request and the declared parameters, bounds the whole action by the
// operation timeout (a watchdog ends the process with OCF_ERR_GENERIC and an exit reason naming
// what hung), and converts the outcome to the exit code and exit-reason line.
#pragma once

#include <evos/log.hpp>
#include <evos/ocf/exit_status.hpp>
#include <evos/ocf/metadata.hpp>
#include <evos/ocf/request.hpp>

#include <functional>
#include <optional>

namespace evos::ocf {

struct Context {
  const Request& request;
  const ParamValues& params;
  Log& log;
  Deadline deadline;  // when the handler must be done; the watchdog fires a little later
};

using Handler = std::function<Outcome(const Context&)>;

int run(int argc, char** argv, const AgentInfo& info, const Handler& handler);

// For a front end that answers some requests itself and hands the rest to another program (the
// VM agent's, docs/vm-agent.md "Two binaries"): like run(), but the handler may decline
// (nullopt), and then, as for every request run() would answer without the handler (meta-data,
// usage, no action, an undeclared action, a request or parameters that do not parse, a handler
// that throws), it returns nullopt having printed and logged nothing, so that the other program
// answers it exactly as it would have been answered without the front end. The watchdog is
// disarmed when it returns.
using FrontHandler = std::function<std::optional<Outcome>(const Context&)>;
std::optional<int> run_front(int argc, char** argv, const AgentInfo& info, const FrontHandler& handler);

}  // namespace evos::ocf
