#include <evos/daemon/config.hpp>

#include <catch2/catch.hpp>

using namespace evos::daemon;
using namespace std::chrono_literals;
using evos::Errc;

TEST_CASE("the configuration file sets keys over the defaults") {
  auto c = parse_config("# evosd\n\nsocket = /run/evos-lab/evosd.sock\nlibvirt_uri=qemu+unix:///system?socket=/x\n"
                        "report_failures = no\nheartbeat = 500ms\nmax_silence = 2s\nnode = node1\n",
                        "evosd.conf");
  REQUIRE(c);
  CHECK(c->socket == "/run/evos-lab/evosd.sock");
  CHECK(c->libvirt_uri == "qemu+unix:///system?socket=/x");
  CHECK_FALSE(c->report_failures);
  CHECK(c->heartbeat == 500ms);
  CHECK(c->max_silence == 2000ms);
  CHECK(c->node == "node1");
  CHECK(validate(*c));
  const Config d;
  CHECK(d.socket == "/run/evos/evosd.sock");
  CHECK(d.report_failures);
}

TEST_CASE("bad configuration is refused naming the file line and problem") {
  struct Bad {
    std::string text, says;
  };
  for (const auto& b : std::vector<Bad>{{"sockett = /x\n", "line 1: unknown key"},
                                        {"# c\nsocket /x\n", "line 2: expected key = value"},
                                        {"socket = relative\n", "socket"},
                                        {"socket = /a\nsocket = /b\n", "given twice"},
                                        {"report_failures = maybe\n", "not yes or no"},
                                        {"heartbeat = 1 s\n", "heartbeat"},
                                        {"heartbeat = 1ms\n", "out of range"},
                                        {"node = a;b\n", "node"},
                                        {"libvirt_uri = qemu:///system `x`\n", "libvirt_uri"}}) {
    INFO(b.text);
    auto c = parse_config(b.text, "/etc/evos/evosd.conf");
    REQUIRE_FALSE(c);
    CHECK(c.error().code() == Errc::invalid_config);
    INFO(c.error().message());
    CHECK(c.error().message().find("/etc/evos/evosd.conf") != std::string::npos);
    CHECK(c.error().message().find(b.says) != std::string::npos);
  }
}

TEST_CASE("settings from the command line and cross-key checks") {
  Config c;
  CHECK(apply_setting(c, "socket", "/tmp/x/evosd.sock", "command line"));
  CHECK(c.socket == "/tmp/x/evosd.sock");
  auto bad = apply_setting(c, "nonsense", "1", "command line");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("command line") != std::string::npos);
  c.heartbeat = 2000ms;
  c.max_silence = 2000ms;
  CHECK_FALSE(validate(c));
  c = Config{};
  c.reconnect_min = 10000ms;
  c.reconnect_max = 1000ms;
  CHECK_FALSE(validate(c));
}
