// evos::proc::run: runs a program by argv (never through a shell) with a deadline, and captures
// its output. The child gets its own process group, and the whole group is killed (SIGTERM,
// then SIGKILL) if the deadline passes, so nothing it started outlives the call.
#pragma once

#include <evos/deadline.hpp>
#include <evos/error.hpp>

#include <map>
#include <string>
#include <vector>

namespace evos::proc {

struct Options {
  std::string stdin_data;                   // written to the child's stdin, then closed
  std::map<std::string, std::string> env;   // set (added to or replacing the inherited environment)
  std::vector<std::string> unset_env;       // removed from the inherited environment
  std::size_t max_output = 16u << 20;       // per stream; more is an error (a runaway child)
  std::string search_path;                  // PATH used to find argv[0]; "" = this process's PATH.
                                            // Empty entries are skipped (never ".").
};

struct Completed {
  int exit_code = -1;   // 0..255, or -1 if killed by a signal
  int signal = 0;       // the signal that ended it, or 0
  std::string out;
  std::string err;

  [[nodiscard]] bool ok() const { return exit_code == 0; }
};

// Errors: not_installed if argv[0] cannot be found/executed, timeout if the deadline passed
// (the child is killed and reaped), backend for pipe/fork failures. A non-zero exit is not an
// error here: the caller decides what the code means.
Result<Completed> run(const std::vector<std::string>& argv, Deadline deadline, const Options& options = {});

// SIGKILLs the process group of every child run() started and has not reaped yet, in any thread
// of this process. For a watchdog about to end the process (_exit): each child leads a group of
// its own, so neither the child nor anything it started would otherwise die with us. Lock-free
// and async-signal-safe.
void kill_running_children() noexcept;

// "prog arg1 'arg 2'" for log messages only (shell-quoted for readability, never executed).
std::string describe(const std::vector<std::string>& argv);

}  // namespace evos::proc
