// fence_evos_race's actions (evos::fence, race_agent.hpp) over fake ports: a scripted ICMP round,
// crm_mon's XML from tests/data/pacemaker (n1 runs one VM, n2 none), and a fake clock. Every
// verdict and fallback tests/integration/fence_race.sh checks on the real binary is decided here.
#include "fake_net.hpp"
#include "test_data.hpp"

#include <evos/fence/race_agent.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::fence;
using namespace std::chrono_literals;
using evos::testing::FakeProber;
using evos::testing::FakeResolver;
using evos::testing::MemoryLog;

namespace {

struct Rig {
  FakeResolver resolver;
  FakeProber prober;
  std::optional<Result<cluster::PacemakerStatus>> status_answer;  // nullopt: crm_mon from tests/data
  int status_reads = 0;
  Millis now{0};
  std::vector<Millis> slept;
  MemoryLog log;
  RacePorts ports{.resolver = resolver,
                  .prober = prober,
                  .status =
                      [this](Deadline) -> Result<cluster::PacemakerStatus> {
                        ++status_reads;
                        if (status_answer) return *status_answer;
                        return cluster::parse_crm_mon_xml(evos::test::read_data("pacemaker", "crm_mon-two-nodes.xml"));
                      },
                  .sleep =
                      [this](Millis d) {
                        slept.push_back(d);
                        now += d;
                      },
                  .elapsed = [this] { return now; }};

  ActionResult run(Options o) { return run_action(o, RaceParams::from(o), ports, log); }
};

// The integration test's off request: delay 3 s, ICMP timeout 300 ms.
Options off(const std::string& target, const std::string& peers, const std::string& tests) {
  return {{"action", "off"}, {"nodename", target}, {"plug", target}, {"peer_addresses", peers},
          {"test_ips", tests}, {"delay", "3s"},    {"timeout", "300ms"}};
}

const std::string peers = "n1=127.0.0.1 n2=127.0.0.2";

}  // namespace

TEST_CASE("off: a split delays only when the target runs more VMs") {
  Rig busier;
  busier.prober.up = {"127.0.0.1", "127.0.0.2", "198.18.250.1"};
  CHECK(busier.run(off("n1", peers, "198.18.250.1")).exit_code == 0);
  CHECK(busier.slept == std::vector<Millis>{3000ms});
  CHECK(busier.status_reads == 1);
  CHECK(busier.log.contains("target-busier"));
  CHECK(busier.log.contains("fencing of n1 may proceed after 3.000s"));

  Rig fewer;
  fewer.prober.up = {"127.0.0.1", "127.0.0.2", "198.18.250.1"};
  CHECK(fewer.run(off("n2", peers, "198.18.250.1")).exit_code == 0);
  CHECK(fewer.slept.empty());
  CHECK(fewer.log.contains("local-busier"));
}

TEST_CASE("off: a silent target is dead, even if it ran the VM; one answering address is enough") {
  Rig dead;
  dead.prober.up = {"127.0.0.2", "198.18.250.1"};
  CHECK(dead.run(off("n1", "n1=198.18.250.2 n2=127.0.0.2", "198.18.250.1")).exit_code == 0);
  CHECK(dead.slept.empty());
  CHECK(dead.status_reads == 0);  // the counts cannot matter
  CHECK(dead.log.contains("target-dead"));

  Rig two;
  two.prober.up = {"127.0.0.1", "198.18.250.1"};
  CHECK(two.run(off("n1", "n1=198.18.250.2,127.0.0.1 n2=127.0.0.2", "198.18.250.1")).exit_code == 0);
  CHECK(two.slept == std::vector<Millis>{3000ms});
  CHECK(two.log.contains("target-busier"));
  REQUIRE(two.prober.last_targets.size() == 3);  // both target addresses, then the test IP
  CHECK(two.prober.last_targets[0].address == "198.18.250.2");
  CHECK(two.prober.last_targets[2].address == "198.18.250.1");
}

TEST_CASE("off: a node that reaches no test IP is the isolated one and delays, even with a dead target") {
  Rig r;
  r.prober.up = {"127.0.0.1"};
  CHECK(r.run(off("n2", "n1=127.0.0.1 n2=198.18.250.2", "198.18.250.3")).exit_code == 0);
  CHECK(r.slept == std::vector<Millis>{3000ms});
  CHECK(r.log.contains("isolated"));
}

TEST_CASE("off: an unreadable cluster status leaves the counts unknown: delay") {
  for (auto answer : {Result<cluster::PacemakerStatus>(make_error(Errc::not_installed, "crm_mon: not found in PATH")),
                      cluster::parse_crm_mon_xml("<crm_mon")}) {
    Rig r;
    r.prober.up = {"127.0.0.1", "127.0.0.2", "198.18.250.1"};
    r.status_answer = answer;
    CHECK(r.run(off("n2", peers, "198.18.250.1")).exit_code == 0);
    CHECK(r.slept == std::vector<Millis>{3000ms});
    CHECK(r.log.contains("cannot read the cluster status"));
    CHECK(r.log.contains("counts-unknown"));
  }
}

