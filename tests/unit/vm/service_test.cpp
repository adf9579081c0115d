#include <evos/vm/service.hpp>

#include "fake_hypervisor.hpp"
#include "fake_time.hpp"

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::vm;
using namespace std::chrono_literals;
using evos::test::FakeHypervisor;
using evos::test::FakeTime;
using evos::test::MemoryLog;

namespace {

Params params_with(std::map<std::string, std::string> extra = {}) {
  extra.emplace("config", "/x.xml");
  auto values = ocf::parse_params(param_specs(), extra);
  REQUIRE(values);
  auto p = Params::from(*values);
  REQUIRE(p);
  return *p;
}

const std::string web1_xml = "<domain type='kvm'><name>web1</name></domain>";

}  // namespace

TEST_CASE("start defines and starts a stopped domain - and is idempotent") {
  FakeHypervisor hv;
  MemoryLog log;
  FakeTime time;
  Service svc(hv, log, params_with(), {"web1", ""}, time);
  REQUIRE(svc.start(web1_xml, time.after(5s)));
  CHECK(hv.calls == std::vector<std::string>{"define", "start web1"});
  CHECK(hv.domains["web1"].state.power == Power::running);

  hv.calls.clear();
  REQUIRE(svc.start(web1_xml, time.after(5s)));
  CHECK(hv.calls.empty());
  CHECK(log.contains("already running"));
}

TEST_CASE("start resumes a domain paused by an administrator but refuses one paused by an I/O error") {
  FakeHypervisor hv;
  MemoryLog log;
  FakeTime time;
  Service svc(hv, log, params_with(), {"web1", ""}, time);
  hv.domains["web1"].state = {Power::paused, Reason::user};
  REQUIRE(svc.start(web1_xml, time.after(5s)));
  CHECK(hv.calls == std::vector<std::string>{"resume web1"});

  hv.domains["web1"].state = {Power::paused, Reason::io_error};
  auto r = svc.start(web1_xml, time.after(5s));
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("I/O error") != std::string::npos);
}

TEST_CASE("stop: absent or shut off is success - graceful first - destroy after the budget") {
  FakeHypervisor hv;
  MemoryLog log;
  FakeTime time;
  SECTION("absent") {
    Service svc(hv, log, params_with(), {"web1", ""}, time);
    REQUIRE(svc.stop(time.after(5s)));
    CHECK(hv.calls.empty());
  }
  SECTION("guest shuts down") {
    hv.domains["web1"].state = {Power::running, Reason::booted};
    Service svc(hv, log, params_with({{"shutdown_timeout", "1"}}), {"web1", ""}, time);
    REQUIRE(svc.stop(time.after(10s)));
    CHECK(hv.calls == std::vector<std::string>{"shutdown web1"});
  }
  SECTION("guest ignores the request: destroyed once the graceful budget is spent") {
    hv.domains["web1"].state = {Power::running, Reason::booted};
    hv.guest_ignores_shutdown = true;
    Service svc(hv, log, params_with({{"shutdown_timeout", "1"}}), {"web1", ""}, time);
    REQUIRE(svc.stop(time.after(10s)));
    CHECK(hv.calls == std::vector<std::string>{"shutdown web1", "destroy web1"});
    CHECK(time.slept() == 1000ms);  // the whole graceful budget, polled, then no more
    CHECK(log.contains("did not shut down"));
  }
  SECTION("a guest that takes 3 s to shut down is waited for, within its budget") {
    hv.domains["web1"].state = {Power::running, Reason::booted};
    hv.guest_ignores_shutdown = true;
    time.on_sleep = [&](Millis slept) {
      if (slept >= 3s) hv.domains["web1"].state = {Power::shut_off, Reason::shutdown};
    };
    Service svc(hv, log, params_with({{"shutdown_timeout", "10"}}), {"web1", ""}, time);
    REQUIRE(svc.stop(time.after(60s)));
    CHECK(hv.calls == std::vector<std::string>{"shutdown web1"});
    CHECK(time.slept() == 3000ms);
    CHECK(log.contains("domain 'web1' shut down"));
  }
  SECTION("force_stop destroys at once") {
    hv.domains["web1"].state = {Power::running, Reason::booted};
    Service svc(hv, log, params_with({{"force_stop", "true"}}), {"web1", ""}, time);
    REQUIRE(svc.stop(time.after(10s)));
    CHECK(hv.calls == std::vector<std::string>{"destroy web1"});
  }
  SECTION("a paused domain cannot shut down: destroyed") {
    hv.domains["web1"].state = {Power::paused, Reason::io_error};
    Service svc(hv, log, params_with(), {"web1", ""}, time);
    REQUIRE(svc.stop(time.after(10s)));
    CHECK(hv.calls == std::vector<std::string>{"destroy web1"});
  }
  SECTION("a hypervisor that cannot answer is an error - never 'stopped'") {
    hv.state_error = Error(Errc::backend, "connection refused");
    Service svc(hv, log, params_with(), {"web1", ""}, time);
    auto r = svc.stop(time.after(5s));
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("connection refused") != std::string::npos);
  }
}

