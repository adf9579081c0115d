#include <evos/fence/agent_options.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace evos;
using namespace evos::fence;

TEST_CASE("fence stdin: what Pacemaker's fencer writes") {
  const auto o = parse_stdin_options(
      "action=off\nnodename=node2\nplug=node2\npeer_addresses=node1=198.18.1.1 node2=198.18.1.2\n"
      "test_ips=198.18.250.1\npcmk_host_check=none\n");
  CHECK(action_of(o) == "off");
  CHECK(target_of(o) == "node2");
  // The value runs from the first '=' to the end of the line, '=' included.
  CHECK(o.at("peer_addresses") == "node1=198.18.1.1 node2=198.18.1.2");
  CHECK(o.at("pcmk_host_check") == "none");  // kept: whoever reads the options ignores it
}

TEST_CASE("fence stdin: comments - last value wins - names and quotes as fencing.py reads them") {
  const auto o = parse_stdin_options(
      "# a comment=with an equals sign\n  delay=1s\ndelay=2s\r\npower-timeout=\"30\"\n\nno equals sign\n=novalue\n"
      "option=Reboot\nport=node1\n");
  CHECK_FALSE(o.contains("# a comment"));
  CHECK(o.at("delay") == "2s");
  CHECK(o.at("power_timeout") == "30");
  CHECK(action_of(o) == "reboot");  // "option" is the deprecated name of "action"; case-insensitive
  CHECK(target_of(o) == "node1");   // "port" is "plug"
  CHECK(o.size() == 4);
}

TEST_CASE("fence target: plug or port before nodename") {
  CHECK(target_of(parse_stdin_options("nodename=a\nplug=b\n")) == "b");
  CHECK(target_of(parse_stdin_options("port=b\nnodename=a\n")) == "b");
  CHECK(target_of(parse_stdin_options("nodename=a\n")) == "a");
  CHECK(target_of(parse_stdin_options("action=off\n")).empty());
  CHECK(action_of(parse_stdin_options("")) == "reboot");  // fence-agents' default action
}

TEST_CASE("fence stdin: input beyond the limit is not read") {
  std::string text = "delay=1s\n";
  text += std::string(max_input_bytes, '#');
  text += "\ndelay=9s\n";
  CHECK(parse_stdin_options(text).at("delay") == "1s");
}

TEST_CASE("fence argv: short and long options") {
  static constexpr std::string_view flags[] = {"verbose"};
  const std::vector<std::string> args{"-o", "off", "-n", "node2", "--peer-addresses", "node2=127.0.0.1",
                                      "--test_ips=127.0.0.1", "-v", "--delay=1s"};
  auto o = parse_argv_options(args, flags);
  REQUIRE(o);
  CHECK(action_of(*o) == "off");
  CHECK(target_of(*o) == "node2");
  CHECK(o->at("peer_addresses") == "node2=127.0.0.1");
  CHECK(o->at("test_ips") == "127.0.0.1");
  CHECK(o->at("verbose") == "1");
  CHECK(o->at("delay") == "1s");
}

TEST_CASE("fence argv: mistakes are refused with a message") {
  static constexpr std::string_view flags[] = {"verbose"};
  const std::vector<std::vector<std::string>> bad{{"off"}, {"-o"}, {"--delay"}, {"--verbose=1"}, {"-x", "1"}, {"--"}};
  for (const auto& args : bad) {
    INFO(args.front());
    auto o = parse_argv_options(args, flags);
    REQUIRE_FALSE(o);
    CHECK(o.error().code() == Errc::invalid_argument);
    CHECK_FALSE(o.error().message().empty());
  }
}
