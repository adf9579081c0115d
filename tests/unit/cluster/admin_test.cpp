#include <evos/cluster/admin.hpp>
#include <evos/cluster/duration.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::cluster;

TEST_CASE("durations: digits and ms, s, m, h; anything else is refused") {
  CHECK(*parse_duration("5s") == Millis(5000));
  CHECK(*parse_duration("100ms") == Millis(100));
  CHECK(*parse_duration("2m") == Millis(120000));
  CHECK(*parse_duration("1h") == Millis(3600000));
  CHECK(*parse_duration("7") == Millis(7000));  // no unit: seconds, as Pacemaker reads it
  CHECK(*parse_duration("0") == Millis(0));
  for (const char* bad : {"", "s", "5 s", "5sec", "-1s", "5s; rm", "1s$(id)", "1234567890s", "5S", "1.5s"}) {
    INFO(bad);
    auto d = parse_duration(bad);
    REQUIRE_FALSE(d);
    CHECK(d.error().code() == Errc::invalid_argument);
    CHECK_FALSE(is_duration(bad));
  }
}

TEST_CASE("VM names: a letter first, then letters, digits, '_', '.', '-'; at most 64") {
  CHECK(check_vm_name("web1"));
  CHECK(check_vm_name("a.b_c-d"));
  CHECK(check_vm_name(std::string(64, 'a')));
  for (const std::string& bad : std::vector<std::string>{"", "1web", "-web", "web 1", "web;reboot", "web1 or #uname", "wéb", std::string(65, 'a')}) {
    INFO(bad);
    auto r = check_vm_name(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::invalid_argument);
    CHECK(r.error().message().find("VM name") != std::string::npos);
  }
  CHECK(vm_resource_id("web1") == "vm-web1");
}

TEST_CASE("cluster-base: both delays checked and named before rendering") {
  const std::string tpl = "# a comment\nproperty p=@PRIORITY_FENCING_DELAY@ t=@TRANSITION_DELAY@\n";
  auto ok = render_cluster_base(tpl, {"5s", "100ms"});
  REQUIRE(ok);
  CHECK(*ok == "property p=5s t=100ms\n");
  auto bad = render_cluster_base(tpl, {"5s; rm", "100ms"});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("--priority-fencing-delay") != std::string::npos);
  auto bad2 = render_cluster_base(tpl, {"5s", "1s$(id)"});
  REQUIRE_FALSE(bad2);
  CHECK(bad2.error().message().find("--transition-delay") != std::string::npos);
}

TEST_CASE("vm-shared: the name, the config path and the stop settings") {
  const std::string tpl = "primitive vm-@VM@ x params config=\"@CONFIG@\" m=@MIGRATION_UNSAFE@ f=@FORCE_STOP@ s=@SHUTDOWN_TIMEOUT@\n";
  auto ok = render_vm_shared(tpl, {"web1", "/srv/evos/web1.xml", false, true, 7});
  REQUIRE(ok);
  CHECK(*ok == "primitive vm-web1 x params config=\"/srv/evos/web1.xml\" m=false f=true s=7\n");
  auto path = render_vm_shared(tpl, {"web1", "/srv/$(id).xml", false, false, 0});
  REQUIRE_FALSE(path);
  CHECK(path.error().message().find("--config") != std::string::npos);
  CHECK_FALSE(render_vm_shared(tpl, {"web1", "relative.xml", false, false, 0}));
  CHECK_FALSE(render_vm_shared(tpl, {"web1;x", "/srv/a.xml", false, false, 0}));
  CHECK_FALSE(render_vm_shared(tpl, {"web1", "/srv/a.xml", false, false, -1}));
}

