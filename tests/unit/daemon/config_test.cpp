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

TEST_CASE("test IP keys are read like the ping agent's and checked together") {
  auto c = parse_config("testip_hosts = 198.18.1.254 198.18.1.253=2\ntestip_multiplier = 100\n"
                        "testip_interval = 1s\ntestip_timeout = 500ms\ntestip_dampen = 0\n",
                        "evosd.conf");
  REQUIRE(c);
  REQUIRE(c->testip_hosts.size() == 2);
  CHECK(c->testip_hosts[1].weight == 2);
  CHECK(c->testip_multiplier == 100);
  CHECK(c->testip_timeout == 500ms);
  CHECK(validate(*c));
  CHECK_FALSE(parse_config("testip_hosts = 127.1\n", "evosd.conf"));
  CHECK_FALSE(parse_config("testip_multiplier = 0\n", "evosd.conf"));
  CHECK_FALSE(parse_config("testip_multiplier = lots\n", "evosd.conf"));
  auto slow = parse_config("testip_hosts = 198.18.1.254\ntestip_timeout = 2s\n", "evosd.conf");
  REQUIRE(slow);
  CHECK(validate(*slow).error().message().find("longer than testip_interval") != std::string::npos);
  auto big = parse_config("testip_hosts = 198.18.1.254=1000\ntestip_multiplier = 1000\n", "evosd.conf");
  REQUIRE(big);
  CHECK(validate(*big).error().message().find("INFINITY") != std::string::npos);
  CHECK(parse_config("testip_hosts =\n", "evosd.conf")->testip_hosts.empty());
}

TEST_CASE("evosd's metrics address and history file are settings, off turns them off", "[daemon]") {
  auto d = evos::daemon::parse_config("", "t");
  REQUIRE(d);
  CHECK(d->metrics_listen == "127.0.0.1:9764");
  CHECK(d->history == "/var/lib/evos/history.db");
  auto c = evos::daemon::parse_config("metrics_listen = [::1]:9100\nhistory = off\n", "t");
  REQUIRE(c);
  CHECK(c->metrics_listen == "[::1]:9100");
  CHECK(c->history.empty());
  auto off = evos::daemon::parse_config("metrics_listen = off\n", "t");
  REQUIRE(off);
  CHECK(off->metrics_listen.empty());
  CHECK_FALSE(evos::daemon::parse_config("history = relative/path\n", "t"));
  CHECK_FALSE(evos::daemon::parse_config("metrics_listen = 127.0.0.1:9764;rm\n", "t"));
}

TEST_CASE("evosd's metrics are live unless metrics_max_age says how old block counters may be", "[daemon]") {
  auto d = evos::daemon::parse_config("", "t");
  REQUIRE(d);
  CHECK(d->metrics_max_age == 0ms);
  auto c = evos::daemon::parse_config("metrics_max_age = 10s\n", "t");
  REQUIRE(c);
  CHECK(c->metrics_max_age == 10s);
  auto zero = evos::daemon::parse_config("metrics_max_age = 0\n", "t");
  REQUIRE(zero);
  CHECK(zero->metrics_max_age == 0ms);
  CHECK_FALSE(evos::daemon::parse_config("metrics_max_age = 11m\n", "t"));
  CHECK_FALSE(evos::daemon::parse_config("metrics_max_age = soon\n", "t"));
}

TEST_CASE("evosd's DRBD events are on by default and take an absolute drbdsetup", "[daemon]") {
  auto d = evos::daemon::parse_config("", "t");
  REQUIRE(d);
  CHECK(d->drbd_events);
  CHECK(d->drbdsetup.empty());
  auto c = evos::daemon::parse_config("drbd_events = no\ndrbdsetup = /opt/drbd/sbin/drbdsetup\n", "t");
  REQUIRE(c);
  CHECK_FALSE(c->drbd_events);
  CHECK(c->drbdsetup == "/opt/drbd/sbin/drbdsetup");
  auto relative = evos::daemon::parse_config("drbdsetup = drbdsetup\n", "/etc/evos/evosd.conf");
  REQUIRE_FALSE(relative);
  CHECK_THAT(relative.error().message(), Catch::Contains("/etc/evos/evosd.conf line 1") && Catch::Contains("drbdsetup"));
  CHECK_FALSE(evos::daemon::parse_config("drbdsetup = /usr/sbin/drbdsetup;reboot\n", "t"));
  CHECK_FALSE(evos::daemon::parse_config("drbd_events = maybe\n", "t"));
  evos::daemon::Config s;
  REQUIRE(evos::daemon::apply_setting(s, "drbdsetup", "/tmp/sim/drbdsetup", "command line"));
  CHECK(s.drbdsetup == "/tmp/sim/drbdsetup");
}

TEST_CASE("evosd follows Corosync by default and corosync_events = no turns it off", "[daemon]") {
  using namespace std::chrono_literals;
  auto d = evos::daemon::parse_config("", "t");
  REQUIRE(d);
  CHECK(d->corosync_events);
  CHECK(d->corosync_reconnect_min == 500ms);
  CHECK(d->corosync_reconnect_max == 10s);
  auto c = evos::daemon::parse_config("corosync_events = no\ncorosync_reconnect_min = 100ms\ncorosync_reconnect_max = 2s\n", "t");
  REQUIRE(c);
  CHECK_FALSE(c->corosync_events);
  CHECK(c->corosync_reconnect_min == 100ms);
  CHECK(c->corosync_reconnect_max == 2s);
  CHECK_FALSE(evos::daemon::parse_config("corosync_events = sometimes\n", "t"));
  CHECK_FALSE(evos::daemon::parse_config("corosync_reconnect_min = 1ms\n", "t"));  // below 10 ms
  auto crossed = evos::daemon::parse_config("corosync_reconnect_min = 5s\ncorosync_reconnect_max = 1s\n", "t");
  REQUIRE(crossed);
  auto v = evos::daemon::validate(*crossed);
  REQUIRE_FALSE(v);
  CHECK_THAT(v.error().message(), Catch::Contains("corosync_reconnect_min"));
  evos::daemon::Config s;
  REQUIRE(evos::daemon::apply_setting(s, "corosync_events", "no", "command line"));
  CHECK_FALSE(s.corosync_events);
}