TEST_CASE("monitor maps states - and the deep check at level 10") {
  FakeHypervisor hv;
  MemoryLog log;
  FakeTime time;
  Service svc(hv, log, params_with(), {"web1", ""}, time);
  CHECK(svc.monitor(0)->health == Health::stopped);
  hv.domains["web1"].state = {Power::paused, Reason::io_error};
  CHECK(svc.monitor(0)->health == Health::failed);
  hv.domains["web1"].state = {Power::running, Reason::booted};
  hv.deep.control_ok = false;
  hv.deep.control_state = "error (monitor)";
  CHECK(svc.monitor(0)->health == Health::running);
  CHECK(svc.monitor(10)->health == Health::failed);
  hv.state_error = Error(Errc::timeout, "libvirt did not answer");
  CHECK_FALSE(svc.monitor(0));
}

TEST_CASE("migrate_to moves snapshot metadata along and reports the downtime") {
  FakeHypervisor src, dst;
  src.migration_destination = &dst;
  MemoryLog log;
  FakeTime time;
  src.domains["web1"].state = {Power::running, Reason::booted};
  src.domains["web1"].snapshots = {{"s1", "<domainsnapshot><name>s1</name></domainsnapshot>", false},
                                   {"s2", "<domainsnapshot><name>s2</name></domainsnapshot>", true}};
  Service svc(src, log, params_with(), {"web1", ""}, time);
  std::string connected_to;
  // Hand the destination out through the connector without giving up ownership.
  struct Forward final : Hypervisor {
    FakeHypervisor& to;
    explicit Forward(FakeHypervisor& t) : to(t) {}
    Result<DomainState> state(const std::string& d) override { return to.state(d); }
    Result<DeepCheck> deep_check(const std::string& d) override { return to.deep_check(d); }
    Result<DomainSummary> summary(const std::string& d) override { return to.summary(d); }
    Result<std::vector<DomainSummary>> list() override { return to.list(); }
    Result<void> define(const std::string& x) override { return to.define(x); }
    Result<void> start(const std::string& d) override { return to.start(d); }
    Result<void> resume(const std::string& d) override { return to.resume(d); }
    Result<void> request_shutdown(const std::string& d, ShutdownMode m) override { return to.request_shutdown(d, m); }
    Result<void> destroy(const std::string& d, bool g) override { return to.destroy(d, g); }
    Result<MigrationStats> migrate(const std::string& d, const MigrationRequest& r, Deadline dl,
                                   const MigrationSupervisor& p) override {
      return to.migrate(d, r, dl, p);
    }
    Result<std::optional<MigrationStats>> completed_migration(const std::string& d) override { return to.completed_migration(d); }
    Result<std::vector<SnapshotMetadata>> snapshots(const std::string& d) override { return to.snapshots(d); }
    Result<void> drop_snapshot_metadata(const std::string& d, const std::string& s) override { return to.drop_snapshot_metadata(d, s); }
    Result<void> redefine_snapshot(const std::string& d, const SnapshotMetadata& s) override { return to.redefine_snapshot(d, s); }
    Result<bool> backup_running(const std::string& d) override { return to.backup_running(d); }
    Result<void> abort_job(const std::string& d) override { return to.abort_job(d); }
    Result<NetworkPresence> network_presence(const std::string& n) override { return to.network_presence(n); }
  };
  HypervisorConnector to_dst = [&](const std::string& uri) -> Result<std::unique_ptr<Hypervisor>> {
    connected_to = uri;
    return std::unique_ptr<Hypervisor>(std::make_unique<Forward>(dst));
  };

  auto stats = svc.migrate_to("node2", to_dst, time.after(10s));
  REQUIRE(stats);
  CHECK(stats->downtime == 40ms);
  // Children dropped first, then migrated, then redefined parents-first on the destination.
  CHECK(src.calls == std::vector<std::string>{"drop-snapshot s2", "drop-snapshot s1", "migrate web1 qemu+tcp://node2/system"});
  CHECK(connected_to == "qemu+tcp://node2/system");
  REQUIRE(dst.domains["web1"].snapshots.size() == 2);
  CHECK(dst.domains["web1"].snapshots[0].name == "s1");
  CHECK(dst.domains["web1"].snapshots[1].current);
  CHECK(log.contains("downtime 40 ms"));

  MemoryLog dst_log;
  Service on_dst(dst, dst_log, params_with(), {"web1", ""}, time);
  CHECK(on_dst.migrate_from(time.after(2s))->health == Health::running);
  CHECK(dst_log.contains("downtime 40 ms"));
}