TEST_CASE("testip: the clone once, the rules per VM and mirror, the host list canonical") {
  const std::string tpl =
      "# header\n# == the clone (once) ==\nprimitive testip p host_list=\"@TEST_IPS@\"\n"
      "# == per VM ==\nlocation vm-@VM@-testip-none vm-@VM@\n# == per mirror ==\nlocation @MIRROR_CLONE@-t @MIRROR_CLONE@\n";
  auto r = render_testip(tpl, {"198.18.1.254  fd00::1=2", {"web1", "web2"}, {"m-clone"}});
  REQUIRE(r);
  CHECK(r->host_list == "198.18.1.254 fd00::1=2");
  CHECK(r->text ==
        "primitive testip p host_list=\"198.18.1.254 fd00::1=2\"\nlocation vm-web1-testip-none vm-web1\n"
        "location vm-web2-testip-none vm-web2\nlocation m-clone-t m-clone\n");
  auto host = render_testip(tpl, {"198.18.1.254 10.1", {}, {}});
  REQUIRE_FALSE(host);
  CHECK(host.error().message().find("'10.1'") != std::string::npos);
  CHECK_FALSE(render_testip(tpl, {"198.18.1.254", {"web1 or #uname"}, {}}));
  CHECK_FALSE(render_testip(tpl, {"198.18.1.254", {}, {"m;x"}}));
  auto missing = render_testip("# == the clone (once) ==\nx @TEST_IPS@\n", {"198.18.1.254", {"web1"}, {}});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == Errc::not_installed);  // a template without the "per VM" block
}

TEST_CASE("NODE=DEVICE: one device per node of --peers, no unknown node, plain names") {
  const std::set<std::string> nodes{"n1", "n2"};
  auto ok = pair_fence_devices({"n2=fence-n2", "n1=fence-n1"}, nodes);
  REQUIRE(ok);
  CHECK(*ok == std::map<std::string, std::string>{{"n1", "fence-n1"}, {"n2", "fence-n2"}});
  const auto refused = [&](std::vector<std::string> args, const std::string& says) {
    INFO(says);
    auto r = pair_fence_devices(args, nodes);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::invalid_argument);
    CHECK(r.error().message().find(says) != std::string::npos);
  };
  refused({"n1=fence-n1"}, "no fence device for node 'n2'");
  refused({"n1=fence-n1", "n3=fence-n2"}, "not in --peers");
  refused({"n1=fence-n1", "n1=fence-x", "n2=fence-n2"}, "given twice");
  refused({"n1=fence-n1", "n2=x;reboot"}, "the device");
  refused({"n1", "n2=fence-n2"}, "the device");  // no '='
  refused({"=fence-n1", "n2=fence-n2"}, "the node");
}

TEST_CASE("fencing-race: the agent's parser decides, two nodes, devices paired") {
  const std::string tpl = "primitive fence-race p peer_addresses=\"@PEER_ADDRESSES@\" test_ips=\"@TEST_IPS@\" delay=@DELAY@\n"
                          "fencing_topology @NODE1@: fence-race,@FENCE_DEVICE1@ @NODE2@: fence-race,@FENCE_DEVICE2@\n";
  FenceRaceSettings s{"n1=198.18.1.1 n2=198.18.1.2", "198.18.1.254  198.18.2.254", {"n1=fence-n1", "n2=fence-n2"}, "5s"};
  auto r = render_fence_race(tpl, s);
  REQUIRE(r);
  CHECK(r->text == "primitive fence-race p peer_addresses=\"n1=198.18.1.1 n2=198.18.1.2\" test_ips=\"198.18.1.254 198.18.2.254\" delay=5s\n"
                   "fencing_topology n1: fence-race,fence-n1 n2: fence-race,fence-n2\n");
  auto one = s;
  one.peers = "n1=198.18.1.1";
  REQUIRE_FALSE(render_fence_race(tpl, one));
  CHECK(render_fence_race(tpl, one).error().message().find("two") != std::string::npos);
  auto name = s;
  name.peers = "n1=host1 n2=198.18.1.2";
  CHECK_FALSE(render_fence_race(tpl, name));
  auto delay = s;
  delay.delay = "5parsecs";
  CHECK_FALSE(render_fence_race(tpl, delay));
  auto ips = s;
  ips.test_ips = "198.18.1.254;id";
  CHECK_FALSE(render_fence_race(tpl, ips));
}
