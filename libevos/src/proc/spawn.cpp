#include "spawn.hpp"

#include <evos/proc/environment.hpp>

#include <fmt/core.h>

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

namespace evos::proc::detail {

using namespace std::chrono_literals;

std::array<std::atomic<pid_t>, max_children> running_groups{};

namespace {

// Finds argv[0] in `path` (execvp semantics without the shell fallback). An empty entry (a
// leading, trailing or doubled ':') means the current directory to execvp(3) and the shell
// (POSIX XBD 8.3, PATH); it is skipped here: a root agent must never run a program from whatever
// directory it was started in.
std::string resolve(const std::string& program, const std::string& path) {
  if (program.find('/') != std::string::npos) return program;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto end = path.find(':', start);
    const std::string_view dir = std::string_view(path).substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty()) {
      const std::string candidate = fmt::format("{}/{}", dir, program);
      struct stat st {};
      if (::access(candidate.c_str(), X_OK) == 0 && ::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode))
        return candidate;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return {};
}

std::vector<std::string> child_environment(const Options& o) {
  std::map<std::string, std::string> env = environment();
  for (const auto& name : o.unset_env) env.erase(name);
  for (const auto& [k, v] : o.env) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

// Waits for the child to exit without reaping it (WNOWAIT), forgets its group, then reaps it.
// 1: reaped; 0: still running (only when `block` is false); -1: waitid failed (errno).
int reap(pid_t pid, int& status, GroupSlot& slot, bool block) {
  siginfo_t info{};
  for (;;) {
    info.si_pid = 0;
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT | (block ? 0 : WNOHANG)) == 0) break;
    if (errno != EINTR) {
      slot.release();
      return -1;
    }
  }
  if (info.si_pid != pid) return 0;
  slot.release();
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return 1;
}

// Kills the child's process group: SIGTERM, a short grace, then SIGKILL; then reaps the child.
void kill_and_reap(pid_t pid, int& status, GroupSlot& slot) {
  ::kill(-pid, SIGTERM);
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(10ms);
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT | WNOHANG) == 0 && info.si_pid == pid) break;
  }
  ::kill(-pid, SIGKILL);  // the child if it ignored SIGTERM, and anything it left in its group
  reap(pid, status, slot, true);
}

Result<std::string> find_program(const std::string& program, const Options& options) {
  const char* env_path = std::getenv("PATH");
  const std::string search = !options.search_path.empty() ? options.search_path
                             : env_path                   ? env_path
                                                          : "/usr/sbin:/usr/bin:/sbin:/bin";
  std::string found = resolve(program, search);
  if (found.empty()) return make_error(Errc::not_installed, "{}: not found in PATH ({})", program, search);
  return found;
}

Result<pid_t> spawn(const std::string& program, const std::vector<std::string>& argv, const Options& options, int in_fd,
                    int out_fd, int err_fd, GroupSlot& slot) {
  const std::string what = describe(argv);
  if (!slot.ok()) return make_error(Errc::backend, "{}: more than {} children running at once", what, max_children);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);  // own process group: a deadline or a stop kills all of it
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> args = argv;
  std::vector<std::string> env = child_environment(options);
  auto c_args = c_strings(args);
  auto c_env = c_strings(env);
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, program.c_str(), &actions, &attr, c_args.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawned != 0)
    return make_error(spawned == ENOENT || spawned == EACCES ? Errc::not_installed : Errc::backend, "{}: cannot run: {}",
                      what, std::strerror(spawned));
  slot.set(pid);  // the child's PID is its process group (setpgroup 0)
  return pid;
}

}  // namespace evos::proc::detail
