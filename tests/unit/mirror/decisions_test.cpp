#include "fake_mirror.hpp"

#include <evos/mirror/params.hpp>
#include <evos/mirror/service.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::mirror;
using namespace evos::testing;
using drbd::ConnState;
using drbd::DiskState;
using drbd::ReplState;
using drbd::Role;

TEST_CASE("monitor assessment per role and state") {
  const Role P = Role::primary, S = Role::secondary, U = Role::unknown;
  struct Row {
    const char* what;
    drbd::ResourceState state;
    bool primary;
    Health health;
    const char* why;  // a part of the reason
  };
  const std::vector<Row> table = {
      {"not up", drbd::ResourceState{.name = "r0"}, false, Health::stopped, ""},
      {"healthy secondary", healthy(S, P), false, Health::running, ""},
      {"healthy primary", healthy(P, S), true, Health::running, ""},
      {"primary whose peer is away", two_node(P, DiskState::up_to_date, ConnState::connecting, U, DiskState::dunknown), true,
       Health::degraded, "peer beta is Connecting"},
      {"secondary whose peer is away", two_node(S, DiskState::up_to_date, ConnState::connecting, U, DiskState::dunknown),
       false, Health::degraded, "Connecting"},
      {"sync source primary", syncing_source(P), true, Health::degraded, "resync 42.0%"},
      {"sync target secondary", syncing_target(), false, Health::degraded, "Inconsistent"},
      {"primary with a failed disk reading through its peer",
       two_node(P, DiskState::diskless, ConnState::connected, S, DiskState::up_to_date), true, Health::degraded, "Diskless"},
      {"primary with a failed disk and no peer",
       two_node(P, DiskState::diskless, ConnState::connecting, U, DiskState::dunknown), true, Health::failed,
       "without access to UpToDate data"},
      {"secondary with a failed disk and no peer",
       two_node(S, DiskState::diskless, ConnState::connecting, U, DiskState::dunknown), false, Health::degraded, ""},
  };
  for (const auto& row : table) {
    INFO(row.what);
    const Assessment a = assess(row.state);
    CHECK(a.primary == row.primary);
    CHECK(a.health == row.health);
    CHECK(a.why.find(row.why) != std::string::npos);
  }
}

TEST_CASE("split brain is reported with the command that resolves it") {
  auto s = two_node(Role::primary, DiskState::up_to_date, ConnState::standalone, Role::unknown, DiskState::dunknown);
  s.connections[0].split_brain = true;
  Assessment a = assess(s);
  CHECK(a.health == Health::degraded);
  CHECK(a.primary);
  CHECK(a.why.find("split brain with beta") != std::string::npos);
  CHECK(a.why.find("evosctl mirror resolve r0 --discard NODE") != std::string::npos);

  // drbd-utils without sync-state: only the agent's memory knows it.
  s.connections[0].split_brain = false;
  CHECK(assess(s).why.find("peer beta is StandAlone") != std::string::npos);
  CHECK(assess(s, true).why.find("split brain") != std::string::npos);
  // Connected again: the memory no longer matters.
  CHECK(assess(healthy(Role::primary), true).health == Health::running);
}

TEST_CASE("frozen I/O and failing I/O") {
  auto s = two_node(Role::primary, DiskState::up_to_date, ConnState::connecting, Role::unknown, DiskState::dunknown);
  s.suspended = true;
  s.suspended_reasons = "fencing";
  Assessment a = assess(s);
  CHECK(a.health == Health::degraded);
  CHECK(a.why.find("I/O suspended (fencing)") != std::string::npos);
  s.force_io_failures = true;
  CHECK(assess(s).health == Health::failed);
}

TEST_CASE("only UpToDate data gets a published score") {
  CHECK(publishable_score({10000, true, ""}) == 10000);
  CHECK(publishable_score({1000, true, ""}) == 1000);
  CHECK(publishable_score({10, true, ""}) == 10);
  CHECK(publishable_score({5, true, ""}) == 0);
  CHECK(publishable_score({0, true, ""}) == 0);
}

