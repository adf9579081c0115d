#include <evos/net/ping_agent_info.hpp>
#include <evos/net/ping_params.hpp>
#include <evos/ocf/metadata.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::net;
using namespace std::chrono_literals;

namespace {
Result<PingParams> params(std::map<std::string, std::string> reskeys) {
  auto v = ocf::parse_params(ping_param_specs(), reskeys);
  if (!v) return std::move(v).error();
  return PingParams::from(*v);
}
}  // namespace

TEST_CASE("ping defaults") {
  auto p = params({{"host_list", "198.18.1.254 fd00::1"}});
  REQUIRE(p);
  CHECK(p->attribute == "evos-testip");
  CHECK(p->detail_attribute() == "evos-testip-detail");
  CHECK(p->multiplier == 1000);
  CHECK(p->attempts == 3);
  CHECK(p->timeout == 1000ms);
  CHECK(p->dampen == 5000ms);
  CHECK_FALSE(p->failure_score);
  CHECK(p->interface.empty());
  CHECK(p->detail);
  CHECK(p->hosts.size() == 2);
}

TEST_CASE("durations as Pacemaker writes them") {
  CHECK(*parse_duration("2", "timeout") == 2000ms);  // bare numbers are seconds, as in ocf:pacemaker:ping
  CHECK(*parse_duration("2s", "timeout") == 2000ms);
  CHECK(*parse_duration("500ms", "timeout") == 500ms);
  CHECK(*parse_duration("1m", "dampen") == 60000ms);
  CHECK(*parse_duration("0", "dampen") == 0ms);
  for (const char* bad : {"", "s", "-1", "1.5s", "2 s", "2h", "1e3", "2sec;x"}) {
    INFO(bad);
    auto d = parse_duration(bad, "timeout");
    REQUIRE_FALSE(d);
    CHECK(d.error().message().find("parameter 'timeout'") != std::string::npos);
  }
  CHECK(format_dampen(5000ms) == "5s");
  CHECK(format_dampen(1500ms) == "1500ms");
  CHECK(format_dampen(0ms) == "0s");
}

TEST_CASE("every ping parameter error names the parameter") {
  const std::vector<std::pair<std::string, std::string>> bad{
      {"host_list", "gw:2"},       {"host_list", "a;b"},       {"timeout", "50ms"},  {"timeout", "31s"},
      {"timeout", "fast"},         {"dampen", "2h"},           {"dampen", "x"},      {"multiplier", "0"},
      {"attempts", "11"},          {"name", "-x"},             {"name", "a b"},      {"name", "a:b"},
      {"interface", "eth0;reboot"}, {"interface", "a-very-long-interface"}, {"failure_score", "-1"},
      {"publish_detail", "maybe"}};
  for (const auto& [name, value] : bad) {
    INFO(name << "=" << value);
    std::map<std::string, std::string> reskeys{{"host_list", "198.18.1.1"}};
    reskeys[name] = value;
    auto p = params(reskeys);
    REQUIRE_FALSE(p);
    CHECK(p.error().code() == Errc::invalid_config);
    CHECK(p.error().message().find("parameter '" + name + "'") != std::string::npos);
  }
}

TEST_CASE("the score must stay below Pacemaker's INFINITY") {
  CHECK(params({{"host_list", "198.18.1.1=500 198.18.1.2=499"}, {"multiplier", "1000"}}));
  auto p = params({{"host_list", "198.18.1.1=500 198.18.1.2=500"}, {"multiplier", "1000"}});
  REQUIRE_FALSE(p);
  CHECK(p.error().message().find("parameter 'multiplier'") != std::string::npos);
}

TEST_CASE("too many attempts for the timeout are refused") {
  CHECK(params({{"host_list", "198.18.1.1"}, {"timeout", "100ms"}, {"attempts", "10"}}));
  auto p = params({{"host_list", "198.18.1.1"}, {"timeout", "100ms"}, {"attempts", "11"}});
  CHECK_FALSE(p);
}

TEST_CASE("the ping meta-data declares every parameter and the reloadable ones") {
  const auto xml = ocf::render_metadata(ping_agent_info());
  for (const auto& spec : ping_param_specs()) CHECK(xml.find("name=\"" + spec.name + "\"") != std::string::npos);
  CHECK(xml.find("<parameter name=\"dampen\" unique=\"0\" required=\"0\" reloadable=\"1\">") != std::string::npos);
  CHECK(xml.find("name=\"reload-agent\"") != std::string::npos);
  CHECK(xml.find("<version>1.1</version>") != std::string::npos);
  const auto* monitor = ping_agent_info().action("monitor");
  REQUIRE(monitor);
  // The monitor's declared timeout leaves room for the longest probe timeout and publishing.
  CHECK(monitor->timeout_s >= 2);
}
