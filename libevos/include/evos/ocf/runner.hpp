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

namespace evos::ocf {

struct Context {
  const Request& request;
  const ParamValues& params;
  Log& log;
  Deadline deadline;  // when the handler must be done; the watchdog fires a little later
};

using Handler = std::function<Outcome(const Context&)>;

int run(int argc, char** argv, const AgentInfo& info, const Handler& handler);

}  // namespace evos::ocf
