#include <evos/daemon/lifecycle.hpp>
#include <evos/daemon/protocol.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evos::daemon;
using namespace std::chrono_literals;
using evos::Clock;
using evos::Errc;
using evos::vm::Power;

namespace {
const Clock::time_point t0{std::chrono::seconds(1000)};
const std::string uri = "qemu:///system";

NodeState fresh_state_with_running_web1() {
  NodeState s;
  s.connected(Source::libvirt, t0);
  s.apply_event("web1", "u1", lifecycle_change(2, 0), 1, t0);
  s.apply_listing({{"web1", "u1", {Power::running, evos::vm::Reason::booted}}}, 0, t0);
  return s;
}
VmAnswer answer_at(const NodeState& s, const std::string& name, Clock::time_point now) {
  auto line = render_vm(s, name, {uri, 3000ms, now});
  REQUIRE(line.back() == '\n');
  auto a = parse_vm_answer(line);
  REQUIRE(a);
  return *a;
}
const Expectation expect{"web1", "u1", uri, 3000ms};
}  // namespace

TEST_CASE("requests are parsed and malformed ones named") {
  auto r = parse_request(R"({"op":"vm","name":"web1"})");
  REQUIRE(r);
  CHECK(r->op == Request::Op::vm);
  CHECK(r->name == "web1");
  CHECK(parse_request(R"({"op":"ping"})"));
  CHECK(parse_request(R"({"op":"status","extra":1})"));
  struct Bad {
    std::string line, says;
  };
  for (const auto& b : std::vector<Bad>{{"", "not JSON"},
                                        {"{", "not JSON"},
                                        {"[1,2]", "not a JSON object"},
                                        {R"({"name":"x"})", "no \"op\""},
                                        {R"({"op":7})", "no \"op\""},
                                        {R"({"op":"reboot"})", "unknown op"},
                                        {R"({"op":"vm"})", "needs a \"name\""},
                                        {R"({"op":"vm","name":"a b"})", "domain name"},
                                        {R"x({"op":"vm","name":"$(reboot)"})x", "domain name"},
                                        {std::string(5000, 'x'), "limit"}}) {
    INFO(b.line.substr(0, 40));
    auto e = parse_request(b.line);
    REQUIRE_FALSE(e);
    CHECK(e.error().code() == Errc::invalid_argument);
    CHECK(e.error().message().find(b.says) != std::string::npos);
  }
  const auto err = render_error("request is not JSON");
  CHECK(err == "{\"error\":\"request is not JSON\",\"ok\":false}\n");
}

TEST_CASE("a fresh running answer is trusted") {
  const auto s = fresh_state_with_running_web1();
  const auto a = answer_at(s, "web1", t0 + 1s);
  CHECK(a.known);
  CHECK(a.fresh);
  CHECK(a.age == 1000ms);
  CHECK_FALSE(distrust(a, expect));
  CHECK_FALSE(distrust(a, {"web1", "", uri, 3000ms}));  // UUID unknown to the caller
}

TEST_CASE("the freshness rule sends every doubtful answer to libvirt") {
  auto s = fresh_state_with_running_web1();
  // Silent too long: the heartbeat stopped answering.
  CHECK(distrust(answer_at(s, "web1", t0 + 4s), expect));
  // Another hypervisor, another UUID, another domain.
  CHECK(distrust(answer_at(s, "web1", t0), {"web1", "u1", "qemu:///session", 3000ms}));
  CHECK(distrust(answer_at(s, "web1", t0), {"web1", "u2", uri, 3000ms}));
  CHECK(*distrust(answer_at(s, "web2", t0), {"web2", "", uri, 3000ms}) == "evosd does not know the domain");
  // The caller's own silence bound is stricter than evosd's.
  CHECK(distrust(answer_at(s, "web1", t0 + 2s), {"web1", "u1", uri, 1000ms}));
  // Stopped is never taken from evosd, even fresh.
  s.apply_event("web1", "u1", lifecycle_change(5, 2), 2, t0);
  CHECK(distrust(answer_at(s, "web1", t0), expect)->find("shut off") != std::string::npos);
  // Paused (an I/O error) neither.
  s.apply_event("web1", "u1", lifecycle_change(3, 2), 3, t0);
  CHECK(distrust(answer_at(s, "web1", t0), expect));
  // Disconnected, or reconnected but not listed yet.
  s = fresh_state_with_running_web1();
  s.disconnected(Source::libvirt, t0, "EOF");
  CHECK(distrust(answer_at(s, "web1", t0), expect));
  s.connected(Source::libvirt, t0);
  CHECK(distrust(answer_at(s, "web1", t0), expect));
}

