// evosd's socket server with a real Unix socket: malformed requests get error answers, a client
// that never reads is dropped without blocking others, the socket is root-only, a stale socket
// is replaced and a live one refused. And the core's side of the Corosync follower.
#include <evos/daemon/daemon.hpp>
#include <evos/daemon/socket.hpp>
#include <evos/file/fd.hpp>

#include <catch2/catch.hpp>

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "temp_dir.hpp"

using namespace evos;
using namespace std::chrono_literals;

namespace {

class NullLog final : public Log {
 public:
  void write(Level, std::string_view) override {}
};

using evos::test::TempDir;

daemon::Config config_in(const std::string& dir) {
  daemon::Config c;
  c.socket = dir + "/run/evosd.sock";
  c.libvirt_uri = "test:///default";
  return c;
}

file::Fd raw_connect(const std::string& path) {
  file::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

}  // namespace

TEST_CASE("malformed requests get an error answer and the server goes on") {
  const TempDir tmp("evos-sock-test");  // removed with what the daemon left in it
  const std::string dir = tmp.str();
  NullLog log;
  daemon::Core core(config_in(dir), log, "test");
  daemon::SocketServer server({.path = core.config().socket}, core, log);
  REQUIRE(server.start());
  for (const char* bad : {"not json", "{\"op\":\"reboot\"}", "[]", "{\"op\":\"vm\",\"name\":\"a b\"}", "\x01\x02\xff"}) {
    INFO(bad);
    auto a = daemon::ask(core.config().socket, bad, Deadline::after(5s));
    REQUIRE(a);
    CHECK(a->rfind("{\"error\":", 0) == 0);
    CHECK(a->find("\"ok\":false") != std::string::npos);
  }
  // A line over the limit is answered, then the client is closed.
  auto a = daemon::ask(core.config().socket, std::string(10000, 'x'), Deadline::after(5s));
  REQUIRE(a);
  CHECK(a->find("limit") != std::string::npos);
  auto ping = daemon::ask(core.config().socket, "{\"op\":\"ping\"}", Deadline::after(5s));
  REQUIRE(ping);
  CHECK(ping->find("\"ok\":true") != std::string::npos);
  CHECK(core.counters().socket_bad_requests == 6);
  server.stop();
}

TEST_CASE("a client that never reads is dropped and others are still answered") {
  const TempDir tmp("evos-sock-test");  // removed with what the daemon left in it
  const std::string dir = tmp.str();
  NullLog log;
  daemon::Core core(config_in(dir), log, "test");
  daemon::SocketServer server({.path = core.config().socket, .write_deadline = 300ms, .max_pending = 1u << 16}, core, log);
  REQUIRE(server.start());
  auto hog = raw_connect(core.config().socket);
  // Requests without ever reading the answers: the socket buffers fill, then the server's own.
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "{\"op\":\"status\"}\n";
  std::size_t sent = 0;
  const auto until = Clock::now() + 10s;
  while (sent < many.size() && Clock::now() < until) {
    const ssize_t w = ::send(hog.get(), many.data() + sent, many.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w > 0) sent += static_cast<std::size_t>(w);
    else if (w < 0 && errno != EAGAIN) break;  // dropped: EPIPE/ECONNRESET
    else std::this_thread::sleep_for(1ms);
    // Meanwhile another client is answered at once.
    if (sent > many.size() / 2) {
      auto p = daemon::ask(core.config().socket, "{\"op\":\"ping\"}", Deadline::after(2s));
      REQUIRE(p);
    }
  }
  for (int i = 0; i < 200 && core.counters().socket_clients_dropped == 0; ++i) std::this_thread::sleep_for(50ms);
  CHECK(core.counters().socket_clients_dropped == 1);
  auto p = daemon::ask(core.config().socket, "{\"op\":\"ping\"}", Deadline::after(2s));
  CHECK(p);
  server.stop();
}

TEST_CASE("the socket is root-only and a stale one is replaced but a live one refused") {
  const TempDir tmp("evos-sock-test");  // removed with what the daemon left in it
  const std::string dir = tmp.str();
  NullLog log;
  daemon::Core core(config_in(dir), log, "test");
  {
    daemon::SocketServer first({.path = core.config().socket}, core, log);
    REQUIRE(first.start());
    daemon::SocketServer second({.path = core.config().socket}, core, log);
    auto r = second.start();
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("another server answers") != std::string::npos);
    // A killed evosd leaves its socket file: simulated by a bound socket nobody listens on.
  }
  {
    file::Fd stale(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, core.config().socket.c_str(), sizeof a.sun_path - 1);
    REQUIRE(::bind(stale.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  CHECK(daemon::ask(core.config().socket, "{\"op\":\"ping\"}", Deadline::after(1s)).error().code() == Errc::not_found);
  daemon::SocketServer third({.path = core.config().socket}, core, log);
  REQUIRE(third.start());
  CHECK(daemon::ask(core.config().socket, "{\"op\":\"ping\"}", Deadline::after(2s)));
  third.stop();

  const std::string open_dir = dir + "/open";
  REQUIRE(::mkdir(open_dir.c_str(), 0755) == 0);
  daemon::SocketServer loose({.path = open_dir + "/evosd.sock"}, core, log);
  auto r = loose.start();
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("must be 0700") != std::string::npos);
  daemon::SocketServer relative({.path = "evosd.sock"}, core, log);
  CHECK_FALSE(relative.start());
}

TEST_CASE("asking where nothing listens fails at once as not found") {
  const TempDir tmp("evos-sock-test");  // removed with what the daemon left in it
  const std::string dir = tmp.str();
  auto r = daemon::ask(dir + "/none.sock", "{\"op\":\"ping\"}", Deadline::after(5s));
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::not_found);
  const auto v = daemon::ask_running(dir + "/none.sock", "web1", "", "qemu:///system", Deadline::after(5s));
  CHECK_FALSE(v.running);
}

namespace {
class LinesLog final : public Log {
 public:
  void write(Level level, std::string_view message) override {
    std::lock_guard lock(m);
    lines.push_back(fmt::format("{}: {}", level == Level::warning ? "warning" : level == Level::info ? "info" : "other", message));
  }
  std::vector<std::string> taken() {
    std::lock_guard lock(m);
    return std::exchange(lines, {});
  }
  std::mutex m;
  std::vector<std::string> lines;
};
}  // namespace

TEST_CASE("the core applies Corosync's views: changes counted and logged by name, current only while connected") {
  const TempDir tmp("evos-sock-test");  // removed with what the daemon left in it
  const std::string dir = tmp.str();
  LinesLog log;
  auto cfg = config_in(dir);
  cfg.corosync_events = false;
  daemon::Core core(cfg, log, "test");
  CHECK(daemon::make_corosync_follower(core, log) == nullptr);  // off: no service, the core told so
  CHECK_FALSE(core.snapshot().corosync_followed);
  core.corosync_followed(true);
  CHECK_FALSE(core.corosync_current());  // followed, not connected
  core.corosync_connected(false);
  const cluster::Nodelist names{"lab", 1, {{1, "alpha", false}, {2, "beta", false}}};
  auto first = core.corosync_view(true, 4, {1, 2}, names);
  CHECK(first.first);
  REQUIRE(core.corosync_current());
  CHECK(core.corosync_current()->nodes.size() == 2);
  CHECK(log.taken() == std::vector<std::string>{"info: corosync: following membership and quorum of cluster 'lab': members alpha (1), beta (2); quorate"});
  auto left = core.corosync_view(true, 8, {1}, std::nullopt);  // the nodelist unreadable: names as before
  CHECK(left.left == std::vector<std::uint32_t>{2});
  CHECK(log.taken() == std::vector<std::string>{"warning: corosync: node beta (2) left; quorate"});
  core.corosync_view(true, 8, {1}, names);  // the same view again: not counted, not logged
  CHECK(log.taken().empty());
  CHECK(core.counters().corosync_changes == 1);
  CHECK(core.counters().last_event.has_value());
  CHECK(core.corosync_disconnected("quorum_dispatch: corosync closed the connection (it stopped or restarted)"));
  CHECK_FALSE(core.corosync_disconnected("quorum_dispatch: corosync closed the connection (it stopped or restarted)"));
  CHECK_FALSE(core.corosync_current());  // the old view is never served as current
  core.corosync_connected(true);
  auto back = core.corosync_view(true, 12, {1, 2}, names);
  CHECK(back.joined == std::vector<std::uint32_t>{2});
  CHECK(log.taken() == std::vector<std::string>{"info: corosync: node beta (2) joined; quorate"});
  CHECK(core.counters().corosync_reconnects == 1);
  CHECK(core.counters().corosync_changes == 2);
  ::rmdir(dir.c_str());
}
