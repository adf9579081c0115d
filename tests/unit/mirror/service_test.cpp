#include "fake_mirror.hpp"
#include "fake_net.hpp"

#include <evos/mirror/service.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::mirror;
using namespace evos::testing;
using namespace std::chrono_literals;
using drbd::ConnState;
using drbd::DiskState;
using drbd::Role;

namespace {

struct Rig {
  Rig() { params.resource = "r0"; }
  MirrorService service() { return MirrorService(drbd, promotion, memory, log, params); }

  MirrorParams params;
  FakeDrbd drbd;
  FakePromotion promotion;
  FakeMemory memory;
  MemoryLog log;
};

Deadline soon() { return Deadline::after(9000ms); }

}  // namespace

TEST_CASE("start brings the resource up and publishes the score") {
  Rig rig;
  REQUIRE(rig.service().start(soon()));
  CHECK(rig.drbd.calls == std::vector<std::string>{"up"});
  CHECK(rig.promotion.value == 10000);
  REQUIRE(rig.memory.stored);
  CHECK(rig.memory.stored->published == 10000);
}

TEST_CASE("start of a running resource does not run drbdadm up again") {
  Rig rig;
  rig.drbd.current = healthy();
  rig.memory.stored = AgentMemory{.published = 10000};
  REQUIRE(rig.service().start(soon()));
  CHECK_FALSE(rig.drbd.called("up"));
  // A start always writes: Pacemaker may have dropped the transient attribute.
  CHECK(rig.promotion.writes == std::vector<std::string>{"set 10000"});
}

TEST_CASE("a failing drbdadm up fails the start") {
  Rig rig;
  rig.drbd.failures.emplace("up", Error(Errc::not_installed, "the DRBD kernel module is not loaded"));
  auto r = rig.service().start(soon());
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::not_installed);
  CHECK(r.error().message().find("start") != std::string::npos);
  CHECK(rig.promotion.writes.empty());
}

TEST_CASE("monitor writes the score only when it changes") {
  Rig rig;
  REQUIRE(rig.service().start(soon()));
  rig.promotion.writes.clear();
  for (int i = 0; i < 3; ++i) {
    auto a = rig.service().monitor(false, false, soon());
    REQUIRE(a);
    CHECK(a->health == Health::running);
  }
  CHECK(rig.promotion.writes.empty());
  // The peer goes away: 1000, written once.
  rig.drbd.current = two_node(Role::secondary, DiskState::up_to_date, ConnState::connecting, Role::unknown, DiskState::dunknown);
  for (int i = 0; i < 3; ++i) REQUIRE(rig.service().monitor(false, false, soon()));
  CHECK(rig.promotion.writes == std::vector<std::string>{"set 1000"});
  // A probe always writes.
  REQUIRE(rig.service().monitor(true, false, soon()));
  CHECK(rig.promotion.writes == std::vector<std::string>{"set 1000", "set 1000"});
}

TEST_CASE("monitor reports 190 while the peer is away and 191 as primary") {
  Rig rig;
  rig.drbd.current = two_node(Role::secondary, DiskState::up_to_date, ConnState::connecting, Role::unknown, DiskState::dunknown);
  auto a = rig.service().monitor(false, false, soon());
  REQUIRE(a);
  CHECK_FALSE(a->primary);
  CHECK(a->health == Health::degraded);
  rig.drbd.current.role = Role::primary;
  a = rig.service().monitor(false, false, soon());
  REQUIRE(a);
  CHECK(a->primary);
  CHECK(a->health == Health::degraded);
}

TEST_CASE("monitor of a resource that is not up reports stopped and writes nothing") {
  Rig rig;
  auto a = rig.service().monitor(true, false, soon());
  REQUIRE(a);
  CHECK(a->health == Health::stopped);
  CHECK(rig.promotion.writes.empty());
}

TEST_CASE("a failed score write is a warning and is retried") {
  Rig rig;
  rig.drbd.current = healthy();
  rig.promotion.failure = Error(Errc::timeout, "crm_attribute timed out");
  auto a = rig.service().monitor(false, false, soon());
  REQUIRE(a);
  CHECK(a->health == Health::running);
  CHECK(rig.log.contains("cannot publish the promotion score"));
  rig.promotion.failure.reset();
  REQUIRE(rig.service().monitor(false, false, soon()));
  CHECK(rig.promotion.value == 10000);
  REQUIRE(rig.service().monitor(false, false, soon()));
  CHECK(rig.promotion.writes.size() == 2);
}

