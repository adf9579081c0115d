#include <evos/daemon/protocol.hpp>
#include <evos/daemon/socket.hpp>
#include <evos/file/fd.hpp>

#include <fmt/core.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <list>
#include <thread>
#include <vector>

namespace evos::daemon {
namespace {

using file::Fd;

Result<sockaddr_un> address_of(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return make_error(Errc::invalid_config, "socket path {} is empty or longer than {} bytes", path, sizeof addr.sun_path - 1);
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

std::string errno_text(int e) { return std::strerror(e); }

int poll_ms(Deadline deadline) {
  const auto ms = deadline.remaining().count();
  return static_cast<int>(std::min<long long>(ms, 60000));
}

}  // namespace

// --- client ---------------------------------------------------------------------------------

Result<std::string> ask(const std::string& path, std::string_view request, Deadline deadline) {
  auto addr = address_of(path);
  if (!addr) return std::move(addr).error();
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return make_error(Errc::backend, "socket for {}: {}", path, errno_text(errno));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0) {
    const int e = errno;
    if (e == ENOENT || e == ECONNREFUSED) return make_error(Errc::not_found, "nothing listens at {}: {}", path, errno_text(e));
    // A Unix socket whose backlog is full answers EAGAIN: the server is not taking clients.
    return make_error(Errc::backend, "connect to {}: {}", path, errno_text(e));
  }
  std::string out(request);
  if (out.empty() || out.back() != '\n') out += '\n';
  std::size_t sent = 0;
  std::string in;
  char buf[8192];
  for (;;) {
    if (deadline.expired()) return make_error(Errc::timeout, "no answer from {} within the deadline", path);
    pollfd p{fd.get(), static_cast<short>(sent < out.size() ? POLLOUT : POLLIN), 0};
    const int n = ::poll(&p, 1, poll_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(Errc::backend, "poll on {}: {}", path, errno_text(errno));
    if (n == 0) continue;  // the deadline check above ends it
    if (sent < out.size()) {
      const ssize_t w = ::send(fd.get(), out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (w < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (w < 0) return make_error(Errc::backend, "send to {}: {}", path, errno_text(errno));
      sent += static_cast<std::size_t>(w);
      continue;
    }
    const ssize_t r = ::recv(fd.get(), buf, sizeof buf, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (r < 0) return make_error(Errc::backend, "read from {}: {}", path, errno_text(errno));
    if (r == 0) return make_error(Errc::backend, "{} closed the connection without an answer", path);
    in.append(buf, static_cast<std::size_t>(r));
    if (auto nl = in.find('\n'); nl != std::string::npos) return in.substr(0, nl);
    if (in.size() > (4u << 20)) return make_error(Errc::backend, "answer from {} is over 4 MiB", path);
  }
}

Vouch ask_running(const std::string& socket, const std::string& domain, const std::string& uuid,
                  const std::string& uri, Deadline deadline) {
  auto line = ask(socket, render_request({Request::Op::vm, domain}), deadline);
  if (!line) return {false, line.error().message()};
  auto a = parse_vm_answer(*line);
  if (!a) return {false, a.error().message()};
  if (auto why = distrust(*a, {domain, uuid, uri, monitor_max_silence})) return {false, *why};
  return {true, "evosd vouches that it runs"};
}

// --- server ---------------------------------------------------------------------------------

struct SocketServer::Impl {
  SocketOptions options;
  Responder& responder;
  Log& log;
  Fd listener;
  Fd wake;  // eventfd: stop()
  std::thread thread;
  bool bound = false;

  struct Client {
    Fd fd;
    std::string in, out;
    Clock::time_point last_input;
    std::optional<Clock::time_point> out_since;  // when unsent output appeared
    bool closing = false;                        // close once `out` is sent
  };
  std::list<Client> clients;

  Impl(SocketOptions o, Responder& r, Log& l) : options(std::move(o)), responder(r), log(l) {}

  Result<void> prepare_directory() {
    const auto slash = options.path.rfind('/');
    if (slash == std::string::npos || slash == 0)
      return make_error(Errc::invalid_config, "socket path {} must be absolute and in a directory of its own", options.path);
    const std::string dir = options.path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return make_error(Errc::invalid_config, "cannot create the socket directory {}: {}", dir, errno_text(errno));
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0)
      return make_error(Errc::invalid_config, "socket directory {}: {}", dir, errno_text(errno));
    if (!S_ISDIR(st.st_mode)) return make_error(Errc::invalid_config, "socket directory {} is not a directory", dir);
    if (st.st_uid != ::geteuid())
      return make_error(Errc::invalid_config, "socket directory {} is owned by uid {}, not {}", dir, st.st_uid, ::geteuid());
    if ((st.st_mode & 077) != 0)
      return make_error(Errc::invalid_config, "socket directory {} has mode {:o}; it must be 0700 (root only)", dir,
                        st.st_mode & 07777);
    return {};
  }

  Result<void> bind_socket() {
    auto addr = address_of(options.path);
    if (!addr) return std::move(addr).error();
    struct stat st {};
    if (::lstat(options.path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) return make_error(Errc::invalid_config, "{} exists and is not a socket", options.path);
      Fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
      if (probe.get() >= 0 && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) == 0)
        return make_error(Errc::invalid_config, "another server answers at {} (is evosd running already?)", options.path);
      ::unlink(options.path.c_str());  // stale: left by a killed evosd
    }
    listener = Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (listener.get() < 0) return make_error(Errc::backend, "socket: {}", errno_text(errno));
    if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0)
      return make_error(Errc::backend, "bind {}: {}", options.path, errno_text(errno));
    bound = true;
    // The directory (0700) already keeps others out; the mode says so on the socket too.
    if (::chmod(options.path.c_str(), 0600) != 0) return make_error(Errc::backend, "chmod {}: {}", options.path, errno_text(errno));
    if (::listen(listener.get(), 64) != 0) return make_error(Errc::backend, "listen on {}: {}", options.path, errno_text(errno));
    return {};
  }

  void drop(std::list<Client>::iterator& it, std::string_view why) {
    responder.client_dropped(why);
    log.warning("socket client dropped: {}", why);
    it = clients.erase(it);
  }

  void accept_all() {
    for (;;) {
      Fd c(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (c.get() < 0) return;  // EAGAIN: no more; other errors (EMFILE) end this round
      if (clients.size() >= options.max_clients) {
        responder.client_dropped("too many clients");
        continue;  // closed at once by Fd
      }
      Client cl;
      cl.fd = std::move(c);
      cl.last_input = Clock::now();
      clients.push_back(std::move(cl));
    }
  }

  // Reads what is there and answers every complete line; false to close the client.
  bool read_from(Client& c) {
    char buf[8192];
    // At most 64 KiB per round, so one client sending without pause cannot starve the others.
    for (int round = 0; round < 8; ++round) {
      const ssize_t r = ::recv(c.fd.get(), buf, sizeof buf, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (r <= 0) {
        c.closing = true;  // EOF or error: send what is left, then close
        break;
      }
      c.last_input = Clock::now();
      c.in.append(buf, static_cast<std::size_t>(r));
      std::size_t nl;
      while (!c.closing && (nl = c.in.find('\n')) != std::string::npos) {
        std::string line = c.in.substr(0, nl);
        c.in.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        c.out += responder.answer(line);
      }
      if (c.in.size() > max_request_bytes) {
        c.out += responder.answer(c.in);  // answered as too long, then the client is closed
        c.in.clear();
        c.closing = true;
      }
      if (c.closing) break;
    }
    return true;
  }

  void write_to(Client& c) {
    while (!c.out.empty()) {
      const ssize_t w = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) break;
      if (w < 0) {
        c.out.clear();
        c.closing = true;
        break;
      }
      c.out.erase(0, static_cast<std::size_t>(w));
    }
    if (c.out.empty()) c.out_since.reset();
    else if (!c.out_since) c.out_since = Clock::now();
  }

  void run() {
    std::vector<pollfd> fds;
    for (;;) {
      fds.clear();
      fds.push_back({wake.get(), POLLIN, 0});
      fds.push_back({listener.get(), POLLIN, 0});
      for (auto& c : clients)
        fds.push_back({c.fd.get(), static_cast<short>((c.closing ? 0 : POLLIN) | (c.out.empty() ? 0 : POLLOUT)), 0});
      // No fixed tick: poll wakes for input, the stop, or the earliest client deadline.
      std::optional<Clock::time_point> earliest;
      auto sooner = [&](Clock::time_point t) { if (!earliest || t < *earliest) earliest = t; };
      for (const auto& c : clients) {
        if (c.out_since) sooner(*c.out_since + options.write_deadline);
        if (c.out.empty()) sooner(c.last_input + options.idle_timeout);
      }
      const int n = ::poll(fds.data(), fds.size(), poll_timeout_ms(earliest, Clock::now()));
      if (n < 0 && errno != EINTR) {
        log.error("socket poll: {}", errno_text(errno));
        std::this_thread::sleep_for(Millis(100));
        continue;
      }
      if (fds[0].revents) return;
      if (fds[1].revents & POLLIN) accept_all();
      std::size_t i = 2;
      const auto now = Clock::now();
      for (auto it = clients.begin(); it != clients.end(); ++i) {
        auto& c = *it;
        const short rev = i < fds.size() ? fds[i].revents : 0;
        if (rev & (POLLIN | POLLHUP | POLLERR)) read_from(c);
        write_to(c);
        if (c.out.size() > options.max_pending) {
          drop(it, fmt::format("{} bytes of answers unread", c.out.size()));
          continue;
        }
        if (c.out_since && now - *c.out_since > options.write_deadline) {
          drop(it, fmt::format("answers unread for more than {}", format_duration(options.write_deadline)));
          continue;
        }
        if (c.closing && c.out.empty()) {
          it = clients.erase(it);
          continue;
        }
        if (c.out.empty() && now - c.last_input > options.idle_timeout) {
          it = clients.erase(it);
          continue;
        }
        ++it;
      }
    }
  }
};

SocketServer::SocketServer(SocketOptions options, Responder& responder, Log& log)
    : impl_(std::make_unique<Impl>(std::move(options), responder, log)) {}

SocketServer::~SocketServer() { stop(); }

Result<void> SocketServer::start() {
  if (impl_->thread.joinable()) return {};
  if (auto r = impl_->prepare_directory(); !r) return r;
  if (auto r = impl_->bind_socket(); !r) return r;
  impl_->wake = Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (impl_->wake.get() < 0) return make_error(Errc::backend, "eventfd: {}", errno_text(errno));
  impl_->thread = std::thread([this] { impl_->run(); });
  return {};
}

void SocketServer::stop() {
  if (impl_->thread.joinable()) {
    const std::uint64_t one = 1;
    (void)!::write(impl_->wake.get(), &one, sizeof one);
    impl_->thread.join();
  }
  impl_->clients.clear();
  impl_->listener = Fd();
  if (impl_->bound) ::unlink(impl_->options.path.c_str());
  impl_->bound = false;
}

}  // namespace evos::daemon