TEST_CASE("answers that are not well-formed vm answers are refused") {
  for (const char* line : {"", "garbage", "[]", R"({"ok":false,"error":"x"})", R"({"ok":true,"op":"ping"})",
                           R"({"ok":true,"op":"vm","name":"web1"})",
                           R"({"ok":true,"op":"vm","name":"web1","uri":"u","fresh":true,"known":true,"state":"flying","reason":"booted","uuid":"","age_ms":1,"libvirt":{"connected":true,"synced":true,"heard_ms":1}})",
                           R"({"ok":true,"op":"vm","name":"web1","uri":"u","fresh":"yes","known":true,"state":"running","reason":"booted","uuid":"","age_ms":1,"libvirt":{"connected":true,"synced":true,"heard_ms":1}})"}) {
    INFO(line);
    CHECK_FALSE(parse_vm_answer(line));
  }
}

TEST_CASE("the status answer lists domains test IPs and counters") {
  auto s = fresh_state_with_running_web1();
  s.counters.libvirt_events = 7;
  const auto line = render_status(s, {uri, 3000ms, t0});
  CHECK(line.find("\"libvirt_events\":7") != std::string::npos);
  CHECK(line.find("\"name\":\"web1\"") != std::string::npos);
  CHECK(render_request({Request::Op::vm, "web1"}) == "{\"name\":\"web1\",\"op\":\"vm\"}\n");
}

namespace {
nlohmann::json mirror_answer(const NodeState& s, const std::string& name) {
  const auto line = render_mirror(s, name, {uri, 3000ms, t0 + 500ms});
  REQUIRE(line.back() == '\n');
  return nlohmann::json::parse(line);
}
NodeState followed_r0() {
  NodeState s;
  s.drbd_followed = true;
  s.drbd_since = t0;
  s.drbd.stream_started();
  s.drbd.feed("exists resource name:r0 role:Primary suspended:no");
  s.drbd.feed("exists connection name:r0 peer-node-id:1 conn-name:beta connection:Connected role:Secondary");
  s.drbd.feed("exists device name:r0 volume:0 minor:1 disk:UpToDate client:no quorum:yes");
  s.drbd.feed(
      "exists peer-device name:r0 peer-node-id:1 conn-name:beta volume:0 replication:SyncSource peer-disk:Inconsistent "
      "done:40.00 out-of-sync:1024 sent:2048 received:0");
  s.drbd.feed("exists -");
  return s;
}
}  // namespace

TEST_CASE("mirror requests name a DRBD resource") {
  auto r = parse_request(R"({"op":"mirror","name":"r0"})");
  REQUIRE(r);
  CHECK(r->op == Request::Op::mirror);
  CHECK(r->name == "r0");
  CHECK(render_request(*r) == "{\"name\":\"r0\",\"op\":\"mirror\"}\n");
  auto none = parse_request(R"({"op":"mirror"})");
  REQUIRE_FALSE(none);
  CHECK_THAT(none.error().message(), Catch::Contains("needs a \"name\""));
  auto bad = parse_request(R"({"op":"mirror","name":"r0;reboot"})");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message(), Catch::Contains("DRBD resource"));
}

TEST_CASE("a followed mirror is answered fresh with its state") {
  const auto j = mirror_answer(followed_r0(), "r0");
  CHECK(j["ok"] == true);
  CHECK(j["fresh"] == true);
  CHECK(j["known"] == true);
  CHECK(j["role"] == "Primary");
  CHECK(j["devices"][0]["disk"] == "UpToDate");
  const auto& c = j["connections"][0];
  CHECK(c["peer"] == "beta");
  CHECK(c["state"] == "Connected");
  CHECK(c["peer_devices"][0]["replication"] == "SyncSource");
  CHECK(c["peer_devices"][0]["out_of_sync_kib"] == 1024);
  CHECK(c["peer_devices"][0]["sent_kib"] == 2048);
  CHECK(c["peer_devices"][0]["done_percent"] == 40.0);
  CHECK(j["drbd"]["since_ms"] == 500);
  const auto other = mirror_answer(followed_r0(), "r1");
  CHECK(other["fresh"] == true);
  CHECK(other["known"] == false);
}

