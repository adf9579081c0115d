// evosd's libvirt side against libvirt's test:///default driver (shared by every connection of
// this process): lifecycle events reach the node state, a listing syncs it, the socket answers
// from it and the freshness rule vouches only for a domain that runs.
#include <evos/daemon/daemon.hpp>
#include <evos/daemon/protocol.hpp>
#include <evos/daemon/socket.hpp>
#include <evos/virt/libvirt_events.hpp>
#include <evos/virt/libvirt_hypervisor.hpp>

#include <catch2/catch.hpp>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "temp_dir.hpp"

using namespace evos;
using namespace std::chrono_literals;

namespace {

class MemoryLog final : public Log {
 public:
  void write(Level, std::string_view m) override {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(m);
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

// Waits for `done` (the event loop delivers asynchronously); fails the test if it never holds.
template <class F>
bool eventually(F done) {
  const auto until = Clock::now() + 20s;
  while (Clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

using evos::test::TempDir;

daemon::Config test_config(const std::string& dir) {
  daemon::Config c;
  c.libvirt_uri = "test:///default";
  c.socket = dir + "/run/evosd.sock";
  c.heartbeat = 100ms;
  c.max_silence = 3000ms;
  c.report_failures = false;
  c.records = dir + "/records";
  return c;
}

vm::Power power_of(const daemon::Core& core, const std::string& name) {
  auto s = core.snapshot();
  const auto* d = s.domain(name);
  return d ? d->state.power : vm::Power::absent;
}

}  // namespace

TEST_CASE("lifecycle events and the listing reach the node state") {
  const TempDir tmp("evos-evosd-test");  // removed with what the daemon left in it
  const std::string dir = tmp.str();
  MemoryLog log;
  daemon::Core core(test_config(dir), log, "test");
  virt::LibvirtEventSource source({"test:///default", 100ms, 10ms, 100ms}, core);
  source.start();
  REQUIRE(eventually([&] { return core.snapshot().fresh(daemon::Source::libvirt, Clock::now(), 3000ms); }));
  // The test driver's domain "test" runs from the start: the listing found it.
  CHECK(power_of(core, "test") == vm::Power::running);

  auto hv = virt::connect_libvirt("test:///default");
  REQUIRE(hv);
  REQUIRE((*hv)->destroy("test", false));
  REQUIRE(eventually([&] { return power_of(core, "test") == vm::Power::shut_off; }));
  CHECK(core.snapshot().domain("test")->state.reason == vm::Reason::destroyed);
  REQUIRE((*hv)->start("test"));
  REQUIRE(eventually([&] { return power_of(core, "test") == vm::Power::running; }));
  CHECK(core.counters().libvirt_events >= 2);
  CHECK(core.counters().libvirt_resyncs == 1);
  CHECK(source.stop());
}

TEST_CASE("the socket vouches for a running domain and for nothing else") {
  const TempDir tmp("evos-evosd-test");  // removed with what the daemon left in it
  const std::string dir = tmp.str();
  MemoryLog log;
  auto cfg = test_config(dir);
  daemon::Core core(cfg, log, "test");
  virt::LibvirtEventSource source({"test:///default", 100ms, 10ms, 100ms}, core);
  daemon::SocketServer server({.path = cfg.socket}, core, log);
  REQUIRE(server.start());
  struct stat st {};
  REQUIRE(::stat((dir + "/run").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat(cfg.socket.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // Before the source has connected: never vouched.
  auto v = daemon::ask_running(cfg.socket, "test", "", "test:///default", Deadline::after(2s));
  CHECK_FALSE(v.running);
  source.start();
  REQUIRE(eventually([&] { return daemon::ask_running(cfg.socket, "test", "", "test:///default", Deadline::after(2s)).running; }));
  // Another URI than the caller's is never vouched for.
  CHECK_FALSE(daemon::ask_running(cfg.socket, "test", "", "qemu:///system", Deadline::after(2s)).running);

  auto hv = virt::connect_libvirt("test:///default");
  REQUIRE(hv);
  REQUIRE((*hv)->destroy("test", false));
  REQUIRE(eventually([&] { return power_of(core, "test") == vm::Power::shut_off; }));
  v = daemon::ask_running(cfg.socket, "test", "", "test:///default", Deadline::after(2s));
  CHECK_FALSE(v.running);
  CHECK(v.why.find("shut off") != std::string::npos);
  CHECK_FALSE(daemon::ask_running(cfg.socket, "nosuch", "", "test:///default", Deadline::after(2s)).running);
  source.stop();
  server.stop();
  CHECK(::access(cfg.socket.c_str(), F_OK) != 0);  // removed on stop
}
