#include <evos/network/spec.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::network;

namespace {

NetworkSpec nat(std::string cidr, std::optional<std::string> range = std::nullopt, std::vector<std::string> hosts = {}) {
  auto s = nat_spec({"lan", std::move(cidr), std::move(range), std::move(hosts)});
  REQUIRE(s);
  return *s;
}

std::string nat_error(std::string cidr, std::optional<std::string> range = std::nullopt, std::vector<std::string> hosts = {},
                      std::string name = "lan") {
  auto s = nat_spec({std::move(name), std::move(cidr), std::move(range), std::move(hosts)});
  REQUIRE_FALSE(s);
  CHECK(s.error().code() == Errc::invalid_argument);
  return s.error().message();
}

}  // namespace

TEST_CASE("network: IPv4 addresses parse strictly", "[network]") {
  CHECK(parse_ipv4("192.168.100.1") == 0xC0A86401u);
  CHECK(parse_ipv4("0.0.0.0") == 0u);
  CHECK(format_ipv4(0xC0A86401u) == "192.168.100.1");
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "a.b.c.d", "1..2.3", "1.2.3.-4"})
    CHECK_FALSE(parse_ipv4(bad));
}

TEST_CASE("network: names, bridge names and MACs", "[network]") {
  CHECK(check_name("evos-nat_1.a"));
  CHECK_FALSE(check_name(""));
  CHECK_FALSE(check_name("-x"));
  CHECK_FALSE(check_name("a/b"));
  CHECK_FALSE(check_name("a b"));
  CHECK_FALSE(check_name(std::string(65, 'a')));
  CHECK(check_bridge_name("br0"));
  CHECK_FALSE(check_bridge_name("averyveryverylongbr"));
  CHECK_FALSE(check_bridge_name(".."));
  CHECK_FALSE(check_bridge_name("br;0"));
  CHECK(*canonical_mac("52:54:00:AB:cd:01") == "52:54:00:ab:cd:01");
  CHECK_FALSE(canonical_mac("52-54-00-ab-cd-01"));
  CHECK_FALSE(canonical_mac("52:54:00:ab:cd"));
  CHECK_FALSE(canonical_mac("01:00:5e:00:00:01"));  // multicast
}

TEST_CASE("network: a nat request becomes a checked spec", "[network]") {
  const auto s = nat("192.168.100.1/24");
  CHECK(s.kind == Kind::nat);
  CHECK(s.address == "192.168.100.1");
  CHECK(s.prefix == 24);
  // default DHCP: the upper half of the hosts
  CHECK(s.dhcp_start == "192.168.100.128");
  CHECK(s.dhcp_end == "192.168.100.254");
  CHECK(summary(s) == "nat 192.168.100.1/24, DHCP 192.168.100.128-192.168.100.254");

  const auto none = nat("10.1.2.1/16", "none");
  CHECK(none.dhcp_start.empty());
  const auto h = nat("10.0.0.1/24", "10.0.0.100-10.0.0.200", {"52:54:00:00:00:0B=10.0.0.11", "52:54:00:00:00:0a=10.0.0.10"});
  REQUIRE(h.hosts.size() == 2);
  CHECK(h.hosts[0] == DhcpHost{"52:54:00:00:00:0a", "10.0.0.10"});  // sorted, canonical
  // a gateway in the upper half is left out of the default range
  const auto top = nat("10.0.0.254/24");
  CHECK(top.dhcp_end == "10.0.0.253");
}

