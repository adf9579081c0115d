// The DRBD fence handler's run (evos::mirror, fence_handler.hpp) over a scripted Pacemaker: its
// command line, the constraint's placement retries, the bounded wait and the unfence.
#include "fake_net.hpp"
#include "fence_data.hpp"

#include <evos/mirror/fence_handler.hpp>

#include <catch2/catch.hpp>

#include <deque>

using namespace evos;
using namespace evos::mirror;
using namespace std::chrono_literals;
using evos::testing::MemoryLog;
using evos::testing::peer_status;

namespace {

const char* const resources_xml = R"(<resources>
  <clone id="mirror-r0-clone"><primitive id="mirror-r0" class="ocf" provider="evos" type="mirror">
    <instance_attributes id="m-ia"><nvpair id="m-r" name="drbd_resource" value="r0"/></instance_attributes></primitive></clone>
</resources>)";

FenceRequest request() { return *parse_fence_env(evos::testing::drbd_env()); }

// Pacemaker as a script: each call takes the next scripted answer (the last one repeats).
class FakeCluster final : public FenceCluster {
 public:
  Result<std::string> resources_answer = std::string(resources_xml);
  std::deque<Result<CibWrite>> replace_answers{CibWrite::done};
  std::deque<Result<CibWrite>> create_answers{CibWrite::done};
  Result<void> delete_answer = {};
  std::deque<Result<cluster::PacemakerStatus>> statuses{peer_status(false, false)};
  std::vector<std::string> calls;
  std::string placed;

  Result<std::string> resources(Deadline) override {
    calls.emplace_back("query");
    return resources_answer;
  }
  Result<CibWrite> replace_constraint(const std::string& xml, Deadline) override {
    calls.emplace_back("replace");
    placed = xml;
    return next(replace_answers);
  }
  Result<CibWrite> create_constraint(const std::string& xml, Deadline) override {
    calls.emplace_back("create");
    placed = xml;
    return next(create_answers);
  }
  Result<void> delete_constraint(const std::string& id, Deadline) override {
    calls.emplace_back("delete " + id);
    return delete_answer;
  }
  Result<cluster::PacemakerStatus> status(Deadline) override {
    calls.emplace_back("status");
    return next(statuses);
  }

 private:
  template <class T>
  static T next(std::deque<T>& q) {
    T v = q.front();
    if (q.size() > 1) q.pop_front();
    return v;
  }
};

struct Sleeps {
  std::vector<Millis> slept;
  std::function<void(Millis)> fn() {
    return [this](Millis d) { slept.push_back(d); };
  }
};

long count(const std::vector<std::string>& calls, const std::string& what) {
  return std::count(calls.begin(), calls.end(), what);
}

}  // namespace

TEST_CASE("the handler's command line") {
  auto f = parse_fence_args({"fence"});
  REQUIRE(f);
  CHECK(f->action == FenceAction::fence);
  CHECK(f->timeout == 60s);
  CHECK_FALSE(f->verbose);
  CHECK(f->resource.empty());
  auto u = parse_fence_args({"after-resync-target", "--timeout", "5", "--verbose", "r0"});
  REQUIRE(u);
  CHECK(u->action == FenceAction::unfence);
  CHECK(u->timeout == 5s);
  CHECK(u->verbose);
  CHECK(u->resource == "r0");
  CHECK(parse_fence_args({"fence-peer"})->action == FenceAction::fence);
  CHECK(parse_fence_args({"unfence-peer"})->action == FenceAction::unfence);
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{}, {"frobnicate"}, {"fence", "--timeout"}, {"fence", "--timeout", "0"},
        {"fence", "--timeout", "3601"}, {"fence", "--timeout", "-5"}, {"fence", "--timeout", "5s"},
        {"fence", "--bogus"}, {"fence", "r0", "r1"}}) {
    INFO(bad.size());
    auto r = parse_fence_args(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::invalid_argument);
  }
}

TEST_CASE("a resource on the command line must agree with DRBD_RESOURCE") {
  std::map<std::string, std::string> env{{"DRBD_MY_NODE_ID", "0"}, {"DRBD_PEER_NODE_ID", "1"},
                                         {"DRBD_NODE_ID_0", "alpha"}, {"DRBD_NODE_ID_1", "beta"}};
  CHECK(parse_fence_invocation(env, "r0")->resource == "r0");  // fills a missing DRBD_RESOURCE
  env["DRBD_RESOURCE"] = "r0";
  CHECK(parse_fence_invocation(env, "r0")->resource == "r0");
  CHECK(parse_fence_invocation(env, "")->resource == "r0");
  auto differs = parse_fence_invocation(env, "r1");
  REQUIRE_FALSE(differs);
  CHECK(differs.error().message() == "resource 'r1' on the command line, DRBD_RESOURCE is 'r0'");
}