TEST_CASE("off: test IP names are resolved; a resolver failure leaves them unreached") {
  Rig r;
  r.resolver.table = {{"gw.example", "198.18.250.1"}};
  r.prober.up = {"127.0.0.1", "127.0.0.2", "198.18.250.1"};
  CHECK(r.run(off("n2", peers, "gw.example")).exit_code == 0);
  CHECK(r.log.contains("local-busier"));
  Rig broken;
  broken.resolver.failure = Error(Errc::timeout, "resolver: no answer");
  broken.prober.up = {"127.0.0.1", "127.0.0.2", "198.18.250.1"};
  CHECK(broken.run(off("n2", peers, "gw.example")).exit_code == 0);
  CHECK(broken.log.contains("test IP names not probed: resolver: no answer"));
  CHECK(broken.log.contains("isolated"));
}

TEST_CASE("off and reboot never fail: anything that prevents a look falls back to the fixed delay") {
  auto fixed = [](Options o, const char* why) {
    Rig r;
    INFO(why);
    CHECK(r.run(std::move(o)).exit_code == 0);
    CHECK(r.slept == std::vector<Millis>{1000ms});
    CHECK(r.log.contains("falling back to the fixed delay of 1.000s"));
    CHECK(r.log.contains(why));
  };
  auto o = off("n2", "n1=;reboot", "198.18.250.1");
  o["delay"] = "1s";
  fixed(o, "peer_addresses");
  o = off("", peers, "198.18.250.1");
  o.erase("nodename");
  o.erase("plug");
  o["delay"] = "1s";
  fixed(o, "no target node");
  o = off("n2;reboot", peers, "198.18.250.1");
  o["delay"] = "1s";
  fixed(o, "target node 'n2;reboot'");
  o = off("n2", peers, "198.18.250.1");
  o["action"] = "reboot";
  o["delay"] = "1s";
  Rig failing;
  failing.prober.failure = Error(Errc::permission_denied, "no ICMP socket");
  CHECK(failing.run(o).exit_code == 0);
  CHECK(failing.slept == std::vector<Millis>{1000ms});
  CHECK(failing.log.contains("ICMP round: no ICMP socket: falling back"));
}

TEST_CASE("power_timeout bounds the delay, the fallback's too") {
  Rig r;
  r.prober.up = {"127.0.0.1", "127.0.0.2", "198.18.250.1"};
  auto o = off("n1", peers, "198.18.250.1");
  o["power_timeout"] = "1";
  CHECK(r.run(o).exit_code == 0);
  CHECK(r.slept == std::vector<Millis>{500ms});  // 1 s less race_margin
  CHECK(r.log.contains("delay cut to 0.500s by power_timeout"));
  Rig late;  // already 2 s spent: nothing is left to sleep
  late.now = 2000ms;
  o["peer_addresses"] = "n1=;x";
  CHECK(late.run(o).exit_code == 0);
  CHECK(late.slept.empty());
  CHECK(late.log.contains("delay cut to 0.000s"));
}

TEST_CASE("the other actions: metadata, validate-all, on, monitor, status, list, unknown") {
  const Options good{{"peer_addresses", "n1=127.0.0.1 n2=198.18.250.2"}, {"test_ips", "198.18.250.1"}};
  auto with = [&](const char* action, Options o) {
    o["action"] = action;
    return o;
  };
  Rig r;
  auto meta = r.run({{"action", "metadata"}});
  CHECK(meta.exit_code == 0);
  CHECK(meta.out == race_metadata_xml());
  CHECK(r.run(with("validate-all", good)).exit_code == 0);
  Rig bad;
  CHECK(bad.run(with("validate-all", {{"test_ips", "198.18.250.1"}})).exit_code == 1);
  CHECK(bad.log.contains("'peer_addresses' is required"));
  CHECK(r.run(with("on", good)).exit_code == 0);
  CHECK(r.run(with("monitor", good)).exit_code == 0);
  Rig warned;
  CHECK(warned.run(with("monitor", {{"peer_addresses", "n1=;x"}})).exit_code == 0);
  CHECK(warned.log.contains("peer_addresses"));
  CHECK(r.run(with("status", good)).out == "Status: ON\n");
  auto list = r.run(with("list", good));
  CHECK(list.exit_code == 0);
  CHECK(list.out == "n1\nn2\n");
  CHECK(r.run(with("list", {{"peer_addresses", "n1=;x"}})).exit_code == 1);
  Rig unknown;
  CHECK(unknown.run(with("frobnicate", good)).exit_code == 1);
  CHECK(unknown.log.contains("unsupported action 'frobnicate'"));
  CHECK(r.slept.empty());
  CHECK(r.prober.last_targets.empty());  // none of them probes
}

TEST_CASE("facts from one ICMP round") {
  std::vector<net::HostResult> results(4);
  results[1].received = 1;  // the target's second address
  results[3].received = 2;  // the second test IP
  auto f = assemble_facts("n1", true, 2, 2, results);
  CHECK(f.target == "n1");
  CHECK(f.target_answered);
  CHECK(f.test_ips == 2);
  CHECK(f.test_ips_reached == 1);
  CHECK_FALSE(f.vms);
  auto silent = assemble_facts("n1", false, 0, 1, {net::HostResult{}});
  CHECK_FALSE(silent.target_known);
  CHECK_FALSE(silent.target_answered);
  CHECK(silent.test_ips_reached == 0);
}
