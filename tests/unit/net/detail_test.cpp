#include <evos/net/detail.hpp>
#include <evos/net/ping_state.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::net;

TEST_CASE("detail lines round-trip") {
  Detail d{.unix_time = 1718000000, .score = 2000};
  HostResult up{.host = "gw", .address = "198.18.1.254", .weight = 2, .state = ProbeState::ok, .sent = 1, .received = 1,
                .min_rtt = Micros(85), .avg_rtt = Micros(90)};
  HostResult down{.host = "fd00::1", .address = "fd00::1", .weight = 1, .state = ProbeState::noroute, .sent = 3};
  HostResult unresolved{.host = "x.example", .address = "", .weight = 1, .state = ProbeState::lost};
  d.hosts = {up, down, unresolved};
  const auto line = format_detail(d);
  CHECK(line ==
        "1 1718000000 2000 gw,198.18.1.254,ok,2,1,1,85,90 fd00::1,fd00::1,noroute,1,3,0,-,- x.example,-,lost,1,0,0,-,-");
  auto back = parse_detail(line);
  REQUIRE(back);
  CHECK(back->unix_time == 1718000000);
  CHECK(back->score == 2000);
  REQUIRE(back->hosts.size() == 3);
  CHECK(back->hosts[0] == up);
  CHECK(back->hosts[1] == down);
  CHECK(back->hosts[2] == unresolved);
  CHECK(line.find('"') == std::string::npos);
}

TEST_CASE("damaged detail lines are refused") {
  for (const char* bad : {"", "2 1 1", "1 x 1", "1 1 1 a,b,c", "1 1 1 a,b,maybe,1,1,1,-,-", "1 1 1 a,b,ok,1,1,1,x,-",
                          "1 1 1 a\"b,c,ok,1,1,1,-,-"}) {
    INFO(bad);
    CHECK_FALSE(parse_detail(bad));
  }
  CHECK(parse_detail("1 5 0"));  // no hosts is a valid (if odd) line
}

TEST_CASE("state files round-trip and damaged ones are refused") {
  PingState s{.addresses = {{"gw.example", "198.18.1.1"}, {"v6.example", "fd00::7"}}, .detail = "1 5 0"};
  auto text = format_state(s);
  auto back = parse_state(text);
  REQUIRE(back);
  CHECK(*back == s);
  CHECK_FALSE(parse_state(""));
  CHECK_FALSE(parse_state("something else\n"));
  CHECK_FALSE(parse_state("evos-ping-state 1\naddress gw not-an-address\n"));
  CHECK_FALSE(parse_state("evos-ping-state 1\naddress a;b 198.18.1.1\n"));
  CHECK_FALSE(parse_state("evos-ping-state 1\nbogus\n"));
}
