// evos::proc::replace_with: hands this process over to another program (execv(2)): same process,
// same argv and the same environment. For a front end that passes on what it does not answer
// (the VM agent's, docs/vm-agent.md "Two binaries"); not a way to run a command (proc::run).
#pragma once

#include <evos/error.hpp>

#include <string>

namespace evos::proc {

// The directory of this process's executable as the kernel names it (/proc/self/exe, through
// every symlink and in this mount namespace): a path nobody but the process's own file decides.
Result<std::string> own_directory();

// execv(2) of `path` with `argv` and this process's environment; returns only when that failed,
// with the reason. A relative `path` is refused (no PATH lookup, no working-directory surprise).
Error replace_with(const std::string& path, char** argv);

}  // namespace evos::proc