TEST_CASE("the score is written only when it changed or when forced") {
  const drbd::PromotionScore up{10000, true, "UpToDate"};
  CHECK(plan_score(up, std::nullopt, false).write);
  CHECK(plan_score(up, 1000, false).write);
  CHECK_FALSE(plan_score(up, 10000, false).write);
  CHECK(plan_score(up, 10000, true).write);
  ScorePlan gone = plan_score({5, true, "Consistent"}, 10000, false);
  CHECK(gone.write);
  CHECK(gone.value == 0);
  CHECK(gone.why.find("only UpToDate data is promoted") != std::string::npos);
  CHECK_FALSE(plan_score({0, true, ""}, 0, false).write);
  // In transition: keep what is there, even when forced.
  ScorePlan keep = plan_score({10, false, "Negotiating"}, 10000, true);
  CHECK_FALSE(keep.write);
  CHECK(keep.value == 10000);
  CHECK_FALSE(plan_score({10, false, ""}, std::nullopt, true).write);
}

TEST_CASE("the sync source keeps the higher score through a resync") {
  CHECK(publishable_score(score_to_publish(syncing_source(Role::primary))) == drbd::score_up_to_date);
  CHECK(publishable_score(score_to_publish(syncing_source(Role::secondary))) == drbd::score_up_to_date);
  CHECK(publishable_score(score_to_publish(syncing_target())) == drbd::score_data_via_peer);
}

TEST_CASE("a secondary never outranks the running primary") {
  // The Primary's peer came back and finished its resync: 100, below the Primary's 1000 or 10000.
  auto beside = score_to_publish(healthy(Role::secondary, Role::primary));
  CHECK(beside.value == score_beside_primary);
  CHECK(beside.why.find("the peer is Primary") != std::string::npos);
  CHECK(publishable_score(beside) == score_beside_primary);
  CHECK(score_beside_primary < drbd::score_peer_unknown);
  CHECK(score_beside_primary > drbd::score_data_via_peer);
  // Both Secondary: full score; the Primary itself: full score.
  CHECK(score_to_publish(healthy(Role::secondary, Role::secondary)).value == drbd::score_up_to_date);
  CHECK(score_to_publish(healthy(Role::primary, Role::secondary)).value == drbd::score_up_to_date);
  // A sync target stays at 10.
  CHECK(score_to_publish(syncing_target()).value == drbd::score_data_via_peer);
  // The peer gone: the survivor recomputes to 1000.
  CHECK(score_to_publish(two_node(Role::secondary, DiskState::up_to_date, ConnState::connecting, Role::unknown,
                                  DiskState::dunknown)).value == drbd::score_peer_unknown);
}

TEST_CASE("the survivor of a node death is promotable only with UpToDate data") {
  const auto alone = [](DiskState d) {
    return two_node(Role::secondary, d, ConnState::connecting, Role::unknown, DiskState::dunknown);
  };
  CHECK(publishable_score(drbd::promotion_score(alone(DiskState::up_to_date))) == drbd::score_peer_unknown);
  CHECK(may_promote_here(alone(DiskState::up_to_date), false).yes);
  for (DiskState d : {DiskState::inconsistent, DiskState::outdated, DiskState::consistent, DiskState::diskless}) {
    INFO(to_string(d));
    CHECK(publishable_score(drbd::promotion_score(alone(d))) == 0);
    CHECK_FALSE(may_promote_here(alone(d), false).yes);
  }
}

TEST_CASE("a sync source may not leave and says why") {
  auto v = may_leave(syncing_source());
  CHECK_FALSE(v.yes);
  CHECK(v.why.find("sync source of a running resync to beta") != std::string::npos);
  CHECK(v.why.find("42.0% done") != std::string::npos);
  CHECK(v.why.find("only UpToDate copy") != std::string::npos);
  CHECK(may_leave(healthy(Role::primary)).yes);
  CHECK(may_leave(syncing_target()).yes);
  CHECK(may_leave(two_node(Role::primary, DiskState::up_to_date, ConnState::connecting, Role::unknown, DiskState::dunknown)).yes);
  // A diskless Primary peer reads through this node.
  CHECK_FALSE(may_leave(two_node(Role::secondary, DiskState::up_to_date, ConnState::connected, Role::primary,
                                 DiskState::diskless)).yes);
}