TEST_CASE("a sync target that loses its source has its score removed") {
  Rig rig;
  rig.drbd.current = syncing_target();
  REQUIRE(rig.service().monitor(true, false, soon()));
  CHECK(rig.promotion.value == 10);
  rig.drbd.current = two_node(Role::secondary, DiskState::inconsistent, ConnState::connecting, Role::unknown, DiskState::dunknown);
  REQUIRE(rig.service().monitor(false, false, soon()));
  CHECK_FALSE(rig.promotion.value);
  CHECK(rig.promotion.writes.back() == "remove");
}

TEST_CASE("promote runs drbdadm primary and publishes") {
  Rig rig;
  rig.drbd.current = healthy();
  REQUIRE(rig.service().promote(false, soon()));
  CHECK(rig.drbd.calls == std::vector<std::string>{"primary"});
  CHECK(rig.drbd.current.role == Role::primary);
  CHECK_FALSE(rig.drbd.two_primaries);
  // Idempotent.
  REQUIRE(rig.service().promote(false, soon()));
  CHECK(rig.drbd.calls.size() == 1);
}

TEST_CASE("promote refuses at once without UpToDate data") {
  Rig rig;
  rig.drbd.current = two_node(Role::secondary, DiskState::outdated, ConnState::connecting, Role::unknown, DiskState::dunknown);
  auto r = rig.service().promote(false, soon());
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::backend);
  CHECK(r.error().message().find("refusing to promote: volume 0 is Outdated") != std::string::npos);
  CHECK(rig.drbd.calls.empty());
}

TEST_CASE("promote refuses a second primary without promoted-max 2") {
  Rig rig;
  rig.drbd.current = healthy(Role::secondary, Role::primary);
  auto r = rig.service().promote(false, soon());
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("two primaries are not allowed") != std::string::npos);
  CHECK(rig.drbd.calls.empty());
}

TEST_CASE("a live migration opens the dual-primary window and the demote closes it") {
  Rig target;  // the node the VM migrates to
  target.drbd.current = healthy(Role::secondary, Role::primary);
  REQUIRE(target.service().promote(true, soon()));
  CHECK(target.drbd.calls == std::vector<std::string>{"two-primaries yes", "primary"});
  REQUIRE(target.memory.stored);
  CHECK(target.memory.stored->window_open);

  Rig source;  // the node the VM leaves: it opened the window in the pre-promote notification
  source.drbd.current = healthy(Role::primary, Role::secondary);
  Notification pre{.type = "pre", .operation = "promote", .promote_nodes = {"beta"}, .local_node = "alpha"};
  REQUIRE(source.service().notify(pre, true, soon()));
  CHECK(source.drbd.two_primaries);
  // Both Primary: a monitor keeps the window open.
  source.drbd.current = healthy(Role::primary, Role::primary);
  REQUIRE(source.service().monitor(false, true, soon()));
  CHECK(source.drbd.two_primaries);
  // promoted-max back to 1, the source is demoted: the window closes on both.
  REQUIRE(source.service().demote(soon()));
  CHECK_FALSE(source.drbd.two_primaries);
  CHECK_FALSE(source.memory.stored->window_open);
  target.drbd.current = healthy(Role::primary, Role::secondary);
  Notification post{.type = "post", .operation = "demote", .demote_nodes = {"alpha"}, .local_node = "beta"};
  REQUIRE(target.service().notify(post, false, soon()));
  CHECK_FALSE(target.drbd.two_primaries);
  CHECK_FALSE(target.memory.stored->window_open);
}

TEST_CASE("a window opened for a promotion is not closed by a monitor before it") {
  Rig source;
  source.drbd.current = healthy(Role::primary, Role::secondary);
  Notification pre{.type = "pre", .operation = "promote", .promote_nodes = {"beta"}, .local_node = "alpha"};
  REQUIRE(source.service().notify(pre, true, soon()));
  REQUIRE(source.service().monitor(false, true, soon()));
  CHECK(source.drbd.two_primaries);
  // Without promoted-max 2 the unused window is closed by the next monitor.
  REQUIRE(source.service().monitor(false, false, soon()));
  CHECK_FALSE(source.drbd.two_primaries);
}

TEST_CASE("pre-promote of this node itself opens nothing") {
  Rig rig;
  rig.drbd.current = healthy(Role::primary, Role::secondary);
  Notification pre{.type = "pre", .operation = "promote", .promote_nodes = {"alpha"}, .local_node = "alpha"};
  REQUIRE(rig.service().notify(pre, true, soon()));
  CHECK(rig.drbd.calls.empty());
}

