#include <evos/activity.hpp>
#include <evos/proc/child.hpp>

#include "spawn.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace evos::proc {

using namespace std::chrono_literals;

namespace {

constexpr std::size_t max_stderr = 4096;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

}  // namespace

struct Child::Impl {
  std::string what;
  pid_t pid = -1;
  detail::GroupSlot slot;
  Fd out, err;
  std::size_t max_line = 0;
  std::string buffer;     // stdout read but not yet returned
  bool skipping = false;  // inside an overlong line, up to its '\n'
  std::string err_tail;
  std::optional<Exit> exit;

  ~Impl() { stop(0ms); }

  // Reads what stderr has (non-blocking), keeping its tail.
  void drain_err() {
    if (err.get() < 0) return;
    char buf[4096];
    for (;;) {
      const ssize_t r = ::read(err.get(), buf, sizeof buf);
      if (r > 0) {
        err_tail.append(buf, static_cast<std::size_t>(r));
        if (err_tail.size() > max_stderr) err_tail.erase(0, err_tail.size() - max_stderr);
        continue;
      }
      if (r == 0 || (errno != EINTR && errno != EAGAIN)) err.reset();
      return;
    }
  }

  Exit stop(Millis grace) {
    if (exit) return *exit;
    int status = 0;
    bool reaped = false;
    for (auto until = Clock::now() + grace; !reaped;) {
      const int r = detail::reap(pid, status, slot, false);
      if (r != 0) {
        reaped = true;
        break;
      }
      if (Clock::now() >= until) break;
      std::this_thread::sleep_for(5ms);
    }
    if (!reaped) detail::kill_and_reap(pid, status, slot);
    drain_err();
    out.reset();
    err.reset();
    Exit e;
    if (WIFEXITED(status)) e.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) e.signal = WTERMSIG(status);
    e.err = err_tail;
    exit = e;
    return e;
  }
};

std::string Exit::describe() const {
  std::string text = signal ? fmt::format("killed by signal {}", signal) : fmt::format("exited with status {}", exit_code);
  std::string tail = err;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
  if (const auto nl = tail.rfind('\n'); nl != std::string::npos) tail = tail.substr(nl + 1);  // the last line
  if (!tail.empty()) text += ": " + tail.substr(0, 300);
  return text;
}

Result<Child> Child::start(const std::vector<std::string>& argv, const Options& options, std::size_t max_line) {
  if (argv.empty()) return make_error(Errc::invalid_argument, "start: empty argv");
  auto program = detail::find_program(argv[0], options);
  if (!program) return std::move(program).error();
  Fd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null.get() < 0) return make_error(Errc::backend, "open /dev/null: {}", std::strerror(errno));
  detail::Pipe out, err;
  if (!out.ok() || !err.ok()) return make_error(Errc::backend, "{}: cannot create pipes: {}", describe(argv), std::strerror(errno));
  auto impl = std::make_unique<Impl>();
  impl->what = describe(argv);
  impl->max_line = max_line;
  auto pid = detail::spawn(*program, argv, options, null.get(), out.write_end(), err.write_end(), impl->slot);
  if (!pid) {
    impl->exit = Exit{};  // nothing to stop
    return std::move(pid).error();
  }
  impl->pid = *pid;
  out.close_write();
  err.close_write();
  impl->out.reset(out.release_read());
  impl->err.reset(err.release_read());
  ::fcntl(impl->out.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(impl->err.get(), F_SETFL, O_NONBLOCK);
  return Child(std::move(impl));
}

Child::Child(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Child::Child(Child&&) noexcept = default;
Child& Child::operator=(Child&&) noexcept = default;
Child::~Child() = default;

pid_t Child::pid() const { return impl_->pid; }

ReadLine Child::read_line(Deadline deadline) {
  Impl& c = *impl_;
  Activity activity(fmt::format("reading {}", c.what));
  for (;;) {
    // A complete line (or an overlong one) in the buffer first.
    const auto nl = c.buffer.find('\n');
    if (c.skipping) {
      if (nl == std::string::npos) {
        c.buffer.clear();
      } else {
        c.buffer.erase(0, nl + 1);
        c.skipping = false;
        continue;
      }
    } else if (nl != std::string::npos) {
      const bool overlong = nl > c.max_line;
      ReadLine r{ReadLine::What::line, c.buffer.substr(0, std::min(nl, c.max_line)), overlong};
      c.buffer.erase(0, nl + 1);
      return r;
    } else if (c.buffer.size() > c.max_line) {
      ReadLine r{ReadLine::What::line, c.buffer.substr(0, c.max_line), true};
      c.buffer.clear();
      c.skipping = true;
      return r;
    }
    if (c.out.get() < 0) {
      if (!c.buffer.empty() && !c.skipping) {
        ReadLine r{ReadLine::What::line, std::move(c.buffer), false};
        c.buffer.clear();
        return r;
      }
      return {ReadLine::What::end, {}, false};
    }
    const auto left = deadline.remaining();
    if (left.count() == 0) return {ReadLine::What::timeout, {}, false};
    pollfd fds[2] = {{c.out.get(), POLLIN, 0}, {c.err.get(), POLLIN, 0}};
    const nfds_t n = c.err.get() >= 0 ? 2 : 1;
    if (::poll(fds, n, static_cast<int>(std::min<long long>(left.count(), 1000))) < 0 && errno != EINTR)
      return {ReadLine::What::timeout, {}, false};
    if (n == 2 && fds[1].revents) c.drain_err();
    if (!fds[0].revents) continue;
    char buf[16384];
    const ssize_t r = ::read(c.out.get(), buf, sizeof buf);
    if (r > 0) {
      c.buffer.append(buf, static_cast<std::size_t>(r));
    } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
      c.out.reset();
    }
  }
}

Exit Child::stop(Millis grace) { return impl_->stop(grace); }

}  // namespace evos::proc
