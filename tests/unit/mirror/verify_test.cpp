#include "fake_mirror.hpp"
#include "fake_time.hpp"

#include <evos/mirror/verify.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::mirror;
using namespace evos::testing;
using namespace std::chrono_literals;
using drbd::ConnState;
using drbd::DiskState;
using drbd::ReplState;
using drbd::Role;

namespace {

Deadline soon() { return Deadline::after(9000ms); }

drbd::ResourceState verifying(ReplState repl, double done, std::uint64_t oos) {
  auto s = healthy(Role::primary);
  s.connections[0].peer_devices[0].replication = repl;
  s.connections[0].peer_devices[0].done_percent = done;
  s.connections[0].peer_devices[0].out_of_sync_kib = oos;
  return s;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("verify may start on a connected mirror with both disks UpToDate") {
  CHECK(may_start_verify(healthy(Role::primary)));
  CHECK(may_start_verify(healthy(Role::secondary, Role::primary)));
}

TEST_CASE("verify is refused with the reason when it cannot run") {
  struct Row {
    const char* what;
    drbd::ResourceState state;
    Errc code;
    const char* reason;
  };
  auto split = two_node(Role::primary, DiskState::up_to_date, ConnState::standalone, Role::unknown, DiskState::dunknown);
  split.connections[0].split_brain = true;
  auto no_peer = healthy();
  no_peer.connections.clear();
  auto ahead = healthy(Role::primary);
  ahead.connections[0].peer_devices[0].replication = ReplState::ahead;
  const std::vector<Row> rows = {
      {"not up", drbd::ResourceState{.name = "r0"}, Errc::not_found, "not up on this node"},
      {"disconnected",
       two_node(Role::primary, DiskState::up_to_date, ConnState::connecting, Role::unknown, DiskState::dunknown),
       Errc::invalid_argument, "the peer beta is Connecting"},
      {"standalone",
       two_node(Role::primary, DiskState::up_to_date, ConnState::standalone, Role::unknown, DiskState::dunknown),
       Errc::invalid_argument, "the peer beta is StandAlone"},
      {"split brain", split, Errc::invalid_argument, "split brain with beta"},
      {"no peer", no_peer, Errc::invalid_argument, "no peer is configured"},
      {"resync source", syncing_source(), Errc::invalid_argument, "a resync is running (sending here, 42.0% done"},
      {"resync target", syncing_target(), Errc::invalid_argument, "a resync is running (receiving here, 42.0% done"},
      {"verify running", verifying(ReplState::verify_source, 12.5, 0), Errc::invalid_argument,
       "a verify is already running (VerifyS here, 12.5% done)"},
      {"peer verifying", verifying(ReplState::verify_target, 3.0, 0), Errc::invalid_argument,
       "a verify is already running (VerifyT here"},
      {"local outdated",
       two_node(Role::secondary, DiskState::outdated, ConnState::connected, Role::primary, DiskState::up_to_date),
       Errc::invalid_argument, "the local disk is Outdated"},
      {"peer diskless",
       two_node(Role::primary, DiskState::up_to_date, ConnState::connected, Role::secondary, DiskState::diskless),
       Errc::invalid_argument, "the peer beta's disk is Diskless"},
      {"ahead", ahead, Errc::invalid_argument, "replication with beta is Ahead"},
  };
  for (const auto& row : rows) {
    INFO(row.what);
    auto r = may_start_verify(row.state);
    REQUIRE_FALSE(r);
    INFO(r.error().message());
    CHECK(r.error().code() == row.code);
    CHECK(has(r.error().message(), row.reason));
  }
}

TEST_CASE("start verify runs drbdadm verify only when allowed") {
  FakeDrbd drbd;
  REQUIRE(start_verify(drbd, healthy(Role::primary), soon()));
  CHECK(drbd.calls == std::vector<std::string>{"verify"});

  FakeDrbd refused;
  auto r = start_verify(refused, syncing_source(), soon());
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::invalid_argument);
  CHECK(refused.calls.empty());

  FakeDrbd failing;
  failing.failures.emplace("verify", Error(Errc::invalid_config, "drbdadm verify r0: refused: no verify-alg"));
  auto f = start_verify(failing, healthy(Role::primary), soon());
  REQUIRE_FALSE(f);
  CHECK(f.error().code() == Errc::invalid_config);
  CHECK(has(f.error().message(), "no verify-alg"));
}

TEST_CASE("the verify report reads progress and out-of-sync from the state") {
  const auto running = verify_report(verifying(ReplState::verify_source, 40.0, 8));
  CHECK(running.running);
  CHECK(running.source);
  CHECK(running.done_percent == 40.0);
  CHECK(running.out_of_sync_kib == 8u);
  CHECK(running.peer == "beta");

  const auto target = verify_report(verifying(ReplState::verify_target, 10.0, 0));
  CHECK(target.running);
  CHECK_FALSE(target.source);

  auto after = healthy(Role::primary);
  after.connections[0].peer_devices[0].out_of_sync_kib = 4096;
  const auto done = verify_report(after);
  CHECK_FALSE(done.running);
  CHECK_FALSE(done.done_percent);
  CHECK(done.out_of_sync_kib == 4096u);
  const auto advice = out_of_sync_advice(done);
  CHECK(has(advice, "4096 KiB differ between this node and beta"));
  CHECK(has(advice, "drbdadm disconnect r0 && drbdadm connect r0"));
  CHECK(has(advice, "evosctl mirror resync r0"));
  CHECK(out_of_sync_advice(verify_report(healthy())).empty());
}

TEST_CASE("a verify is not reported as a resync") {
  const auto s = verifying(ReplState::verify_source, 40.0, 0);
  CHECK_FALSE(drbd::sync_progress(s));
  CHECK(drbd::verify_progress(s) == 40.0);
  CHECK(drbd::is_verifying(s));
  CHECK_FALSE(drbd::is_sync_source(s));
  CHECK_FALSE(drbd::is_degraded(s).yes);
  CHECK_FALSE(drbd::is_verifying(syncing_source()));
  CHECK_FALSE(drbd::verify_progress(syncing_source()));
}

TEST_CASE("wait verify polls until the verify has finished") {
  FakeDrbd drbd;
  drbd.current = verifying(ReplState::verify_source, 10.0, 0);
  int sleeps = 0;
  auto r = wait_verify(drbd, "r0", soon(), 500ms, [&](std::chrono::milliseconds d) {
    CHECK(d <= 500ms);
    ++sleeps;
    if (sleeps == 1) drbd.current = verifying(ReplState::verify_source, 60.0, 4);
    if (sleeps == 2) {
      drbd.current = healthy(Role::primary);
      drbd.current.connections[0].peer_devices[0].out_of_sync_kib = 12;
    }
  });
  REQUIRE(r);
  CHECK(sleeps == 2);
  CHECK(drbd.reads == 3);
  CHECK_FALSE(r->running);
  CHECK(r->out_of_sync_kib == 12u);
}

TEST_CASE("wait verify fails when the peer goes away or the resource goes down") {
  FakeDrbd drbd;
  drbd.current = verifying(ReplState::verify_source, 10.0, 4);
  auto r = wait_verify(drbd, "r0", soon(), 10ms, [&](std::chrono::milliseconds) {
    drbd.current = two_node(Role::primary, DiskState::up_to_date, ConnState::connecting, Role::unknown, DiskState::dunknown);
    drbd.current.connections[0].peer_devices[0].out_of_sync_kib = 4;
  });
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::backend);
  CHECK(has(r.error().message(), "stopped because the peer beta is Connecting; 4 KiB found out of sync so far"));