TEST_CASE("the constraint is replaced, created when missing, and retried when created meanwhile") {
  const std::string xml = "<rsc_location id=\"evos-fence-r0\"/>";
  {
    FakeCluster c;
    REQUIRE(place_fence_constraint(c, xml, Deadline::after(5s)));
    CHECK(c.calls == std::vector<std::string>{"replace"});
  }
  {
    FakeCluster c;
    c.replace_answers = {CibWrite::no_such_object};
    REQUIRE(place_fence_constraint(c, xml, Deadline::after(5s)));
    CHECK(c.calls == std::vector<std::string>{"replace", "create"});
  }
  {
    FakeCluster c;  // another handler creates it between our replace and our create
    c.replace_answers = {CibWrite::no_such_object, CibWrite::done};
    c.create_answers = {CibWrite::already_exists};
    REQUIRE(place_fence_constraint(c, xml, Deadline::after(5s)));
    CHECK(c.calls == std::vector<std::string>{"replace", "create", "replace"});
  }
  {
    FakeCluster c;  // it keeps appearing and disappearing: bounded
    c.replace_answers = {CibWrite::no_such_object};
    c.create_answers = {CibWrite::already_exists};
    auto r = place_fence_constraint(c, xml, Deadline::after(5s));
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == "the fence constraint kept changing under us");
    CHECK(count(c.calls, "replace") == fence_place_attempts);
  }
  {
    FakeCluster c;
    c.replace_answers = {make_error(Errc::backend, "cibadmin --replace exited with 1: 'no CIB'")};
    auto r = place_fence_constraint(c, xml, Deadline::after(5s));
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("no CIB") != std::string::npos);
    CHECK(c.calls == std::vector<std::string>{"replace"});
  }
}

TEST_CASE("fence: the peer online keeps I/O frozen at once, after placing the constraint") {
  FakeCluster c;
  c.statuses = {peer_status(true, false)};
  MemoryLog log;
  Sleeps sleeps;
  CHECK(fence_peer(request(), c, log, 60s, sleeps.fn()) == fence_exit_frozen);
  CHECK(c.calls == std::vector<std::string>{"query", "replace", "status"});
  CHECK(c.placed.find("rsc=\"mirror-r0-clone\"") != std::string::npos);
  CHECK(c.placed.find("value=\"alpha\"") != std::string::npos);
  CHECK(sleeps.slept.empty());
  CHECK(log.contains("placed evos-fence-r0: mirror-r0-clone may be Promoted only on alpha"));
  CHECK(log.contains("beta is online in the cluster: I/O stays frozen"));
}

TEST_CASE("fence: an unclean peer is waited for until Pacemaker has fenced it") {
  FakeCluster c;
  c.statuses = {peer_status(true, false, true, ""), peer_status(false, true), peer_status(false, true), peer_status(false, false)};
  MemoryLog log;
  Sleeps sleeps;
  CHECK(fence_peer(request(), c, log, 60s, sleeps.fn(), 1000ms) == fence_exit_peer_fenced);
  CHECK(count(c.calls, "status") == 4);
  CHECK(sleeps.slept == std::vector<Millis>(3, 1000ms));
  CHECK(log.contains("no DC yet"));
  CHECK(log.contains("peer beta fenced: I/O resumes"));
  // Each reason is logged once at info level, however many rounds repeat it.
  CHECK(std::count(log.lines.begin(), log.lines.end(), "beta is unclean: waiting for its fencing") == 1);
}

TEST_CASE("fence: the wait is bounded by the timeout, and unreadable status is waited on too") {
  FakeCluster c;
  c.statuses = {make_error(Errc::timeout, "crm_mon: still running at the deadline; killed")};
  MemoryLog log;
  Sleeps sleeps;
  // Less than one poll is left from the start: one look, no sleep, frozen with the reason.
  CHECK(fence_peer(request(), c, log, 0s, sleeps.fn(), 1000ms) == fence_exit_frozen);
  CHECK(count(c.calls, "status") == 1);
  CHECK(sleeps.slept.empty());
  CHECK(log.contains("no decision about beta within 0 s (crm_mon: still running at the deadline; killed)"));
}

TEST_CASE("fence: no quorum, no clone or an unreadable CIB keep I/O frozen") {
  {
    FakeCluster c;
    c.statuses = {peer_status(false, true, false)};
    MemoryLog log;
    Sleeps sleeps;
    CHECK(fence_peer(request(), c, log, 60s, sleeps.fn()) == fence_exit_frozen);
    CHECK(log.contains("no quorum"));
  }
  {
    FakeCluster c;
    c.resources_answer = std::string("<resources/>");
    MemoryLog log;
    Sleeps sleeps;
    CHECK(fence_peer(request(), c, log, 60s, sleeps.fn()) == fence_exit_frozen);
    CHECK(c.calls == std::vector<std::string>{"query"});  // nothing placed
    CHECK(log.contains("no promotable clone runs DRBD resource 'r0'"));
  }
  {
    FakeCluster c;
    c.resources_answer = make_error(Errc::backend, "cibadmin --query exited with 102");
    MemoryLog log;
    Sleeps sleeps;
    CHECK(fence_peer(request(), c, log, 60s, sleeps.fn()) == fence_exit_frozen);
    CHECK(log.contains("cannot read the CIB's resources: cibadmin --query exited with 102; I/O stays frozen"));
  }
  {
    FakeCluster c;
    c.replace_answers = {make_error(Errc::backend, "cibadmin --replace exited with 1")};
    MemoryLog log;
    Sleeps sleeps;
    CHECK(fence_peer(request(), c, log, 60s, sleeps.fn()) == fence_exit_frozen);
    CHECK(count(c.calls, "status") == 0);
    CHECK(log.contains("cannot place the fence constraint"));
  }
}

TEST_CASE("unfence removes the constraint; a failure is exit 1 with the reason") {
  FakeCluster c;
  MemoryLog log;
  CHECK(unfence_peer(request(), c, log, 5s) == 0);
  CHECK(c.calls == std::vector<std::string>{"delete evos-fence-r0"});
  CHECK(log.contains("removed evos-fence-r0"));
  c.delete_answer = make_error(Errc::backend, "cibadmin --delete exited with 1: 'boom'");
  CHECK(unfence_peer(request(), c, log, 5s) == 1);
  CHECK(log.contains("cannot remove evos-fence-r0: cibadmin --delete exited with 1: 'boom'"));
}