TEST_CASE("a failed migration puts the snapshot metadata back on the source") {
  FakeHypervisor src;
  MemoryLog log;
  FakeTime time;
  src.domains["web1"].state = {Power::running, Reason::booted};
  src.domains["web1"].snapshots = {{"s1", "<x/>", true}};
  src.migrate_error = Error(Errc::backend, "unable to connect to server");
  Service svc(src, log, params_with(), {"web1", ""}, time);
  auto r = svc.migrate_to("node2", {}, time.after(5s));
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("unable to connect") != std::string::npos);
  REQUIRE(src.domains["web1"].snapshots.size() == 1);
  CHECK(src.domains["web1"].snapshots[0].current);
}

TEST_CASE("migrate_to runs the migration policy: the plan, then a raised limit for a pass that did not converge") {
  FakeHypervisor hv;
  MemoryLog log;
  FakeTime time;
  hv.domains["web1"].state = {Power::running, Reason::booted};
  auto pass = [](unsigned long long i, unsigned long long remaining_mib) {
    MigrationProgress p;
    p.memory_iteration = i;
    p.memory_remaining = remaining_mib << 20;
    return p;
  };
  hv.migration_progress = {pass(1, 200), pass(2, 40), pass(3, 45)};
  Service svc(hv, log, params_with({{"migration_speed", "500"}}), {"web1", ""}, time);
  auto stats = svc.migrate_to("node2", nullptr, time.after(60s));
  REQUIRE(stats);
  REQUIRE(hv.last_migration);
  CHECK(hv.last_migration->plan.max_downtime == 30ms);
  CHECK(hv.last_migration->plan.auto_converge);
  CHECK_FALSE(hv.last_migration->plan.postcopy);
  CHECK(hv.last_migration->plan.bandwidth_mib_s == 500);
  CHECK(std::find(hv.calls.begin(), hv.calls.end(), "set-max-downtime 60") != hv.calls.end());
  CHECK(log.contains("downtime limit 30 ms, bandwidth 500 MiB/s, auto-converge on, post-copy off"));
  CHECK(log.contains("pass 3: not converging"));
  CHECK(log.contains("downtime limit raised to 60 ms"));
}