  FakeDrbd down;
  down.current = verifying(ReplState::verify_target, 10.0, 0);
  auto d = wait_verify(down, "r0", soon(), 10ms, [&](std::chrono::milliseconds) { down.current = drbd::ResourceState{.name = "r0"}; });
  REQUIRE_FALSE(d);
  CHECK(has(d.error().message(), "went down"));

  FakeDrbd broken;
  broken.failures.emplace("state", Error(Errc::backend, "drbdsetup events2: killed by signal 9"));
  auto b = wait_verify(broken, "r0", soon(), 10ms, [](std::chrono::milliseconds) {});
  REQUIRE_FALSE(b);
  CHECK(has(b.error().message(), "killed by signal 9"));
}

TEST_CASE("wait verify times out with the progress and leaves the verify running") {
  FakeDrbd drbd;
  drbd.current = verifying(ReplState::verify_source, 33.0, 8);
  evos::test::FakeTime time;
  auto r = wait_verify(drbd, "r0", time.after(30s), 500ms, time);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::timeout);
  CHECK(has(r.error().message(), "still running (VerifyS, 33.0% done, 8 KiB out of sync so far)"));
  CHECK(time.sleeps.size() == 60);  // polled every 500 ms up to the deadline, no further
  CHECK(time.slept() == 30s);
  CHECK(drbd.calls.empty());  // nothing was stopped
}
