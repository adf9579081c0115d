#include <evos/daemon/detection.hpp>

#include <catch2/catch.hpp>

using namespace evos::daemon;
using evos::cluster::NodeStatus;
using evos::cluster::PacemakerStatus;
using evos::cluster::ResourceStatus;
using evos::vm::DomainState;
using evos::vm::OperationRecord;
using evos::vm::Phase;
using evos::vm::Power;
using evos::vm::Reason;

namespace {
const DomainState running{Power::running, Reason::booted};
const DomainState killed{Power::shut_off, Reason::crashed};  // QEMU killed: libvirt says "crashed"
std::vector<OperationRecord> records(Phase phase) { return {{"vm-web1", "web1", "u", phase, 0}}; }

PacemakerStatus status_with(ResourceStatus r) {
  PacemakerStatus s;
  s.nodes.push_back(NodeStatus{.name = "node1", .online = true});
  s.resources.push_back(std::move(r));
  return s;
}
ResourceStatus active_on_node1() {
  return {.id = "vm-web1", .agent = "ocf:evos:vm", .role = "Started", .active = true, .nodes = {"node1"}};
}
}  // namespace

TEST_CASE("a VM killed behind Pacemaker's back is reported") {
  const auto local = decide_local("web1", running, killed, false, records(Phase::active), false);
  REQUIRE(local.candidate);
  CHECK(local.resource == "vm-web1");
  const auto r = decide_report(local, status_with(active_on_node1()), "node1");
  CHECK(r.report);
  // Also a guest shutdown, a destroy by hand and a guest panic kept as crashed.
  for (auto st : {DomainState{Power::shut_off, Reason::shutdown}, DomainState{Power::shut_off, Reason::destroyed},
                  DomainState{Power::crashed, Reason::crashed}, DomainState{Power::absent, Reason::unknown}})
    CHECK(decide_local("web1", running, st, false, records(Phase::active), false).candidate);
}

TEST_CASE("a stop or migration Pacemaker ordered is never reported") {
  for (auto phase : {Phase::stopping, Phase::stopped, Phase::migrating, Phase::starting, Phase::arriving, Phase::failed}) {
    INFO(evos::vm::to_string(phase));
    const auto local = decide_local("web1", running, killed, false, records(phase), false);
    CHECK_FALSE(local.candidate);
    CHECK_FALSE(decide_report(local, status_with(active_on_node1()), "node1").report);
  }
  // The source side of a live migration, whatever the record says.
  CHECK_FALSE(decide_local("web1", running, DomainState{Power::shut_off, Reason::migration}, false,
                           records(Phase::active), false)
                  .candidate);
}

TEST_CASE("running paused or already stopped domains are not failures evosd reports") {
  for (auto st : {running, DomainState{Power::paused, Reason::io_error}, DomainState{Power::paused, Reason::user},
                  DomainState{Power::shutting_down, Reason::shutdown}})
    CHECK_FALSE(decide_local("web1", std::nullopt, st, false, records(Phase::active), false).candidate);
  CHECK_FALSE(decide_local("web1", killed, DomainState{Power::absent, Reason::unknown}, false, records(Phase::active), false)
                  .candidate);
  CHECK_FALSE(decide_local("web1", running, killed, true, records(Phase::active), false).candidate);
}

TEST_CASE("a domain no agent manages here or that two records name is not reported") {
  CHECK_FALSE(decide_local("web1", running, killed, false, {}, false).candidate);
  CHECK_FALSE(decide_local("other", running, killed, false, records(Phase::active), false).candidate);
  auto two = records(Phase::active);
  two.push_back({"vm-copy", "web1", "u", Phase::active, 0});
  CHECK_FALSE(decide_local("web1", running, killed, false, two, false).candidate);
  const auto why = decide_local("web1", running, killed, false, {}, true).why;
  CHECK(why.find("damaged") != std::string::npos);
}

TEST_CASE("Pacemaker must hold the resource active here and managed") {
  const auto local = decide_local("web1", running, killed, false, records(Phase::active), false);
  REQUIRE(local.candidate);
  CHECK_FALSE(decide_report(local, PacemakerStatus{}, "node1").report);  // no such resource
  auto r = active_on_node1();
  r.nodes = {"node2"};
  CHECK_FALSE(decide_report(local, status_with(r), "node1").report);
  r = active_on_node1();
  r.managed = false;
  CHECK(decide_report(local, status_with(r), "node1").why.find("unmanaged") != std::string::npos);
  r = active_on_node1();
  r.failed = true;
  CHECK_FALSE(decide_report(local, status_with(r), "node1").report);
  r = active_on_node1();
  r.agent = "ocf:heartbeat:VirtualDomain";
  CHECK_FALSE(decide_report(local, status_with(r), "node1").report);
  r = active_on_node1();
  r.active = false;
  r.role = "Stopped";
  CHECK_FALSE(decide_report(local, status_with(r), "node1").report);
  auto s = status_with(active_on_node1());
  s.nodes[0].maintenance = true;
  CHECK_FALSE(decide_report(local, s, "node1").report);
}
