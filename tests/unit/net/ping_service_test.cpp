#include <evos/net/ping_service.hpp>

#include "fake_net.hpp"

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::net;
using namespace evos::testing;
using namespace std::chrono_literals;

namespace {

std::int64_t fixed_now() { return 1718000000; }

struct Rig {
  explicit Rig(std::string host_list = "198.18.1.254 fd00::1=2 gw.example") {
    auto hosts = parse_host_list(host_list);
    REQUIRE(hosts);
    params.hosts = *hosts;
    params.attribute = "evos-testip";
    resolver.table["gw.example"] = "198.18.2.1";
    prober.up = {"198.18.1.254", "fd00::1", "198.18.2.1"};
  }
  PingService service() { return PingService(resolver, prober, attrd, store, log, params, fixed_now); }

  PingParams params;
  FakeResolver resolver;
  FakeProber prober;
  FakeAttributes attrd;
  MemoryStore store;
  MemoryLog log;
};

Deadline soon() { return Deadline::after(9000ms); }

}  // namespace

TEST_CASE("start resolves names once and publishes the score and the detail") {
  Rig rig;
  auto r = rig.service().start(soon());
  REQUIRE(r);
  CHECK(r->summary.score == 4000);
  CHECK(r->assessment.health == Health::healthy);
  CHECK(rig.attrd.values["evos-testip"] == "4000");
  REQUIRE(rig.attrd.calls.size() == 2);
  CHECK(rig.attrd.calls[0].what == "update");
  CHECK(rig.attrd.calls[0].dampen == 5000ms);
  CHECK(rig.attrd.calls[1].what == "private");
  CHECK(rig.attrd.calls[1].name == "evos-testip-detail");
  auto detail = parse_detail(rig.attrd.values["evos-testip-detail"]);
  REQUIRE(detail);
  CHECK(detail->score == 4000);
  CHECK(detail->unix_time == 1718000000);
  CHECK(detail->hosts.size() == 3);
  REQUIRE(rig.store.state);
  CHECK(rig.store.state->addresses.at("gw.example") == "198.18.2.1");
  CHECK(rig.store.state->detail == rig.attrd.values["evos-testip-detail"]);
  CHECK(rig.resolver.calls == 1);
}

TEST_CASE("an unresolvable name fails start as a configuration error naming it") {
  Rig rig("198.18.1.254 nosuch.example");
  auto r = rig.service().start(soon());
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::invalid_config);
  CHECK(r.error().message().find("nosuch.example") != std::string::npos);
  CHECK_FALSE(rig.store.exists());  // not started
  CHECK(rig.attrd.calls.empty());   // and nothing published as "down"
}

TEST_CASE("monitor is not running without a state file") {
  Rig rig;
  auto r = rig.service().monitor(soon());
  REQUIRE(r);
  CHECK_FALSE(*r);
  CHECK(rig.attrd.calls.empty());
}

TEST_CASE("monitor probes the addresses resolved at start without asking DNS again") {
  Rig rig;
  REQUIRE(rig.service().start(soon()));
  rig.resolver.failure = make_error(Errc::backend, "DNS is down");
  rig.prober.up = {"198.18.1.254"};
  auto r = rig.service().monitor(soon());
  REQUIRE(r);
  REQUIRE(*r);
  CHECK(rig.resolver.calls == 1);
  CHECK((*r)->summary.score == 1000);
  CHECK((*r)->summary.reach == Reach::some);
  CHECK((*r)->assessment.health == Health::degraded);
  CHECK((*r)->assessment.why.find("fd00::1") != std::string::npos);
  CHECK(rig.attrd.values["evos-testip"] == "1000");
  REQUIRE(rig.prober.last_targets.size() == 3);
  CHECK(rig.prober.last_targets[2].address == "198.18.2.1");
  CHECK(rig.prober.last_targets[1].family == Family::ipv6);
}

TEST_CASE("monitor with no host reachable publishes 0 and is degraded not failed") {
  Rig rig;
  REQUIRE(rig.service().start(soon()));
  rig.prober.up.clear();
  auto r = rig.service().monitor(soon());
  REQUIRE(r);
  CHECK((*r)->summary.score == 0);
  CHECK((*r)->assessment.health == Health::degraded);
  CHECK(rig.attrd.values["evos-testip"] == "0");
}

