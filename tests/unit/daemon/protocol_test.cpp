#include <evos/daemon/lifecycle.hpp>
#include <evos/daemon/protocol.hpp>

#include <catch2/catch.hpp>

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
