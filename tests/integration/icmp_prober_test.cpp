// evos::net's adapters on a real network: the ICMP prober and the resolver, run by
// tests/integration/net_lab.sh inside the node namespace of tests/support/testip-lab.sh (whose
// addresses are used here) with a private /etc/hosts. Tagged [lab]; [hanging-dns] runs in a
// second pass whose resolver never answers.
#include <evos/net/icmp_prober.hpp>
#include <evos/net/system_resolver.hpp>

#include <catch2/catch.hpp>

#include <thread>

using namespace evos;
using namespace evos::net;
using namespace std::chrono_literals;

namespace {

Target target(const std::string& address, std::uint32_t weight = 1) {
  const auto family = literal_family(address);
  return {HostSpec{address, weight, family}, address, family};
}

struct Timed {
  Result<std::vector<HostResult>> results;
  Millis elapsed;
};

Timed probe(const std::vector<Target>& targets, Millis timeout, unsigned attempts, Deadline deadline = Deadline::after(30s)) {
  IcmpProber prober;
  const auto start = Clock::now();
  auto r = prober.probe(targets, {plan_probes(timeout, attempts), ""}, deadline);
  return {std::move(r), std::chrono::duration_cast<Millis>(Clock::now() - start)};
}

const std::string up4 = "198.18.0.254", up6 = "fd00:e:0:1::fe", dropped4 = "198.18.0.193", dropped6 = "fd00:e:0:1::dead";

}  // namespace

TEST_CASE("loopback answers over IPv4 and IPv6 in one round", "[lab]") {
  auto t = probe({target("127.0.0.1"), target("::1")}, 2000ms, 3);
  REQUIRE(t.results);
  for (const auto& h : *t.results) {
    INFO(h.host);
    CHECK(h.state == ProbeState::ok);
    CHECK(h.received == 1);
    CHECK(h.sent == 1);  // answered at the first attempt: nothing more is sent
    REQUIRE(h.min_rtt);
    CHECK(*h.min_rtt < 500ms);
    CHECK(h.loss_percent() == 0);
  }
  CHECK(t.elapsed < 1000ms);  // done when everyone answered, not at the end of the window
}

TEST_CASE("answering dropped unreachable and unroutable test IPs", "[lab]") {
  const std::vector<Target> targets{target(up4, 2), target(up6, 3), target(dropped4), target(dropped6),
                                    target("198.18.0.100"), target("198.19.5.5")};
  auto t = probe(targets, 600ms, 3);
  REQUIRE(t.results);
  const auto& r = *t.results;
  REQUIRE(r.size() == 6);
  CHECK(r[0].state == ProbeState::ok);
  CHECK(r[0].weight == 2);
  CHECK(r[1].state == ProbeState::ok);
  CHECK(r[1].address == up6);
  for (std::size_t i = 2; i < 6; ++i) {
    INFO(r[i].host << " " << to_string(r[i].state) << " " << r[i].error);
    CHECK_FALSE(r[i].reachable());
    CHECK(r[i].sent == 3);
    CHECK(r[i].received == 0);
    CHECK(r[i].loss_percent() == 100);
    CHECK_FALSE(r[i].avg_rtt);
  }
  CHECK(r[2].state == ProbeState::lost);  // silently dropped: no error, just no reply
  CHECK(r[3].state == ProbeState::lost);
  CHECK(r[5].state == ProbeState::noroute);  // the kernel refuses at once
  CHECK_FALSE(r[5].error.empty());
  auto s = summarize(r, 1000);
  CHECK(s.score == 5000);
  CHECK(s.reach == Reach::some);
}

