#include <evos/fence/race.hpp>

#include "test_data.hpp"

#include <catch2/catch.hpp>


using namespace evos;
using namespace evos::fence;
using namespace std::chrono_literals;

namespace {

Options base() {
  return {{"peer_addresses", "node1=198.18.1.1 node2=198.18.1.2"}, {"test_ips", "198.18.250.1 gw.example=2"}};
}

Result<RaceParams> with(const std::string& key, const std::string& value) {
  auto o = base();
  o[key] = value;
  return RaceParams::from(o);
}

std::string data(const std::string& name) { return evos::test::read_data("pacemaker", name); }

}  // namespace

// The decision as a table: what one ICMP round (and Pacemaker's status) found -> the verdict.
TEST_CASE("race decision scenarios") {
  struct Scenario {
    const char* name;
    RaceFacts facts;
    Verdict verdict;
    bool delays;
  };
  const std::optional<VmCounts> unknown;
  const std::vector<Scenario> scenarios{
      {"real failover: the peer died running the VMs", {"n2", 2, 2, true, false, VmCounts{3, 0}}, Verdict::target_dead, false},
      {"real failover: the peer died with no VM", {"n2", 2, 1, true, false, VmCounts{0, 3}}, Verdict::target_dead, false},
      {"dead peer and counts unknown: no delay", {"n2", 2, 2, true, false, unknown}, Verdict::target_dead, false},
      {"split: the peer runs more VMs", {"n2", 2, 2, true, true, VmCounts{2, 1}}, Verdict::target_busier, true},
      {"split: this node runs more VMs", {"n2", 2, 2, true, true, VmCounts{1, 2}}, Verdict::local_busier, false},
      {"split: equal VM counts", {"n2", 2, 1, true, true, VmCounts{1, 1}}, Verdict::local_busier, false},
      {"split: no VMs anywhere", {"n2", 1, 1, true, true, VmCounts{0, 0}}, Verdict::local_busier, false},
      {"split: counts unknown", {"n2", 2, 2, true, true, unknown}, Verdict::counts_unknown, true},
      {"isolated: the peer answers", {"n2", 2, 0, true, true, VmCounts{0, 5}}, Verdict::isolated, true},
      {"isolated: the peer is silent too", {"n2", 3, 0, true, false, VmCounts{0, 5}}, Verdict::isolated, true},
      {"target without addresses: treated as alive", {"n3", 2, 2, false, false, VmCounts{1, 0}}, Verdict::target_busier, true},
      {"target without addresses: fewer VMs", {"n3", 2, 2, false, false, VmCounts{0, 1}}, Verdict::local_busier, false},
  };
  for (const auto& s : scenarios) {
    INFO(s.name);
    const auto d = decide_race(s.facts, 5s);
    CHECK(d.verdict == s.verdict);
    CHECK(d.delay == (s.delays ? 5000ms : 0ms));
    CHECK_FALSE(d.why.empty());
    CHECK(d.why.find(" test IPs") != std::string::npos);  // every verdict says what was reached
  }
}

TEST_CASE("race decision: the reasons name the target and what was reached") {
  const auto d = decide_race({"node2", 2, 1, true, true, VmCounts{3, 1}}, 1s);
  CHECK(d.why.find("node2") != std::string::npos);
  CHECK(d.why.find("1 of 2 test IPs") != std::string::npos);
  CHECK(d.why.find("3 VMs") != std::string::npos);
  CHECK(d.why.find("1s") != std::string::npos);
}

TEST_CASE("race: the VM counts are read only when they can matter") {
  CHECK(counts_matter({"n2", 2, 2, true, true, {}}));
  CHECK(counts_matter({"n2", 2, 2, false, false, {}}));
  CHECK_FALSE(counts_matter({"n2", 2, 2, true, false, {}}));
  CHECK_FALSE(counts_matter({"n2", 2, 0, true, true, {}}));
}

TEST_CASE("race: the delay is cut to what power_timeout leaves") {
  CHECK(bounded_delay(5s, 1s, 20s) == 5s);
  CHECK(bounded_delay(5s, 16s, 20s) == 3500ms);
  CHECK(bounded_delay(5s, 30s, 20s) == 0ms);
  CHECK(bounded_delay(0s, 0s, 20s) == 0ms);
}

