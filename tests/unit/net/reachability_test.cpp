#include <evos/net/probe_plan.hpp>
#include <evos/net/reachability.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::net;
using namespace std::chrono_literals;

namespace {
HostResult host(std::string name, std::uint32_t weight, unsigned sent, unsigned received) {
  HostResult r{.host = std::move(name), .address = "", .weight = weight, .sent = sent, .received = received};
  r.state = received ? ProbeState::ok : ProbeState::lost;
  return r;
}
}  // namespace

TEST_CASE("the score is the multiplier times the weights of the reachable hosts") {
  std::vector<HostResult> hosts{host("a", 1, 1, 1), host("b", 2, 3, 0), host("c", 3, 2, 1)};
  auto s = summarize(hosts, 1000);
  CHECK(s.score == 4000);
  CHECK(s.reachable == 2);
  CHECK(s.total == 3);
  CHECK(s.weight_reachable == 4);
  CHECK(s.weight_total == 6);
  CHECK(s.reach == Reach::some);
}

TEST_CASE("all some and none") {
  std::vector<HostResult> all{host("a", 1, 1, 1), host("b", 1, 1, 1)};
  std::vector<HostResult> none{host("a", 1, 3, 0), host("b", 1, 3, 0)};
  CHECK(summarize(all, 1).reach == Reach::all);
  CHECK(summarize(none, 1).reach == Reach::none);
  CHECK(summarize(none, 1).score == 0);
  CHECK(summarize({}, 1).reach == Reach::none);
}

TEST_CASE("loss percentages") {
  CHECK(host("a", 1, 3, 0).loss_percent() == 100);
  CHECK(host("a", 1, 2, 1).loss_percent() == 50);
  CHECK(host("a", 1, 1, 1).loss_percent() == 0);
  CHECK(host("a", 1, 0, 0).loss_percent() == 100);
  CHECK(host("a", 1, 1, 2).loss_percent() == 0);  // duplicates never make it negative
}

TEST_CASE("assessment: healthy only when every host answers") {
  std::vector<HostResult> all{host("a", 1, 1, 1)};
  CHECK(assess(summarize(all, 1), all, std::nullopt).health == Health::healthy);

  std::vector<HostResult> some{host("a", 1, 1, 1), host("b", 1, 3, 0)};
  auto a = assess(summarize(some, 1000), some, std::nullopt);
  CHECK(a.health == Health::degraded);
  CHECK(a.why.find("1 of 2") != std::string::npos);
  CHECK(a.why.find("b (lost 3/3)") != std::string::npos);

  // Nothing reachable is degraded too, never success, and never fatal.
  std::vector<HostResult> none{host("a", 1, 3, 0)};
  auto n = assess(summarize(none, 1000), none, std::nullopt);
  CHECK(n.health == Health::degraded);
  CHECK(n.why.find("no test IP reachable") != std::string::npos);
}

TEST_CASE("failure_score turns a low score into a failure") {
  std::vector<HostResult> some{host("a", 1, 1, 1), host("b", 1, 3, 0)};
  auto s = summarize(some, 1000);
  CHECK(assess(s, some, 1000).health == Health::degraded);
  auto f = assess(s, some, 1001);
  CHECK(f.health == Health::failed);
  CHECK(f.why.find("below failure_score 1001") != std::string::npos);
  std::vector<HostResult> all{host("a", 1, 1, 1)};
  CHECK(assess(summarize(all, 1000), all, 2000).health == Health::failed);
}

TEST_CASE("a round sends its attempts evenly inside the timeout") {
  auto p = plan_probes(1000ms, 3);
  CHECK(p.window == 1000ms);
  REQUIRE(p.send_at.size() == 3);
  CHECK(p.send_at[0] == 0ms);
  CHECK(p.send_at[1] == 333ms);
  CHECK(p.send_at[2] == 666ms);
  CHECK(plan_probes(1000ms, 1).send_at == std::vector<Millis>{0ms});
  for (unsigned attempts = 1; attempts <= 10; ++attempts) {
    auto q = plan_probes(100ms, attempts);
    CHECK(q.window == 100ms);
    for (auto at : q.send_at) CHECK(at < q.window);  // no attempt without time for its reply
  }
}

TEST_CASE("the probe window never runs past the action deadline") {
  // Plenty of time: the configured timeout.
  auto w = affordable_window(1000ms, 9000ms, 1500ms);
  CHECK(w.length == 1000ms);
  CHECK_FALSE(w.clamped);
  // A short operation timeout: the window shrinks to leave time for attrd_updater.
  w = affordable_window(5000ms, 3000ms, 1500ms);
  CHECK(w.length == 1500ms);
  CHECK(w.clamped);
  w = affordable_window(5000ms, 1000ms, 1500ms);
  CHECK(w.length == 50ms);
  CHECK(w.clamped);
}
