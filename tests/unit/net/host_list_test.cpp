#include <evos/net/host_list.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::net;

TEST_CASE("host lists mix IPv4 and IPv6 literals and names with weights") {
  auto l = parse_host_list("198.18.1.254 fd00::1=2 [fd00::2]=3  gw.example=4 [fe80::1%eth0] 127.0.0.1=1");
  REQUIRE(l);
  REQUIRE(l->size() == 6);
  CHECK((*l)[0] == HostSpec{"198.18.1.254", 1, Family::ipv4});
  CHECK((*l)[1] == HostSpec{"fd00::1", 2, Family::ipv6});
  CHECK((*l)[2] == HostSpec{"fd00::2", 3, Family::ipv6});
  CHECK((*l)[3] == HostSpec{"gw.example", 4, Family::any});
  CHECK((*l)[3].is_name());
  CHECK((*l)[4] == HostSpec{"fe80::1%eth0", 1, Family::ipv6});
  CHECK((*l)[5].weight == 1);
  CHECK(to_entry((*l)[1]) == "fd00::1=2");
  CHECK(to_entry((*l)[0]) == "198.18.1.254");
  CHECK(to_host_list(*l) == "198.18.1.254 fd00::1=2 fd00::2=3 gw.example=4 fe80::1%eth0 127.0.0.1");
  CHECK(*parse_host_list(to_host_list(*l)) == *l);
}

TEST_CASE("IPv6 colons are never read as a weight") {
  // "fd00::1:2" is one address, not fd00::1 with weight 2.
  auto l = parse_host_list("fd00::1:2");
  REQUIRE(l);
  CHECK((*l)[0].host == "fd00::1:2");
  CHECK((*l)[0].weight == 1);
  CHECK(parse_host_list("::1")->front().literal == Family::ipv6);
}

TEST_CASE("a colon weight is refused with a hint") {
  auto l = parse_host_list("gw:2");
  REQUIRE_FALSE(l);
  CHECK(l.error().code() == Errc::invalid_config);
  CHECK(l.error().message().find("'gw:2'") != std::string::npos);
  CHECK(l.error().message().find("host=weight") != std::string::npos);
  CHECK(parse_host_list("198.18.1.1:3").error().message().find("host=weight") != std::string::npos);
}

TEST_CASE("malformed entries are refused naming the entry") {
  for (const char* bad : {"", "   ", "198.18.1.256", "127.1", "10.1.1", "1.2.3.4.5", "gw=0", "gw=-1", "gw=x",
                          "gw=1000001", "=3", "[198.18.1.1]", "[fd00::1", "fd00:::1", "gw..example", "-gw", "gw-",
                          "a;b", "a$b", "a'b", "fe80::1%", "fe80::1%bad/zone", "gw==2"}) {
    INFO(bad);
    auto l = parse_host_list(bad);
    REQUIRE_FALSE(l);
    CHECK(l.error().code() == Errc::invalid_config);
  }
  CHECK(parse_host_list("gw;x").error().message().find("'gw;x'") != std::string::npos);
}

TEST_CASE("duplicate hosts and overlong lists are refused") {
  CHECK(parse_host_list("gw GW").error().message().find("twice") != std::string::npos);
  CHECK_FALSE(parse_host_list("198.18.1.1 198.18.1.1=2"));
  std::string many;
  for (int i = 0; i < 65; ++i) many += "198.18.2." + std::to_string(i + 1) + " ";
  CHECK(parse_host_list(many).error().message().find("more than 64") != std::string::npos);
}

TEST_CASE("literal families") {
  CHECK(literal_family("198.18.0.1") == Family::ipv4);
  CHECK(literal_family("fd00::1") == Family::ipv6);
  CHECK(literal_family("fd00::1%lo") == Family::ipv6);
  CHECK(literal_family("::ffff:198.18.0.1") == Family::ipv6);
  CHECK(literal_family("gw") == Family::any);
  CHECK(literal_family("198.18.0.1%lo") == Family::any);
}
