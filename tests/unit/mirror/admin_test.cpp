#include "fake_mirror.hpp"
#include "fake_net.hpp"

#include <evos/mirror/admin.hpp>
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

Deadline soon() { return Deadline::after(9000ms); }

drbd::ResourceState split(Role role) {
  auto s = two_node(role, DiskState::up_to_date, ConnState::standalone, Role::unknown, DiskState::dunknown);
  s.connections[0].split_brain = true;
  return s;
}

class FakeRequests final : public ResolveRequests {
 public:
  std::optional<std::string> value;
  int queries = 0;
  Result<std::optional<std::string>> pending(Deadline) override {
    ++queries;
    return value;
  }
  Result<void> done(Deadline) override {
    value.reset();
    return {};
  }
};

}  // namespace

TEST_CASE("standby and shutdown of the sync source are refused on either node") {
  // Seen on the sync source (local "alpha", peer "beta"): alpha may not leave, beta may.
  auto here = check_leave({syncing_source()}, "alpha", "alpha");
  CHECK_FALSE(here.ok);
  REQUIRE(here.refusals.size() == 1);
  CHECK(here.refusals[0].find("this node is the sync source") != std::string::npos);
  CHECK(check_leave({syncing_source()}, "beta", "alpha").ok);
  // Seen on the sync target (local "alpha", its peer "beta" is the source): beta may not leave.
  auto there = check_leave({syncing_target()}, "beta", "alpha");
  CHECK_FALSE(there.ok);
  CHECK(there.refusals[0].find("beta is the sync source") != std::string::npos);
  CHECK(check_leave({syncing_target()}, "alpha", "alpha").ok);
  // A node that is neither end is not concerned; resources that are down are skipped.
  CHECK(check_leave({syncing_source()}, "gamma", "alpha").ok);
  CHECK(check_leave({healthy(), drbd::ResourceState{.name = "down"}}, "alpha", "alpha").ok);
}

TEST_CASE("resolve plans name the victim and refuse a Primary victim") {
  auto plan = plan_resolve(split(Role::secondary), "alpha", "alpha");
  REQUIRE(plan);
  CHECK(plan->discard_here);
  CHECK(plan->for_peer == ResolveRequest::connect);
  CHECK(plan->peer == "beta");
  auto other = plan_resolve(split(Role::primary), "alpha", "beta");
  REQUIRE(other);
  CHECK_FALSE(other->discard_here);
  CHECK(other->for_peer == ResolveRequest::discard);
  auto primary = plan_resolve(split(Role::primary), "alpha", "alpha");
  REQUIRE_FALSE(primary);
  CHECK(primary.error().message().find("is Primary on alpha") != std::string::npos);
  auto stranger = plan_resolve(split(Role::secondary), "alpha", "gamma");
  REQUIRE_FALSE(stranger);
  CHECK(stranger.error().code() == Errc::invalid_argument);
  auto fine = plan_resolve(healthy(), "alpha", "beta");
  REQUIRE_FALSE(fine);
  CHECK(fine.error().message().find("not in split brain") != std::string::npos);
  CHECK(plan_resolve(drbd::ResourceState{.name = "r0"}, "alpha", "beta").error().code() == Errc::not_found);
}

TEST_CASE("resolve here discards or reconnects") {
  FakeDrbd drbd;
  REQUIRE(resolve_here(drbd, split(Role::secondary), ResolveRequest::discard, soon()));
  CHECK(drbd.calls == std::vector<std::string>{"disconnect", "connect --discard-my-data"});
  drbd.calls.clear();
  REQUIRE(resolve_here(drbd, split(Role::primary), ResolveRequest::connect, soon()));
  CHECK(drbd.calls == std::vector<std::string>{"connect"});
  drbd.calls.clear();
  REQUIRE(resolve_here(drbd, healthy(), ResolveRequest::connect, soon()));
  CHECK(drbd.calls.empty());
  CHECK_FALSE(resolve_here(drbd, split(Role::primary), ResolveRequest::discard, soon()));
  CHECK(drbd.calls.empty());
}

TEST_CASE("the agent carries out a recovery request only while StandAlone") {
  MirrorParams params;
  params.resource = "r0";
  FakeDrbd drbd;
  FakePromotion promotion;
  FakeMemory memory;
  MemoryLog log;
  FakeRequests requests;
  MirrorService service(drbd, promotion, memory, log, params, &requests);
  drbd.current = healthy();
  REQUIRE(service.monitor(false, false, soon()));
  CHECK(requests.queries == 0);
  drbd.current = split(Role::secondary);
  requests.value = "discard";
  REQUIRE(service.monitor(false, false, soon()));
  CHECK(drbd.calls == std::vector<std::string>{"disconnect", "connect --discard-my-data"});
  CHECK_FALSE(requests.value);
  CHECK(log.contains("split-brain recovery requested by evosctl: discard here"));
  // A bogus request is ignored and kept.
  drbd.calls.clear();
  requests.value = "reboot";
  REQUIRE(service.monitor(false, false, soon()));
  CHECK(drbd.calls.empty());
  CHECK(requests.value == "reboot");
}

TEST_CASE("resolve request names") {
  CHECK(parse_resolve_request("discard") == ResolveRequest::discard);
  CHECK(parse_resolve_request("connect") == ResolveRequest::connect);
  CHECK_FALSE(parse_resolve_request("Discard"));
  CHECK(resolve_attribute("vm-web1") == "evos-mirror-resolve-vm-web1");
}