TEST_CASE("a mirror answer is never stale state passing for fresh") {
  auto ended = followed_r0();
  ended.drbd.stream_ended("drbdsetup events2 exited with status 1");
  auto j = mirror_answer(ended, "r0");
  CHECK(j["fresh"] == false);
  CHECK_FALSE(j.contains("role"));
  CHECK_FALSE(j.contains("known"));
  CHECK(j["drbd"]["problem"] == "drbdsetup events2 exited with status 1");

  auto restarting = followed_r0();
  restarting.drbd.stream_started();
  restarting.drbd.feed("exists resource name:r0 role:Secondary");
  j = mirror_answer(restarting, "r0");
  CHECK(j["fresh"] == false);
  CHECK_FALSE(j.contains("role"));

  auto lost = followed_r0();
  lost.drbd.feed("- skipped 3");
  CHECK(mirror_answer(lost, "r0")["fresh"] == false);

  NodeState off;
  j = mirror_answer(off, "r0");
  CHECK(j["fresh"] == false);
  CHECK(j["drbd"]["followed"] == false);
  CHECK_THAT(j["drbd"]["problem"].get<std::string>(), Catch::Contains("does not follow DRBD"));
}

TEST_CASE("the status answer has the DRBD follower and its counters") {
  auto s = followed_r0();
  s.counters.drbd_events2_lines = 5;
  s.counters.drbd_events2_restarts = 2;
  const auto j = nlohmann::json::parse(render_status(s, {uri, 3000ms, t0}));
  CHECK(j["drbd"]["fresh"] == true);
  CHECK(j["drbd"]["mirrors"] == nlohmann::json::array({"r0"}));
  CHECK(j["counters"]["drbd_events2_lines"] == 5);
  CHECK(j["counters"]["drbd_events2_restarts"] == 2);
}

TEST_CASE("the status answer has the followed Corosync membership with names and since when") {
  NodeState s;
  const auto w0 = std::chrono::system_clock::time_point(std::chrono::seconds(1765000000));
  nlohmann::json j = nlohmann::json::parse(render_status(s, {uri, 3000ms, t0}));
  CHECK(j["corosync"]["followed"] == false);
  CHECK_THAT(j["corosync"]["problem"].get<std::string>(), Catch::Contains("corosync_events = no"));

  s.corosync_followed = true;
  CHECK(nlohmann::json::parse(render_status(s, {uri, 3000ms, t0}))["corosync"]["since_ms"] == -1);  // not tried yet
  s.corosync.disconnected("quorum_initialize: cannot connect to corosync (is it running?)", t0);
  j = nlohmann::json::parse(render_status(s, {uri, 3000ms, t0 + 2s}));
  CHECK(j["corosync"]["connected"] == false);
  CHECK(j["corosync"]["since_ms"] == 2000);
  CHECK(j["corosync"].count("members") == 0);  // nothing known yet
  CHECK_THAT(j["corosync"]["problem"].get<std::string>(), Catch::Contains("is it running"));

  s.corosync.connected(t0 + 3s, w0);
  s.corosync.nodelist({"lab", 2, {{1, "alpha", false}, {2, "beta", false}}});
  s.corosync.notification(true, 12, {1, 2}, t0 + 3s, w0);
  s.corosync.notification(true, 16, {2}, t0 + 5s, w0 + 2s);
  s.counters.corosync_changes = 1;
  j = nlohmann::json::parse(render_status(s, {uri, 3000ms, t0 + 6s}));
  const auto& c = j["corosync"];
  CHECK(c["connected"] == true);
  CHECK(c["synced"] == true);
  CHECK(c["quorate"] == true);
  CHECK(c["cluster_name"] == "lab");
  CHECK(c["members"] == 1);
  CHECK(c["ring_seq"] == 16);
  CHECK(c["since_ms"] == 3000);
  CHECK(c["changed_ms"] == 1000);
  CHECK(c["changed_unix_ms"] == 1765000002000LL);
  REQUIRE(c["nodes"].size() == 2);
  CHECK(c["nodes"][0] == nlohmann::json({{"nodeid", 1}, {"name", "alpha"}, {"member", false}, {"local", false}}));
  CHECK(c["nodes"][1] == nlohmann::json({{"nodeid", 2}, {"name", "beta"}, {"member", true}, {"local", true}}));
  CHECK(c.count("problem") == 0);
  CHECK(j["counters"]["corosync_changes"] == 1);
}