TEST_CASE("only a running domain migrates - migrate_from fails at once when nothing arrived") {
  FakeHypervisor hv;
  MemoryLog log;
  FakeTime time;
  Service svc(hv, log, params_with(), {"web1", ""}, time);
  CHECK_FALSE(svc.migrate_to("node2", {}, time.after(1s)));
  auto from = svc.migrate_from(time.after(5s));
  REQUIRE_FALSE(from);
  CHECK(from.error().message().find("did not bring it") != std::string::npos);
  CHECK(time.sleeps.empty());  // nothing arrived: no reason to wait out the timeout
}

TEST_CASE("migrate_to waits for a running backup, then migrates") {
  FakeHypervisor hv;
  MemoryLog log;
  FakeTime time;
  hv.domains["web1"].state = {Power::running, Reason::booted};
  hv.backup_polls = 3;  // the backup ends after three looks
  Service svc(hv, log, params_with(), {"web1", ""}, time);
  REQUIRE(svc.migrate_to("node2", nullptr, time.after(60s)));
  CHECK(std::find(hv.calls.begin(), hv.calls.end(), "abort_job web1") == hv.calls.end());
  CHECK(std::find(hv.calls.begin(), hv.calls.end(), "migrate web1 qemu+tcp://node2/system") != hv.calls.end());
  CHECK(log.contains("a backup of 'web1' is running"));
  CHECK(log.contains("finished; migrating"));
  CHECK(time.slept() == 1500ms);  // busy at the first look and at two more, half a second apart
}

TEST_CASE("migrate_to ends a backup that outlasts half its time, then migrates") {
  FakeHypervisor hv;
  MemoryLog log;
  FakeTime time;
  hv.domains["web1"].state = {Power::running, Reason::booted};
  hv.backup_polls = -1;  // never ends on its own
  Service svc(hv, log, params_with(), {"web1", ""}, time);
  REQUIRE(svc.migrate_to("node2", nullptr, time.after(60s)));
  const auto abort = std::find(hv.calls.begin(), hv.calls.end(), "abort_job web1");
  REQUIRE(abort != hv.calls.end());
  CHECK(std::find(abort, hv.calls.end(), "migrate web1 qemu+tcp://node2/system") != hv.calls.end());
  CHECK(log.contains("ending it so the migration can go ahead"));
  // The backup had half of the 60 s (on the fake clock), not all of it.
  CHECK(time.slept() == 30s);
}

TEST_CASE("start and validate refuse a domain whose libvirt network this node lacks or has not started") {
  FakeHypervisor hv;
  MemoryLog log;
  FakeTime time;
  Service svc(hv, log, params_with(), {"web1", ""}, time);
  const std::string xml =
      "<domain type='kvm'><name>web1</name><devices>"
      "<interface type='network'><source network='lan'/></interface>"
      "<interface type='network'><source network='dmz'/></interface>"
      "<interface type='bridge'><source bridge='br0'/></interface></devices></domain>";
  hv.networks = {{"lan", true}, {"dmz", false}};
  auto r = svc.start(xml, time.after(5s));
  REQUIRE_FALSE(r);
  // not_installed: OCF_ERR_INSTALLED, missing on this node only (the other may have it)
  CHECK(r.error().code() == Errc::not_installed);
  CHECK(r.error().message() == "start domain 'web1': domain 'web1' lacks libvirt network here: 'dmz' (defined, not active)");
  CHECK(r.error().message().find("'lan'") == std::string::npos);
  CHECK(hv.calls == std::vector<std::string>{"network_presence lan", "network_presence dmz"});  // never defined nor started

  hv.networks.erase("dmz");
  auto v = svc.check_networks(xml);
  REQUIRE_FALSE(v);
  CHECK(v.error().message() == "domain 'web1' lacks libvirt network here: 'dmz' (not defined)");

  hv.networks["dmz"] = true;
  hv.calls.clear();
  REQUIRE(svc.check_networks(xml));
  REQUIRE(svc.start(xml, time.after(5s)));
  CHECK(hv.calls == std::vector<std::string>{"network_presence lan", "network_presence dmz", "network_presence lan",
                                             "network_presence dmz", "define", "start web1"});
}
