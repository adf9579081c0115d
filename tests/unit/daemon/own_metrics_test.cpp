#include <evos/daemon/own_metrics.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <map>

TEST_CASE("evosd's counters are valid metric families with their values", "[daemon]") {
  evos::daemon::Counters c;
  c.libvirt_events = 7;
  c.libvirt_reconnects = 2;
  c.failures_reported = 1;
  c.socket_bad_requests = 3;
  auto families = evos::daemon::own_families(c, true);
  auto text = evos::metrics::write_text(families);  // refuses bad names and duplicates
  REQUIRE(text);
  auto parsed = evos::metrics::parse_text(*text);
  REQUIRE(parsed);
  std::map<std::string, double> v;
  for (const auto& s : *parsed) v[s.name] = s.value;
  CHECK(v.at("evos_daemon_libvirt_events_total") == 7);
  CHECK(v.at("evos_daemon_libvirt_reconnects_total") == 2);
  CHECK(v.at("evos_daemon_failures_reported_total") == 1);
  CHECK(v.at("evos_daemon_socket_bad_requests_total") == 3);
  CHECK(v.at("evos_daemon_libvirt_connected") == 1);
  CHECK(v.count("evos_daemon_last_event_timestamp_seconds") == 0);  // no event yet

  c.last_event = std::chrono::system_clock::time_point(std::chrono::seconds(1765000000));
  auto later = evos::daemon::own_families(c, false);
  auto t2 = evos::metrics::write_text(later);
  REQUIRE(t2);
  auto p2 = evos::metrics::parse_text(*t2);
  REQUIRE(p2);
  std::map<std::string, double> w;
  for (const auto& s : *p2) w[s.name] = s.value;
  CHECK(w.at("evos_daemon_libvirt_connected") == 0);
  CHECK(w.at("evos_daemon_last_event_timestamp_seconds") == 1765000000);
}

TEST_CASE("evosd's DRBD events2 counters and whether the stream is synced", "[daemon]") {
  evos::daemon::Counters c;
  c.drbd_events2_lines = 40;
  c.drbd_events2_garbage = 3;
  c.drbd_events2_restarts = 2;
  auto values = [](const std::vector<evos::metrics::Family>& families) {
    auto text = evos::metrics::write_text(families);
    REQUIRE(text);
    auto parsed = evos::metrics::parse_text(*text);
    REQUIRE(parsed);
    std::map<std::string, double> v;
    for (const auto& s : *parsed) v[s.name] = s.value;
    return v;
  };
  auto v = values(evos::daemon::own_families(c, true, true));
  CHECK(v.at("evos_daemon_drbd_events2_lines_total") == 40);
  CHECK(v.at("evos_daemon_drbd_events2_garbage_lines_total") == 3);
  CHECK(v.at("evos_daemon_drbd_events2_restarts_total") == 2);
  CHECK(v.at("evos_daemon_drbd_events2_synced") == 1);
  CHECK(values(evos::daemon::own_families(c, true, false)).at("evos_daemon_drbd_events2_synced") == 0);
  CHECK(values(evos::daemon::own_families(c, true)).count("evos_daemon_drbd_events2_synced") == 0);  // not followed
}

TEST_CASE("evosd's Corosync counters and whether libquorum is connected", "[daemon]") {
  evos::daemon::Counters c;
  c.corosync_changes = 3;
  c.corosync_reconnects = 1;
  auto values = [](const std::vector<evos::metrics::Family>& families) {
    auto text = evos::metrics::write_text(families);
    REQUIRE(text);
    auto parsed = evos::metrics::parse_text(*text);
    REQUIRE(parsed);
    std::map<std::string, double> v;
    for (const auto& s : *parsed) v[s.name] = s.value;
    return v;
  };
  auto v = values(evos::daemon::own_families(c, true, std::nullopt, true));
  CHECK(v.at("evos_daemon_corosync_changes_total") == 3);
  CHECK(v.at("evos_daemon_corosync_reconnects_total") == 1);
  CHECK(v.at("evos_daemon_corosync_connected") == 1);
  CHECK(v.count("evos_daemon_drbd_events2_synced") == 0);
  CHECK(values(evos::daemon::own_families(c, true, std::nullopt, false)).at("evos_daemon_corosync_connected") == 0);
  CHECK(values(evos::daemon::own_families(c, true)).count("evos_daemon_corosync_connected") == 0);  // not followed
}
