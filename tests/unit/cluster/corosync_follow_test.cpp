#include <evos/cluster/corosync_follow.hpp>

#include <catch2/catch.hpp>

using namespace evos::cluster;
using namespace std::chrono_literals;
using evos::Clock;
using evos::Millis;
using Wall = std::chrono::system_clock;

namespace {
Nodelist two_nodes() {
  return {"lab", 1, {{1, "alpha", false}, {2, "beta", false}}};
}
const Member* node(const Membership& m, std::uint32_t id) {
  for (const auto& n : m.nodes)
    if (n.nodeid == id) return &n;
  return nullptr;
}
}  // namespace

TEST_CASE("the followed membership is current only between a connection's first notification and its loss", "[corosync_follow]") {
  CorosyncFollow f;
  const auto t0 = Clock::now();
  const auto w0 = Wall::now();
  CHECK_FALSE(f.current());
  f.connected(t0, w0);
  CHECK(f.connected());
  CHECK_FALSE(f.synced());  // no notification yet: CS_TRACK_CURRENT's comes first
  CHECK_FALSE(f.current());
  f.nodelist(two_nodes());
  auto c = f.notification(true, 8, {2, 1}, t0 + 10ms, w0 + 10ms);
  CHECK(c.first);
  CHECK_FALSE(c.changed());  // nothing to compare with
  REQUIRE(f.current());
  const auto m = *f.current();
  CHECK(m.quorate);
  CHECK(m.cluster_name == "lab");
  CHECK(m.local_nodeid == 1);
  REQUIRE(m.nodes.size() == 2);
  CHECK(node(m, 1)->name == "alpha");
  CHECK(node(m, 2)->online);
  CHECK(f.changed() == t0 + 10ms);
  CHECK(f.ring_seq() == 8);

  CHECK(f.disconnected("quorum_dispatch: the connection to corosync is closed", t0 + 1s));
  CHECK_FALSE(f.synced());
  CHECK_FALSE(f.current());  // never the old view as the current one
  CHECK(f.last_known().quorate);  // but kept, for the status answer and the next comparison
  CHECK(f.since() == t0 + 1s);
}

TEST_CASE("a node leaving and quorum lost are changes and the same view again is none", "[corosync_follow]") {
  CorosyncFollow f;
  const auto t0 = Clock::now();
  const auto w0 = Wall::now();
  f.connected(t0, w0);
  f.nodelist(two_nodes());
  f.notification(true, 8, {1, 2}, t0, w0);

  auto same = f.notification(true, 9, {1, 2}, t0 + 1s, w0 + 1s);
  CHECK_FALSE(same.first);
  CHECK_FALSE(same.changed());
  CHECK(f.changed() == t0);  // since when the view holds: not moved by a repeat

  auto left = f.notification(true, 12, {1}, t0 + 2s, w0 + 2s);
  CHECK(left.changed());
  CHECK(left.left == std::vector<std::uint32_t>{2});
  CHECK(left.joined.empty());
  CHECK_FALSE(left.quorum_changed);  // two_node: the survivor keeps quorum
  CHECK(f.changed() == t0 + 2s);
  CHECK_FALSE(node(f.last_known(), 2)->online);
  CHECK(describe(left, f.last_known()) == "node beta (2) left; quorate");

  auto lost = f.notification(false, 13, {1}, t0 + 3s, w0 + 3s);
  CHECK(lost.quorum_changed);
  CHECK_FALSE(lost.quorate);
  CHECK(describe(lost, f.last_known()) == "quorum lost");

  auto back = f.notification(true, 16, {2, 1, 1}, t0 + 4s, w0 + 4s);  // duplicates are one member
  CHECK(back.joined == std::vector<std::uint32_t>{2});
  CHECK(back.quorum_changed);
  CHECK(describe(back, f.last_known()) == "node beta (2) joined; quorum regained");
  CHECK(f.members() == std::vector<std::uint32_t>{1, 2});
}

