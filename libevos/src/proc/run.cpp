#include <evos/activity.hpp>
#include <evos/proc/environment.hpp>
#include <evos/proc/run.hpp>

#include "spawn.hpp"

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

using namespace detail;
using namespace std::chrono_literals;

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

  auto found = find_program(argv[0], options);
  if (!found) return std::move(found).error();
  const std::string& program = *found;

  // A step that comes after others used up the deadline is not started at all.
  if (deadline.expired()) return make_error(Errc::timeout, "{}: not started: the deadline had passed", what);

  Pipe in, out, err;
  if (!in.ok() || !out.ok() || !err.ok()) return make_error(Errc::backend, "{}: cannot create pipes: {}", what, std::strerror(errno));

  GroupSlot slot;
  auto spawned = spawn(program, argv, options, in.read_end(), out.write_end(), err.write_end(), slot);
  if (!spawned) return std::move(spawned).error();
  const pid_t pid = *spawned;

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