TEST_CASE("race VM counts from crm_mon XML") {
  auto st = cluster::parse_crm_mon_xml(data("crm_mon-two-nodes.xml"));
  REQUIRE(st);
  CHECK(count_vms(*st, "n1") == VmCounts{1, 0});
  CHECK(count_vms(*st, "n2") == VmCounts{0, 1});

  cluster::PacemakerStatus s;
  auto add = [&](std::string agent, std::vector<std::string> nodes, bool active = true) {
    cluster::ResourceStatus r;
    r.id = "r" + std::to_string(s.resources.size());
    r.agent = std::move(agent);
    r.nodes = std::move(nodes);
    r.active = active;
    s.resources.push_back(r);
  };
  add("ocf:evos:vm", {"a"});
  add("ocf:heartbeat:VirtualDomain", {"a"});
  add("ocf::heartbeat:VirtualDomain", {"b"});  // older crm_mon
  add("ocf:evos:vm", {"a", "b"});              // live migration in flight: both sides
  add("ocf:evos:vm", {"b"}, false);            // stopped
  add("ocf:heartbeat:Dummy", {"b"});           // not a VM
  add("stonith:fence_evos_race", {"b"});
  CHECK(count_vms(s, "a") == VmCounts{3, 2});
  CHECK(count_vms(s, "b") == VmCounts{2, 3});
}

TEST_CASE("race parameters: defaults and values") {
  auto p = RaceParams::from(base());
  REQUIRE(p);
  CHECK(p->delay == 5000ms);
  CHECK(p->timeout == 500ms);
  CHECK(p->power_timeout == 20000ms);
  CHECK_FALSE(p->verbose);
  CHECK(p->test_ips.size() == 2);
  CHECK(p->peer_addresses.size() == 2);
  auto q = RaceParams::from({{"peer_addresses", "a=127.0.0.1,::1 a=[fd00::1] b=127.0.0.2"},
                             {"test_ips", "127.0.0.1"},
                             {"delay", "1s"},
                             {"timeout", "200ms"},
                             {"power_timeout", "30"},
                             {"verbose", "yes"},
                             {"unknown_key", "$(reboot)"}});
  REQUIRE(q);
  CHECK(q->delay == 1000ms);
  CHECK(q->timeout == 200ms);
  CHECK(q->power_timeout == 30000ms);
  CHECK(q->verbose);
  REQUIRE(q->peer_addresses.at("a").size() == 3);
  CHECK(q->peer_addresses.at("a")[1].host == "::1");
  CHECK(q->peer_addresses.at("a")[2].host == "fd00::1");
  CHECK(q->peer_addresses.at("b").front().host == "127.0.0.2");
}

TEST_CASE("race parameters: hostile and wrong values are refused naming the parameter") {
  const std::vector<std::pair<std::string, std::string>> bad{
      {"peer_addresses", ""},
      {"peer_addresses", "node1"},
      {"peer_addresses", "node1="},
      {"peer_addresses", "=198.18.1.1"},
      {"peer_addresses", "n$(reboot)=198.18.1.1"},
      {"peer_addresses", "n1=198.18.1.1;reboot"},
      {"peer_addresses", "n1=`id`"},
      {"peer_addresses", "n1=gw.example"},
      {"peer_addresses", "n1=198.18.1.1=2"},
      {"peer_addresses", "n1=198.18.1.1,"},
      {"peer_addresses", "n1=10.1"},
      {"peer_addresses", "n1=198.18.1.1\tn2=198.18.1.2"},
      {"peer_addresses", "n1=198.18.1.1\nn2=198.18.1.2"},
      {"peer_addresses", "n1=\xff\xfe"},
      {"test_ips", ""},
      {"test_ips", "10.1"},
      {"test_ips", "a;b"},
      {"test_ips", "$(touch x)"},
      {"delay", "5 s"},
      {"delay", "-1s"},
      {"delay", "3m"},
      {"delay", "18s"},  // with the default power_timeout of 20s
      {"timeout", "10ms"},
      {"timeout", "6s"},
      {"timeout", "fast"},
      {"power_timeout", "0"},
      {"power_timeout", "20;reboot"},
  };
  for (const auto& [key, value] : bad) {
    INFO(key << "=" << value);
    auto p = with(key, value);
    REQUIRE_FALSE(p);
    CHECK(p.error().code() == Errc::invalid_config);
    CHECK(p.error().message().find("'" + key + "'") != std::string::npos);
  }
  auto missing = RaceParams::from({{"test_ips", "127.0.0.1"}});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message().find("'peer_addresses' is required") != std::string::npos);
}

TEST_CASE("race fallback delay: the delay parameter alone") {
  CHECK(fallback_delay({{"delay", "2s"}, {"peer_addresses", "garbage"}}) == 2000ms);
  CHECK(fallback_delay({{"delay", "nonsense"}}) == 5000ms);
  CHECK(fallback_delay({}) == 5000ms);
  CHECK(fallback_power_timeout({{"power_timeout", "7"}, {"delay", "30s"}}) == 7000ms);
  CHECK(fallback_power_timeout({{"power_timeout", "0"}}) == 20000ms);
}

TEST_CASE("race meta-data names every parameter") {
  const auto xml = race_metadata_xml();
  for (const char* p : {"peer_addresses", "test_ips", "delay", "timeout", "power_timeout", "plug", "action"})
    CHECK(xml.find(fmt::format("<parameter name=\"{}\"", p)) != std::string::npos);
  CHECK(xml.find("<action name=\"validate-all\"") != std::string::npos);
}