TEST_CASE("network: bad nat requests are refused, naming the value", "[network]") {
  CHECK(nat_error("192.168.100.1").find("prefix") != std::string::npos);
  CHECK(nat_error("192.168.100.1/33").find("/33") != std::string::npos);
  CHECK(nat_error("192.168.100.1/31").find("8-30") != std::string::npos);
  CHECK(nat_error("192.168.300.1/24").find("192.168.300.1") != std::string::npos);
  CHECK(nat_error("192.168.100.0/24").find("network address") != std::string::npos);
  CHECK(nat_error("192.168.100.255/24").find("broadcast address") != std::string::npos);
  CHECK(nat_error("192.168.100.1/24", "192.168.101.10-192.168.101.20").find("outside 192.168.100.0/24") != std::string::npos);
  CHECK(nat_error("192.168.100.1/24", "192.168.100.20-192.168.100.10").find("ends before it starts") != std::string::npos);
  CHECK(nat_error("192.168.100.50/24", "192.168.100.10-192.168.100.90").find("holds the gateway") != std::string::npos);
  CHECK(nat_error("192.168.100.1/24", "192.168.100.1-192.168.100.90").find("is the gateway") != std::string::npos);
  CHECK(nat_error("192.168.100.1/24", "192.168.100.10").find("FIRST-LAST") != std::string::npos);
  CHECK(nat_error("192.168.100.1/24", std::nullopt, {"52:54:00:00:00:01=192.168.100.200"}).find("inside the DHCP range") !=
        std::string::npos);
  CHECK(nat_error("192.168.100.1/24", std::nullopt, {"52:54:00:00:00:01=192.168.100.10", "52:54:00:00:00:01=192.168.100.11"})
            .find("given twice") != std::string::npos);
  CHECK(nat_error("192.168.100.1/24", std::nullopt, {"52:54:00:00:00:01=192.168.100.10", "52:54:00:00:00:02=192.168.100.10"})
            .find("two static hosts") != std::string::npos);
  CHECK(nat_error("192.168.100.1/24", "none", {"52:54:00:00:00:01=192.168.100.10"}).find("need DHCP") != std::string::npos);
  CHECK(nat_error("192.168.100.1/24", std::nullopt, {"52:54:00:00:00:01"}).find("MAC=IP") != std::string::npos);
  CHECK(nat_error("192.168.100.1/24", std::nullopt, {}, "bad/name").find("bad/name") != std::string::npos);
  CHECK_FALSE(bridge_spec("lan", ""));
  CHECK_FALSE(bridge_spec("lan", "br 0"));
  CHECK(bridge_spec("lan", "br0"));
}

TEST_CASE("network: subnets overlap", "[network]") {
  CHECK(subnets_overlap(nat("10.0.0.1/16"), nat("10.0.5.1/24")));
  CHECK_FALSE(subnets_overlap(nat("10.0.0.1/24"), nat("10.0.1.1/24")));
  CHECK_FALSE(subnets_overlap(nat("10.0.0.1/24"), *bridge_spec("lan", "br0")));
}

TEST_CASE("network: XML both ways", "[network]") {
  const auto s = nat("198.18.50.1/24", "198.18.50.100-198.18.50.150", {"52:54:00:12:34:56=198.18.50.10"});
  const std::string xml = to_xml(s);
  CHECK(xml.find("<forward mode=\"nat\" />") != std::string::npos);
  CHECK(xml.find("<bridge stp=\"off\" delay=\"0\" />") != std::string::npos);  // no name: each host's libvirt picks it
  CHECK(xml.find("<ip address=\"198.18.50.1\" prefix=\"24\">") != std::string::npos);
  CHECK(xml.find("<range start=\"198.18.50.100\" end=\"198.18.50.150\" />") != std::string::npos);
  CHECK(xml.find("<host mac=\"52:54:00:12:34:56\" ip=\"198.18.50.10\" />") != std::string::npos);
  CHECK(xml.find("<uuid") == std::string::npos);
  // the gateway's MAC: the same on every node, from the name
  CHECK(xml.find("<mac address=\"" + gateway_mac("lan") + "\" />") != std::string::npos);
  CHECK(gateway_mac("lan") == gateway_mac("lan"));
  CHECK(gateway_mac("lan") != gateway_mac("lan2"));
  CHECK(canonical_mac(gateway_mac("lan")));
  auto back = parse_xml(xml);
  REQUIRE(back);
  CHECK(*back == s);

  const auto b = *bridge_spec("lan", "br0");
  CHECK(to_xml(b).find("<bridge name=\"br0\" />") != std::string::npos);
  CHECK(*parse_xml(to_xml(b)) == b);
}

