#include <evos/drbd/mirror_config.hpp>

#include <catch2/catch.hpp>

using namespace evos::drbd;

namespace {

Mirror sample() {
  Mirror m;
  m.resource = "vm-web1";
  m.minor = 1000;
  m.hosts[0] = Host{.name = "alpha", .node_id = 0, .address = "198.18.0.1:7789", .disk = "/dev/vg0/vm-web1"};
  m.hosts[1] = Host{.name = "beta", .node_id = 1, .address = "198.18.0.2:7789", .disk = "/dev/vg0/vm-web1"};
  return m;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("addresses are IPv4 or bracketed IPv6 with a port") {
  auto v4 = parse_address("198.18.0.1:7789");
  REQUIRE(v4);
  CHECK(v4->ip == "198.18.0.1");
  CHECK(v4->port == 7789);
  CHECK_FALSE(v4->ipv6);
  CHECK(render_address(*v4) == "ipv4 198.18.0.1:7789");
  auto v6 = parse_address("[fd00::1]:7790");
  REQUIRE(v6);
  CHECK(v6->ipv6);
  CHECK(render_address(*v6) == "ipv6 [fd00::1]:7790");
  for (const char* bad : {"198.18.0.1", "198.18.0.1:0", "198.18.0.1:65536", "198.18.0.256:7789", "fd00::1:7789",
                          "[fd00::1]7789", "[fd00::1:7789", "host.example:7789", ":7789", "198.18.0.1:77x", ""}) {
    INFO(bad);
    auto a = parse_address(bad);
    REQUIRE_FALSE(a);
    CHECK(a.error().code() == evos::Errc::invalid_config);
  }
}

TEST_CASE("a valid mirror renders a DRBD 9 resource with fencing and protocol C") {
  auto text = render_res(sample());
  REQUIRE(text);
  CHECK(has(*text, "resource \"vm-web1\" {"));
  CHECK(has(*text, "    protocol C;\n"));
  CHECK(has(*text, "    fencing resource-and-stonith;\n"));
  CHECK(has(*text, "    allow-two-primaries no;\n"));
  CHECK(has(*text, "    after-sb-0pri discard-zero-changes;\n"));
  CHECK(has(*text, "    after-sb-1pri discard-secondary;\n"));
  CHECK(has(*text, "    after-sb-2pri disconnect;\n"));
  CHECK(has(*text, "    verify-alg sha256;\n"));
  CHECK(has(*text, "    auto-promote no;\n"));
  CHECK(has(*text, "    fence-peer \"/usr/lib/drbd/crm-fence-peer.9.sh\";\n"));
  CHECK(has(*text, "    unfence-peer \"/usr/lib/drbd/crm-unfence-peer.9.sh\";\n"));
  CHECK(has(*text, "  on \"alpha\" {\n    node-id 0;\n"));
  CHECK(has(*text, "  on \"beta\" {\n    node-id 1;\n"));
  CHECK(has(*text, "      device minor 1000;\n"));
  CHECK(has(*text, "    address ipv4 198.18.0.2:7789;\n"));
  CHECK(has(*text, "    hosts \"alpha\" \"beta\";\n"));
  CHECK_FALSE(has(*text, "split-brain"));
}

TEST_CASE("the migration flag and the handler paths are configurable") {
  Mirror m = sample();
  m.allow_two_primaries = true;
  m.fence_peer = Handler{"/usr/libexec/evos/mirror-fence-peer", {"--timeout=90"}};
  m.unfence_peer = Handler{"/usr/libexec/evos/mirror-unfence-peer", {}};
  m.split_brain_notify = Handler{"/usr/lib/drbd/notify-split-brain.sh", {"root"}};
  auto text = render_res(m);
  REQUIRE(text);
  CHECK(has(*text, "    allow-two-primaries yes;\n"));
  CHECK(has(*text, "    fence-peer \"/usr/libexec/evos/mirror-fence-peer --timeout=90\";\n"));
  CHECK(has(*text, "    unfence-peer \"/usr/libexec/evos/mirror-unfence-peer\";\n"));
  CHECK(has(*text, "    split-brain \"/usr/lib/drbd/notify-split-brain.sh root\";\n"));
}

TEST_CASE("invalid mirrors are rejected naming the field") {
  struct Row {
    const char* what;
    void (*change)(Mirror&);
    const char* expected;
  };
  const std::vector<Row> rows = {
      {"empty resource", [](Mirror& m) { m.resource = ""; }, "resource name is empty"},
      {"resource all", [](Mirror& m) { m.resource = "all"; }, "'all'"},
      {"resource option", [](Mirror& m) { m.resource = "-r0"; }, "must start with a letter or digit"},
      {"resource space", [](Mirror& m) { m.resource = "r 0"; }, "position 2"},
      {"resource quote", [](Mirror& m) { m.resource = "r\"0"; }, "position 2"},
      {"minor negative", [](Mirror& m) { m.minor = -1; }, "minor -1 is outside"},
      {"minor too big", [](Mirror& m) { m.minor = max_minor + 1; }, "minor 1048576 is outside"},
      {"node id 32", [](Mirror& m) { m.hosts[1].node_id = 32; }, "node id 32 is outside 0..31"},
      {"node id dup", [](Mirror& m) { m.hosts[1].node_id = 0; }, "both hosts have node id 0"},
      {"name dup", [](Mirror& m) { m.hosts[1].name = "alpha"; }, "both hosts are named 'alpha'"},
      {"bad host", [](Mirror& m) { m.hosts[0].name = "al pha"; }, "host 1 name has character ' '"},
      {"host dash", [](Mirror& m) { m.hosts[0].name = "-alpha"; }, "must start and end"},
      {"no port", [](Mirror& m) { m.hosts[1].address = "198.18.0.2"; }, "host 'beta': address '198.18.0.2' has no ':port'"},
      {"mixed family", [](Mirror& m) { m.hosts[1].address = "[fd00::2]:7789"; }, "IPv4 and the other an IPv6"},
      {"same address", [](Mirror& m) { m.hosts[1].address = "198.18.0.1:7789"; }, "both hosts have address"},
      {"relative disk", [](Mirror& m) { m.hosts[0].disk = "vg0/x"; }, "disk is not an absolute path"},
      {"disk with quote", [](Mirror& m) { m.hosts[0].disk = "/dev/vg0/x\";"; }, "not allowed in a path"},
      {"disk dotdot", [](Mirror& m) { m.hosts[0].disk = "/dev/../etc/passwd"; }, "'..'"},
      {"stacked", [](Mirror& m) { m.hosts[0].disk = "/dev/drbd5"; }, "is a DRBD device itself"},
      {"meta disk", [](Mirror& m) { m.hosts[0].meta_disk = "flexible"; }, "meta-disk is neither"},
      {"policy", [](Mirror& m) { m.split_brain_policy.after_sb_2pri = "violently-as0p"; }, "after-sb-2pri 'violently-as0p'"},
      {"verify-alg shell", [](Mirror& m) { m.verify_alg = "sha256;"; }, "verify-alg 'sha256;' is not a kernel hash name"},
      {"verify-alg empty", [](Mirror& m) { m.verify_alg = ""; }, "verify-alg is empty"},
      {"verify-alg option", [](Mirror& m) { m.verify_alg = "-x"; }, "must start with a lowercase letter"},
      {"handler shell", [](Mirror& m) { m.fence_peer.args = {"$(reboot)"}; }, "fence-peer handler argument"},
      {"handler relative", [](Mirror& m) { m.unfence_peer.path = "crm-unfence-peer.9.sh"; }, "unfence-peer handler path"},
      {"handler empty arg", [](Mirror& m) { m.fence_peer.args = {""}; }, "empty argument"},
  };
  for (const auto& row : rows) {
    INFO(row.what);
    Mirror m = sample();
    row.change(m);
    auto ok = validate(m);
    REQUIRE_FALSE(ok);
    CHECK(ok.error().code() == evos::Errc::invalid_config);
    INFO(ok.error().message());
    CHECK(has(ok.error().message(), row.expected));
    CHECK_FALSE(render_res(m));
  }
}

TEST_CASE("IPv6 mirrors and external meta-data render") {
  Mirror m = sample();
  m.hosts[0].address = "[fd00::1]:7789";
  m.hosts[1].address = "[fd00::2]:7789";
  m.hosts[1].meta_disk = "/dev/vg0/meta";
  auto text = render_res(m);
  REQUIRE(text);
  CHECK(has(*text, "    address ipv6 [fd00::1]:7789;\n"));
  CHECK(has(*text, "      meta-disk \"/dev/vg0/meta\";\n"));
  CHECK(has(*text, "      meta-disk internal;\n"));
}