TEST_CASE("the first view after a reconnect is compared with the one before the loss", "[corosync_follow]") {
  CorosyncFollow f;
  const auto t0 = Clock::now();
  const auto w0 = Wall::now();
  f.connected(t0, w0);
  f.nodelist(two_nodes());
  f.notification(true, 8, {1, 2}, t0, w0);
  f.disconnected("corosync closed the connection", t0 + 1s);
  f.connected(t0 + 2s, w0 + 2s);
  // The peer left while evosd was not connected: still a change, logged and counted.
  auto c = f.notification(true, 20, {1}, t0 + 2s, w0 + 2s);
  CHECK(c.first);
  CHECK(c.left == std::vector<std::uint32_t>{2});
  CHECK(f.synced());
  // ... and one that finds the same view is none.
  f.disconnected("corosync closed the connection", t0 + 3s);
  f.connected(t0 + 4s, w0 + 4s);
  auto d = f.notification(true, 24, {1}, t0 + 4s, w0 + 4s);
  CHECK(d.first);
  CHECK_FALSE(d.changed());
}

TEST_CASE("members missing from the nodelist still count, under a made-up name", "[corosync_follow]") {
  CorosyncFollow f;
  f.connected(Clock::now(), Wall::now());
  f.nodelist({"lab", 1, {{1, "alpha", false}, {2, "", false}}});
  f.notification(true, 4, {1, 2, 7}, Clock::now(), Wall::now());
  const auto m = f.last_known();
  REQUIRE(m.nodes.size() == 3);
  CHECK(node(m, 2)->name == "node2");
  CHECK(node(m, 7)->name == "node7");
  CHECK(node(m, 7)->online);
}

TEST_CASE("a one-shot read's membership: nodelist names, online from an unsorted member list, quorum as told", "[corosync_follow]") {
  // evosctl's read_membership takes libquorum's list as it comes (not sorted, unlike the follower).
  const auto m = membership_of(two_nodes(), false, {9, 2});
  CHECK(m.cluster_name == "lab");
  CHECK(m.local_nodeid == 1);
  CHECK_FALSE(m.quorate);
  REQUIRE(m.nodes.size() == 3);
  CHECK_FALSE(node(m, 1)->online);
  CHECK(node(m, 2)->online);
  CHECK(node(m, 2)->name == "beta");
  CHECK(node(m, 9)->name == "node9");
  CHECK(membership_of(two_nodes(), true, {}).quorate);
}

TEST_CASE("a problem is news once per change, and again after a connection", "[corosync_follow]") {
  CorosyncFollow f;
  const auto t0 = Clock::now();
  CHECK(f.disconnected("cannot connect to corosync (is it running?)", t0));
  CHECK_FALSE(f.disconnected("cannot connect to corosync (is it running?)", t0 + 1s));
  CHECK(f.since() == t0);  // the problem holds since its first report
  CHECK(f.disconnected("access to corosync denied", t0 + 2s));
  CHECK(f.problem() == "access to corosync denied");
  f.connected(t0 + 3s, Wall::now());
  CHECK(f.problem().empty());
  CHECK(f.disconnected("access to corosync denied", t0 + 4s));  // lost after being up: news again
}

TEST_CASE("reconnects back off while they fail and start over after a healthy connection", "[corosync_follow]") {
  ReconnectBackoff b({500ms, 4000ms, 30s});
  const auto t0 = Clock::now();
  CHECK(b.next_delay(std::nullopt, t0) == 500ms);
  CHECK(b.next_delay(std::nullopt, t0) == 1000ms);
  CHECK(b.next_delay(std::nullopt, t0) == 2000ms);
  CHECK(b.next_delay(std::nullopt, t0) == 4000ms);
  CHECK(b.next_delay(std::nullopt, t0) == 4000ms);  // capped
  CHECK(b.next_delay(t0, t0 + 5s) == 4000ms);        // up 5 s only: still backing off
  CHECK(b.next_delay(t0, t0 + 30s) == 500ms);        // up 30 s: a new problem, not the old one
}