TEST_CASE("network: libvirt's own XML reads as the spec it came from", "[network]") {
  // What libvirt 9.0 gives back (virNetworkGetXMLDesc) for a network evos defined: UUID, a
  // bridge of its choosing, MAC, STP, NAT ports, a netmask instead of a prefix.
  const std::string libvirt_xml = R"(<network>
  <name>lan</name>
  <uuid>4b0a7b1e-9d5a-4f6e-8a4e-1c2d3e4f5a6b</uuid>
  <forward mode='nat'>
    <nat><port start='1024' end='65535'/></nat>
  </forward>
  <bridge name='virbr1' stp='on' delay='0'/>
  <mac address='52:54:00:aa:bb:cc'/>
  <ip address='198.18.50.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='198.18.50.100' end='198.18.50.150'/>
      <host mac='52:54:00:12:34:56' ip='198.18.50.10'/>
    </dhcp>
  </ip>
  <ip family='ipv6' address='fd00::1' prefix='64'/>
</network>)";
  auto s = parse_xml(libvirt_xml);
  REQUIRE(s);
  CHECK(s->mac == "52:54:00:aa:bb:cc");
  auto want = nat("198.18.50.1/24", "198.18.50.100-198.18.50.150", {"52:54:00:12:34:56=198.18.50.10"});
  CHECK(compare(want, *s) == std::vector<Difference>{{"gateway MAC", gateway_mac("lan"), "52:54:00:aa:bb:cc"}});
  want.mac = s->mac;
  CHECK(*s == want);

  auto isolated = parse_xml("<network><name>iso</name><ip address='10.9.0.1' prefix='24'/></network>");
  REQUIRE(isolated);
  CHECK(isolated->kind == Kind::other);
  CHECK(summary(*isolated) == "isolated 10.9.0.1/24");
  CHECK_FALSE(validate(*isolated));
  CHECK(parse_xml("<network><forward mode='nat'/></network>").error().message().find("<name>") != std::string::npos);
  CHECK(parse_xml("<domain/>").error().code() == Errc::invalid_config);
  CHECK(parse_xml("<network>").error().code() == Errc::invalid_config);
}

TEST_CASE("network: compare names every difference", "[network]") {
  const auto a = nat("198.18.50.1/24", "198.18.50.100-198.18.50.150", {"52:54:00:00:00:01=198.18.50.10"});
  CHECK(compare(a, a).empty());
  auto b = nat("198.18.50.1/24", "198.18.50.100-198.18.50.160", {"52:54:00:00:00:01=198.18.50.11", "52:54:00:00:00:02=198.18.50.12"});
  b.name = "lan2";
  const auto d = compare(a, b);
  REQUIRE(d.size() == 4);
  CHECK(d[0] == Difference{"name", "lan", "lan2"});
  CHECK(d[1] == Difference{"DHCP range", "198.18.50.100-198.18.50.150", "198.18.50.100-198.18.50.160"});
  CHECK(d[2] == Difference{"static host 52:54:00:00:00:01", "198.18.50.10", "198.18.50.11"});
  CHECK(d[3] == Difference{"static host 52:54:00:00:00:02", "", "198.18.50.12"});
  CHECK(describe({d[3]}, "h1", "h2") == "static host 52:54:00:00:00:02: none on h1, 198.18.50.12 on h2");

  const auto br = *bridge_spec("lan", "br0");
  const auto kinds = compare(nat("198.18.50.1/24"), br);
  REQUIRE(kinds.size() == 5);
  CHECK(kinds[0] == Difference{"forward mode", "nat", "bridge"});
  CHECK(kinds[1] == Difference{"bridge", "", "br0"});
  CHECK(kinds[2].what == "gateway MAC");
  CHECK(kinds[3].what == "address");
  CHECK(kinds[4].what == "DHCP range");
  CHECK(compare(br, *bridge_spec("lan", "br1")) == std::vector<Difference>{{"bridge", "br0", "br1"}});
}