TEST_CASE("a round lasts its window whatever the number of silent hosts", "[lab]") {
  // The deterministic half: a silent host keeps the round open for the whole window, never
  // less. The upper bound is generous here (machine load); bench/ping measures it precisely.
  for (int silent : {1, 5, 30}) {
    std::vector<Target> targets{target(up4), target(up6)};
    for (int i = 0; i < silent; ++i) targets.push_back(target("198.18.0." + std::to_string(193 + i)));
    auto t = probe(targets, 400ms, 2);
    REQUIRE(t.results);
    INFO(silent << " silent hosts: " << t.elapsed.count() << " ms");
    CHECK(t.elapsed >= 400ms);
    CHECK(t.elapsed < 400ms + 600ms);
    CHECK(summarize(*t.results, 1).reachable == 2);
  }
}

TEST_CASE("a round never outlives its deadline", "[lab]") {
  auto t = probe({target(dropped4)}, 5000ms, 3, Deadline::after(300ms));
  REQUIRE(t.results);
  CHECK(t.elapsed >= 300ms);
  CHECK(t.elapsed < 300ms + 600ms);
  CHECK((*t.results)[0].sent == 1);  // the later attempts were due after the deadline
}

TEST_CASE("concurrent rounds never take each other's replies", "[lab]") {
  // Raw sockets see every echo reply of the namespace: identifier, cookie and source address
  // keep two probers (or fping next to us) apart.
  std::vector<Target> targets{target(up4), target(up6), target("127.0.0.1"), target(dropped4)};
  std::optional<Timed> b;
  std::thread other([&] { b = probe(targets, 500ms, 5); });
  std::optional<Timed> a = probe(targets, 500ms, 5);
  other.join();
  for (auto* t : {&*a, &*b}) {
    REQUIRE(t->results);
    for (const auto& h : *t->results) CHECK(h.received <= h.sent);
    CHECK(summarize(*t->results, 1).reachable == 3);
  }
}

TEST_CASE("an interface that does not exist is a configuration error", "[lab]") {
  IcmpProber prober;
  auto r = prober.probe(std::vector<Target>{target(up4)}, {plan_probes(200ms, 1), "nosuch0"}, Deadline::after(5s));
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::invalid_config);
  CHECK(r.error().message().find("nosuch0") != std::string::npos);
}

TEST_CASE("names resolve through the node's hosts file and literals pass through", "[lab]") {
  SystemResolver resolver;
  auto hosts = parse_host_list("gw4.evos-test gw6.evos-test=2 198.18.0.253");
  REQUIRE(hosts);
  auto r = resolver.resolve(*hosts, Deadline::after(5s));
  REQUIRE(r);
  CHECK((*r)[0].address == "198.18.0.254");
  CHECK((*r)[0].family == Family::ipv4);
  CHECK((*r)[1].address == "fd00:e:0:1::fe");
  CHECK((*r)[1].family == Family::ipv6);
  CHECK((*r)[1].spec.weight == 2);
  CHECK((*r)[2].address == "198.18.0.253");
}

TEST_CASE("a name that does not exist is a configuration error naming it", "[lab]") {
  SystemResolver resolver;
  auto hosts = parse_host_list("gw4.evos-test nosuch.evos-test other.evos-test");
  REQUIRE(hosts);
  auto r = resolver.resolve(*hosts, Deadline::after(5s));
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::invalid_config);
  CHECK(r.error().message().find("'nosuch.evos-test'") != std::string::npos);
  CHECK(r.error().message().find("'other.evos-test'") != std::string::npos);
  CHECK(r.error().message().find("gw4") == std::string::npos);
}

TEST_CASE("a resolver that never answers is cut off at the deadline", "[hanging-dns]") {
  SystemResolver resolver;
  auto hosts = parse_host_list("gw4.evos-test slow.evos-test");
  REQUIRE(hosts);
  const auto start = Clock::now();
  auto r = resolver.resolve(*hosts, Deadline::after(500ms));
  const auto elapsed = std::chrono::duration_cast<Millis>(Clock::now() - start);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::timeout);
  CHECK(r.error().message().find("'slow.evos-test'") != std::string::npos);
  CHECK(elapsed >= 500ms);
  CHECK(elapsed < 500ms + 600ms);
}