TEST_CASE("the peer may not leave while it is the sync source") {
  auto v = peer_may_leave(syncing_target());
  CHECK_FALSE(v.yes);
  CHECK(v.why.find("beta is the sync source") != std::string::npos);
  CHECK(peer_may_leave(syncing_source()).yes);
  CHECK(peer_may_leave(healthy()).yes);
}

TEST_CASE("a second primary needs local UpToDate data and the window") {
  auto s = healthy(Role::secondary, Role::primary);
  CHECK_FALSE(may_promote_here(s, false).yes);
  CHECK(may_promote_here(s, false).why.find("two primaries are not allowed") != std::string::npos);
  CHECK(may_promote_here(s, true).yes);
  auto target = syncing_target();
  CHECK(may_promote_here(target, false).why.find("two primaries") != std::string::npos);
  auto v = may_promote_here(target, true);
  CHECK_FALSE(v.yes);
  CHECK(v.why.find("needs UpToDate data here") != std::string::npos);
  // A sync target whose source is Secondary may become the (only) Primary: DRBD reads through.
  auto t2 = two_node(Role::secondary, DiskState::inconsistent, ConnState::connected, Role::secondary,
                     DiskState::up_to_date, ReplState::sync_target);
  CHECK(may_promote_here(t2, false).yes);
}

TEST_CASE("agent memory round trip and damage") {
  AgentMemory m{.published = 10000, .window_open = true, .split_brain = false};
  CHECK(parse_memory(format_memory(m)) == m);
  AgentMemory unknown{};
  CHECK(format_memory(unknown).find("published=-") != std::string::npos);
  CHECK(parse_memory(format_memory(unknown)) == unknown);
  CHECK_FALSE(parse_memory(""));
  CHECK_FALSE(parse_memory("published=x\nwindow=0\nsplit_brain=0\n"));
  CHECK_FALSE(parse_memory("published=1\nwindow=2\nsplit_brain=0\n"));
  CHECK_FALSE(parse_memory("published=1\nwindow=0\n"));
  CHECK_FALSE(parse_memory("published=1\nwindow=0\nsplit_brain=0\nother=1\n"));
}

TEST_CASE("clone meta attributes of a two-node mirror") {
  auto ok = clone_meta("2", "1", "1", "1");
  REQUIRE(ok);
  CHECK_FALSE(ok->dual_primary());
  auto dual = clone_meta("2", "1", "2", "1");
  REQUIRE(dual);
  CHECK(dual->dual_primary());
  CHECK(clone_meta("", "", "", ""));
  auto three = clone_meta("3", "1", "1", "1");
  REQUIRE_FALSE(three);
  CHECK(three.error().code() == Errc::invalid_config);
  CHECK(three.error().message().find("clone-max") != std::string::npos);
  CHECK_FALSE(clone_meta("2", "2", "1", "1"));
  CHECK_FALSE(clone_meta("2", "1", "3", "1"));
  CHECK_FALSE(clone_meta("2", "1", "1", "x"));
}

TEST_CASE("node lists from notifications") {
  CHECK(split_node_list("") == std::vector<std::string>{});
  CHECK(split_node_list(" alpha  beta ") == std::vector<std::string>{"alpha", "beta"});
}

TEST_CASE("mirror parameters name the bad parameter") {
  ocf::ParamValues v;
  v.set("drbd_resource", "--force");
  v.set("protect_sync_source", "true");
  auto p = MirrorParams::from(v);
  REQUIRE_FALSE(p);
  CHECK(p.error().code() == Errc::invalid_config);
  CHECK(p.error().message().find("parameter 'drbd_resource'") != std::string::npos);
  v.set("drbd_resource", "vm-web1");
  REQUIRE(MirrorParams::from(v));
  CHECK(MirrorParams::from(v)->resource == "vm-web1");
}