TEST_CASE("demote of the sync source is refused and the score stays") {
  Rig rig;
  rig.drbd.current = syncing_source(Role::primary);
  REQUIRE(rig.service().monitor(true, false, soon()));
  CHECK(rig.promotion.value == 10000);
  auto r = rig.service().demote(soon());
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::backend);
  CHECK(r.error().message().find("refusing to demote: r0: this node is the sync source of a running resync to beta") !=
        std::string::npos);
  CHECK_FALSE(rig.drbd.called("secondary"));
  CHECK(rig.drbd.current.role == Role::primary);
  CHECK(rig.promotion.value == 10000);
  CHECK(rig.promotion.writes.size() == 1);
}

TEST_CASE("stop of the sync source is refused and the score stays") {
  Rig rig;
  rig.drbd.current = syncing_source(Role::secondary);
  rig.promotion.value = 10000;
  auto r = rig.service().stop(soon());
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("refusing to stop") != std::string::npos);
  CHECK(rig.drbd.calls.empty());
  CHECK(rig.promotion.value == 10000);
}

TEST_CASE("protect_sync_source false lets the sync source go") {
  Rig rig;
  rig.params.protect_sync_source = false;
  rig.drbd.current = syncing_source(Role::primary);
  REQUIRE(rig.service().demote(soon()));
  REQUIRE(rig.service().stop(soon()));
  CHECK(rig.drbd.calls == std::vector<std::string>{"secondary", "down"});
}

TEST_CASE("stop demotes then downs and removes the score") {
  Rig rig;
  rig.drbd.current = healthy(Role::primary);
  rig.promotion.value = 10000;
  rig.memory.stored = AgentMemory{.published = 10000};
  REQUIRE(rig.service().stop(soon()));
  CHECK(rig.drbd.calls == std::vector<std::string>{"secondary", "down"});
  CHECK_FALSE(rig.promotion.value);
  CHECK_FALSE(rig.memory.stored);
  // Idempotent, and a failing attribute removal does not fail it.
  rig.promotion.failure = Error(Errc::backend, "no cib");
  REQUIRE(rig.service().stop(soon()));
  CHECK(rig.drbd.calls.size() == 2);
}

TEST_CASE("a sync target may be stopped") {
  Rig rig;
  rig.drbd.current = syncing_target();
  REQUIRE(rig.service().stop(soon()));
  CHECK(rig.drbd.calls == std::vector<std::string>{"down"});
}

TEST_CASE("split brain is remembered until the connection returns") {
  Rig rig;
  auto sb = two_node(Role::primary, DiskState::up_to_date, ConnState::standalone, Role::unknown, DiskState::dunknown);
  sb.connections[0].split_brain = true;
  rig.drbd.current = sb;
  auto a = rig.service().monitor(false, false, soon());
  REQUIRE(a);
  CHECK(a->health == Health::degraded);
  CHECK(rig.log.contains("split brain detected"));
  // A later read without sync-state: still a split brain.
  rig.drbd.current.connections[0].split_brain = false;
  a = rig.service().monitor(false, false, soon());
  REQUIRE(a);
  CHECK(a->why.find("split brain") != std::string::npos);
  rig.drbd.current = healthy(Role::primary);
  a = rig.service().monitor(false, false, soon());
  REQUIRE(a);
  CHECK(a->health == Health::running);
  CHECK_FALSE(rig.memory.stored->split_brain);
}

TEST_CASE("demote of a secondary and notify of a stopped instance do nothing") {
  Rig rig;
  rig.drbd.current = healthy();
  REQUIRE(rig.service().demote(soon()));
  CHECK(rig.drbd.calls.empty());
  Rig stopped;
  REQUIRE(stopped.service().notify(Notification{.type = "post", .operation = "start"}, false, soon()));
  CHECK(stopped.promotion.writes.empty());
}

TEST_CASE("a peer that finished its resync publishes below the primary") {
  Rig rig;
  rig.drbd.current = syncing_target();
  REQUIRE(rig.service().monitor(true, false, soon()));
  CHECK(rig.promotion.value == 10);
  rig.drbd.current = healthy(Role::secondary, Role::primary);
  auto a = rig.service().monitor(false, false, soon());
  REQUIRE(a);
  CHECK(a->health == Health::running);
  CHECK(rig.promotion.value == score_beside_primary);
  // The Primary disappears: 1000 at the next monitor.
  rig.drbd.current = two_node(Role::secondary, DiskState::up_to_date, ConnState::connecting, Role::unknown, DiskState::dunknown);
  REQUIRE(rig.service().monitor(false, false, soon()));
  CHECK(rig.promotion.value == 1000);
}