TEST_CASE("the probe plan follows timeout and attempts and fits the deadline") {
  Rig rig;
  rig.params.timeout = 600ms;
  rig.params.attempts = 2;
  rig.params.interface = "pub0";
  REQUIRE(rig.service().start(soon()));
  CHECK(rig.prober.last_options.plan.window == 600ms);
  CHECK(rig.prober.last_options.plan.send_at == std::vector<Millis>{0ms, 300ms});
  CHECK(rig.prober.last_options.interface == "pub0");

  // An operation deadline too close for the probe timeout: the window shrinks, with a warning.
  rig.params.timeout = 5000ms;
  auto r = rig.service().monitor(Deadline::after(3000ms));
  REQUIRE(r);
  CHECK(rig.prober.last_options.plan.window <= 1500ms);
  CHECK(rig.log.contains("raise the operation's timeout"));
}

TEST_CASE("a failed attribute update fails the monitor and a failed detail only warns") {
  Rig rig;
  REQUIRE(rig.service().start(soon()));
  rig.attrd.failure = make_error(Errc::backend, "attrd_updater exited with 1");
  auto r = rig.service().monitor(soon());
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("evos-testip") != std::string::npos);

  rig.attrd.failure.reset();
  rig.params.detail = false;
  rig.attrd.calls.clear();
  REQUIRE(rig.service().monitor(soon()));
  CHECK(rig.attrd.calls.size() == 1);  // no detail when publish_detail=false
}

TEST_CASE("failure_score fails start and leaves no state behind") {
  Rig rig;
  rig.params.failure_score = 5000;
  auto r = rig.service().start(soon());
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("failure_score") != std::string::npos);
  CHECK_FALSE(rig.store.exists());
}

TEST_CASE("stop removes both attributes and the state even when attrd is unreachable") {
  Rig rig;
  REQUIRE(rig.service().start(soon()));
  rig.attrd.failure = make_error(Errc::not_installed, "attrd_updater: not found");
  REQUIRE(rig.service().stop(soon()));
  CHECK_FALSE(rig.store.exists());
  CHECK(rig.log.contains("cannot remove node attribute 'evos-testip'"));
  rig.attrd.failure.reset();
  rig.attrd.calls.clear();
  REQUIRE(rig.service().stop(soon()));  // idempotent
  REQUIRE(rig.attrd.calls.size() == 2);
  CHECK(rig.attrd.calls[0].name == "evos-testip");
  CHECK(rig.attrd.calls[1].name == "evos-testip-detail");
}

TEST_CASE("reload resolves names again and applies the new dampening") {
  Rig rig;
  REQUIRE(rig.service().start(soon()));
  rig.resolver.table["gw.example"] = "198.18.2.2";
  rig.params.dampen = 12000ms;
  rig.params.multiplier = 10;
  auto r = rig.service().reload(soon());
  REQUIRE(r);
  CHECK(rig.store.state->addresses.at("gw.example") == "198.18.2.2");
  CHECK(rig.attrd.calls.back().what == "private");
  CHECK(rig.attrd.calls[rig.attrd.calls.size() - 2].dampen == 12000ms);
  CHECK(rig.attrd.values["evos-testip"] == "30");  // 198.18.2.2 does not answer: 1 + 2

  // A resolver that cannot answer now: keep the known addresses, say so.
  rig.resolver.failure = make_error(Errc::timeout, "resolving 'gw.example' did not finish in time");
  REQUIRE(rig.service().reload(soon()));
  CHECK(rig.log.contains("probing the addresses resolved earlier"));
}

TEST_CASE("a prober that cannot probe is an error and not a down network") {
  Rig rig;
  REQUIRE(rig.service().start(soon()));
  rig.attrd.calls.clear();
  rig.prober.failure = make_error(Errc::permission_denied, "cannot open an ICMP socket");
  auto r = rig.service().monitor(soon());
  REQUIRE_FALSE(r);
  CHECK(rig.attrd.calls.empty());  // the last good value stays
}
