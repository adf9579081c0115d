#include <evos/activity.hpp>
#include <evos/proc/environment.hpp>
#include <evos/proc/run.hpp>

#include <fmt/core.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

namespace evos::proc {
namespace {

using namespace std::chrono_literals;

class Pipe {
 public:
  Pipe() {
    if (::pipe2(fds_, O_CLOEXEC) != 0) fds_[0] = fds_[1] = -1;
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  [[nodiscard]] bool ok() const { return fds_[0] >= 0; }
  [[nodiscard]] int read_end() const { return fds_[0]; }
  [[nodiscard]] int write_end() const { return fds_[1]; }
  void close_read() { close_fd(fds_[0]); }
  void close_write() { close_fd(fds_[1]); }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fds_[2] = {-1, -1};
};

// The process groups of the children run() has started and not reaped (0: a free slot, -1:
// reserved for a spawn in progress). A fixed array of atomics, so that a watchdog can read it
// while any other thread is anywhere, without a lock it could find taken.
constexpr std::size_t max_children = 64;
std::array<std::atomic<pid_t>, max_children> running_groups{};

// One slot of running_groups, from before the spawn until the child is reaped. The group is
// forgotten only once the child has exited and before it is reaped: until the reap its PID (and
// so the group ID) cannot be reused.
class GroupSlot {
 public:
  GroupSlot() {
    for (auto& s : running_groups) {
      pid_t expected = 0;
      if (s.compare_exchange_strong(expected, -1)) {
        slot_ = &s;
        return;
      }
    }
  }
  ~GroupSlot() { release(); }
  GroupSlot(const GroupSlot&) = delete;
  GroupSlot& operator=(const GroupSlot&) = delete;
  [[nodiscard]] bool ok() const { return slot_ != nullptr; }
  void set(pid_t pgid) {
    if (slot_) slot_->store(pgid);
  }
  void release() {
    if (slot_) slot_->store(0);
    slot_ = nullptr;
  }

 private:
  std::atomic<pid_t>* slot_ = nullptr;
};

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

}  // namespace

void kill_running_children() noexcept {
  for (auto& s : running_groups) {
    const pid_t pgid = s.load();
    if (pgid > 0) ::kill(-pgid, SIGKILL);
  }
}

std::string describe(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@+%") == std::string::npos;
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

Result<Completed> run(const std::vector<std::string>& argv, Deadline deadline, const Options& options) {
  if (argv.empty()) return make_error(Errc::invalid_argument, "run: empty argv");
  const std::string what = describe(argv);
  Activity activity(fmt::format("process {}", what));

  const char* env_path = std::getenv("PATH");
  const std::string search = !options.search_path.empty() ? options.search_path
                             : env_path                   ? env_path
                                                          : "/usr/sbin:/usr/bin:/sbin:/bin";
  const std::string program = resolve(argv[0], search);
  if (program.empty()) return make_error(Errc::not_installed, "{}: not found in PATH ({})", argv[0], search);

  // A step that comes after others used up the deadline is not started at all.
  if (deadline.expired()) return make_error(Errc::timeout, "{}: not started: the deadline had passed", what);

  Pipe in, out, err;
  if (!in.ok() || !out.ok() || !err.ok()) return make_error(Errc::backend, "{}: cannot create pipes: {}", what, std::strerror(errno));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read_end(), 0);
  posix_spawn_file_actions_adddup2(&actions, out.write_end(), 1);
  posix_spawn_file_actions_adddup2(&actions, err.write_end(), 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);  // own process group: the deadline kills all of it
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> args = argv;
  std::vector<std::string> env = child_environment(options);
  auto c_args = c_strings(args);
  auto c_env = c_strings(env);
  GroupSlot slot;
  if (!slot.ok()) {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return make_error(Errc::backend, "{}: more than {} children running at once", what, max_children);
  }
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, program.c_str(), &actions, &attr, c_args.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawned == 0) slot.set(pid);  // the child's PID is its process group (setpgroup 0)
  if (spawned != 0)
    return make_error(spawned == ENOENT || spawned == EACCES ? Errc::not_installed : Errc::backend, "{}: cannot run: {}",
                      what, std::strerror(spawned));

  in.close_read();
  out.close_write();
  err.close_write();
  ::fcntl(in.write_end(), F_SETFL, O_NONBLOCK);
  ::signal(SIGPIPE, SIG_IGN);  // a child that exits without reading stdin must not kill us

  Completed result;
  std::size_t written = 0;
  if (options.stdin_data.empty()) in.close_write();
  bool out_open = true, err_open = true, overflow = false, timed_out = false;
  while (out_open || err_open || in.write_end() >= 0) {
    std::vector<pollfd> fds;
    if (out_open) fds.push_back({out.read_end(), POLLIN, 0});
    if (err_open) fds.push_back({err.read_end(), POLLIN, 0});
    if (in.write_end() >= 0) fds.push_back({in.write_end(), POLLOUT, 0});
    const auto left = deadline.remaining();
    if (left.count() == 0) {
      timed_out = true;
      break;
    }
    const int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) break;
    for (const auto& p : fds) {
      if (!p.revents) continue;
      if (p.fd == in.write_end()) {
        const ssize_t w = ::write(p.fd, options.stdin_data.data() + written, options.stdin_data.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if (w < 0 && errno != EAGAIN) written = options.stdin_data.size();
        if (written >= options.stdin_data.size()) in.close_write();
        continue;
      }
      char buf[65536];
      const ssize_t r = ::read(p.fd, buf, sizeof buf);
      std::string& sink = p.fd == out.read_end() ? result.out : result.err;
      bool& open = p.fd == out.read_end() ? out_open : err_open;
      if (r > 0) {
        sink.append(buf, static_cast<std::size_t>(r));
        if (sink.size() > options.max_output) overflow = true;
      } else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
        open = false;
      }
    }
    if (overflow) break;
  }

  int status = 0;
  if (timed_out || overflow) {
    kill_and_reap(pid, status, slot);
    if (timed_out) return make_error(Errc::timeout, "{}: still running at the deadline; killed", what);
    return make_error(Errc::backend, "{}: printed more than {} bytes; killed", what, options.max_output);
  }
  // Output closed: wait for the exit, still bounded by the deadline.
  for (;;) {
    const int reaped = reap(pid, status, slot, false);
    if (reaped > 0) break;
    if (reaped < 0) return make_error(Errc::backend, "{}: waitid: {}", what, std::strerror(errno));
    if (deadline.expired()) {
      kill_and_reap(pid, status, slot);
      return make_error(Errc::timeout, "{}: still running at the deadline; killed", what);
    }
    std::this_thread::sleep_for(2ms);
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

}  // namespace evos::proc
