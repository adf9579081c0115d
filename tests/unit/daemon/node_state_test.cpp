#include <evos/daemon/lifecycle.hpp>
#include <evos/daemon/node_state.hpp>

#include <catch2/catch.hpp>

using namespace evos::daemon;
using namespace std::chrono_literals;
using evos::Clock;
using evos::vm::DomainState;
using evos::vm::Power;
using evos::vm::Reason;

namespace {
const Clock::time_point t0{std::chrono::seconds(1000)};
LifecycleChange started() { return lifecycle_change(2, 0); }
LifecycleChange crashed_stop() { return lifecycle_change(5, 2); }
}  // namespace

TEST_CASE("a source is fresh only when connected synced and heard from recently") {
  NodeState s;
  CHECK_FALSE(s.fresh(Source::libvirt, t0, 3000ms));
  s.connected(Source::libvirt, t0);
  CHECK_FALSE(s.fresh(Source::libvirt, t0, 3000ms));  // not listed yet
  s.apply_listing({}, 0, t0);
  CHECK(s.fresh(Source::libvirt, t0 + 2s, 3000ms));
  CHECK_FALSE(s.fresh(Source::libvirt, t0 + 4s, 3000ms));
  s.heard(Source::libvirt, t0 + 3s);
  CHECK(s.fresh(Source::libvirt, t0 + 4s, 3000ms));
  s.disconnected(Source::libvirt, t0 + 5s, "libvirt closed the connection");
  CHECK_FALSE(s.fresh(Source::libvirt, t0 + 5s, 3000ms));
  CHECK(s.source(Source::libvirt).problem == "libvirt closed the connection");
  // A reconnect is not fresh until its own listing.
  s.connected(Source::libvirt, t0 + 6s);
  CHECK_FALSE(s.fresh(Source::libvirt, t0 + 6s, 3000ms));
}

TEST_CASE("events set a domain's state and report each change once") {
  NodeState s;
  auto c = s.apply_event("web1", "u1", started(), 1, t0);
  REQUIRE(c);
  CHECK_FALSE(c->before);
  CHECK(c->after.power == Power::running);
  CHECK_FALSE(s.apply_event("web1", "u1", started(), 2, t0 + 1s));  // no change
  CHECK(s.domain("web1")->since == t0);
  c = s.apply_event("web1", "u1", crashed_stop(), 3, t0 + 2s);
  REQUIRE(c);
  CHECK(c->before->power == Power::running);
  CHECK(c->after.reason == Reason::crashed);
  CHECK(s.domain("web1")->since == t0 + 2s);
  CHECK(s.domain("web1")->uuid == "u1");
}

TEST_CASE("undefining a shut off domain removes it but a running one stays") {
  NodeState s;
  s.apply_event("a", "", started(), 1, t0);
  s.apply_event("b", "", crashed_stop(), 2, t0);
  CHECK_FALSE(s.apply_event("a", "", lifecycle_change(1, 0), 3, t0));
  REQUIRE(s.domain("a"));
  auto c = s.apply_event("b", "", lifecycle_change(1, 0), 4, t0);
  REQUIRE(c);
  CHECK(c->after.power == Power::absent);
  CHECK_FALSE(s.domain("b"));
}

TEST_CASE("a listing never overrides a newer event and removes domains it does not list") {
  NodeState s;
  s.connected(Source::libvirt, t0);
  s.apply_event("old", "", started(), 1, t0);
  s.apply_event("web1", "", started(), 2, t0);
  s.apply_event("web1", "", crashed_stop(), 6, t0 + 1s);  // after the listing began (seq 5)
  const std::vector<NodeState::Listed> listed = {
      {"web1", "u", DomainState{Power::running, Reason::booted}},   // older than the event
      {"new", "n", DomainState{Power::shut_off, Reason::destroyed}},
  };
  const auto changes = s.apply_listing(listed, 5, t0 + 2s);
  CHECK(s.domain("web1")->state.power == Power::shut_off);
  CHECK_FALSE(s.domain("old"));  // gone while disconnected
  REQUIRE(s.domain("new"));
  CHECK(changes.size() == 2);
  CHECK(s.source(Source::libvirt).synced);
}

TEST_CASE("a listing finds a stop made while evosd was disconnected") {
  NodeState s;
  s.connected(Source::libvirt, t0);
  s.apply_event("web1", "", started(), 1, t0);
  s.disconnected(Source::libvirt, t0 + 1s, "EOF");
  s.connected(Source::libvirt, t0 + 2s);
  const auto changes =
      s.apply_listing({{"web1", "", DomainState{Power::shut_off, Reason::crashed}}}, 1, t0 + 3s);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].before->power == Power::running);
  CHECK(changes[0].after.reason == Reason::crashed);
}

TEST_CASE("the reported mark lasts until the domain runs again") {
  NodeState s;
  s.apply_event("web1", "", started(), 1, t0);
  s.apply_event("web1", "", crashed_stop(), 2, t0);
  s.mark_reported("web1");
  CHECK(s.domain("web1")->reported);
  s.apply_event("web1", "", lifecycle_change(8, 0), 3, t0);  // still not running
  CHECK(s.domain("web1")->reported);
  s.apply_event("web1", "", started(), 4, t0);
  CHECK_FALSE(s.domain("web1")->reported);
}

TEST_CASE("a test IP round reports reachability changes") {
  NodeState s;
  CHECK(s.apply_round({{"198.18.1.254", true, std::chrono::microseconds(300), {}}}, t0));
  CHECK_FALSE(s.apply_round({{"198.18.1.254", true, std::chrono::microseconds(500), {}}}, t0 + 1s));
  CHECK(s.test_ips()[0].since == t0);
  CHECK(s.apply_round({{"198.18.1.254", false, std::nullopt, {}}}, t0 + 2s));
  CHECK(s.test_ips()[0].since == t0 + 2s);
}
