#include "drbd_data.hpp"

#include <evos/drbd/status_json_parser.hpp>

#include <catch2/catch.hpp>

using namespace evos::drbd;

TEST_CASE("status json of DRBD 9.0 without open tls paths or suspended details") {
  auto states = parse_status_json(test::read_data("status-9.0.json"));
  REQUIRE(states);
  REQUIRE(states->size() == 1);
  const ResourceState& s = (*states)[0];
  CHECK(s.name == "r0");
  CHECK(s.exists);
  CHECK(s.node_id == 0);
  CHECK(s.role == Role::primary);
  CHECK_FALSE(s.suspended);
  REQUIRE(s.devices.size() == 1);
  CHECK(s.devices[0].minor == 1);
  CHECK_FALSE(s.devices[0].open);
  REQUIRE(s.connections.size() == 1);
  CHECK(s.connections[0].name == "beta");
  CHECK(s.connections[0].state == ConnState::connected);
  CHECK_FALSE(s.connections[0].path_established);
  CHECK(s.connections[0].peer_devices[0].peer_disk == DiskState::up_to_date);
  CHECK(promotion_score(s).value == 10000);
  CHECK_FALSE(is_degraded(s).yes);
}

TEST_CASE("status json of DRBD 9.1 during a resync") {
  auto states = parse_status_json(test::read_data("status-9.1-syncing.json"));
  REQUIRE(states);
  const ResourceState& s = (*states)[0];
  CHECK(s.devices[0].disk == DiskState::inconsistent);
  CHECK(is_sync_target(s));
  CHECK(sync_progress(s) == 37.5);
  CHECK(out_of_sync_kib(s) == 13107200u);
  CHECK(promotion_score(s).value == score_data_via_peer);
  CHECK_FALSE(may_promote(s).yes);  // the peer is Primary
}

TEST_CASE("status json of DRBD 9.2 with paths and keys from the future") {
  auto states = parse_status_json(test::read_data("status-9.2.json"));
  REQUIRE(states);
  REQUIRE(states->size() == 2);
  const ResourceState& db = (*states)[0];
  CHECK(db.devices[0].open == true);
  CHECK(db.connections[0].path_established == true);
  CHECK(promotion_score(db).value == 10000);
  const ResourceState& idle = (*states)[1];
  CHECK(idle.name == "vm-idle");
  CHECK(idle.connections[0].state == ConnState::connecting);
  CHECK(idle.connections[0].path_established == false);
  CHECK(promotion_score(idle).value == 0);
  CHECK(is_degraded(idle).why == "peer beta is Connecting");
}

TEST_CASE("status json and events2 describe the same state") {
  // The 9.0 samples describe one resource from its two ends; the local views must agree with the
  // peer's: r0 Primary UpToDate on alpha (status) and Secondary UpToDate on beta (events2).
  auto states = parse_status_json(test::read_data("status-9.0.json"));
  REQUIRE(states);
  ResourceState from_json = (*states)[0];
  CHECK(from_json.connections[0].peer_role == Role::secondary);
  CHECK(from_json.initial_state_done);
}

TEST_CASE("status json errors name the JSON pointer") {
  struct Row {
    std::string text;
    std::string expected;
  };
  const std::vector<Row> rows = {
      {"", "parse error"},
      {"[", "parse error"},
      {"{}", "/: expected an array of resources, found object"},
      {"[1]", "/0: expected an object, found integer"},
      {"[{}]", "/0/name: is missing"},
      {R"([{"name": 5}])", "/0/name: expected a string, found integer"},
      {R"([{"name": "r0", "role": "Primary", "devices": {}}])", "/0/devices: expected an array, found object"},
      {R"([{"name": "r0", "devices": [{"volume": "0"}]}])", "/0/devices/0/volume: expected an integer, found string"},
      {R"([{"name": "r0", "devices": [{"volume": 0, "disk-state": "Up To Date"}]}])", "/0/devices/0/disk-state: 'Up To Date' is not a state name"},
      {R"([{"name": "r0", "connections": [{"name": "b"}]}])", "/0/connections/0/peer-node-id: is missing"},
      {R"([{"name": "r0", "connections": [{"peer-node-id": 1, "peer_devices": [{"out-of-sync": -5}]}]}])",
       "/0/connections/0/peer_devices/0/out-of-sync: is negative"},
      {R"([{"name": "r0", "connections": [{"peer-node-id": 1, "peer_devices": [{"percent-resync-done": 300}]}]}])",
       "is not a percentage"},
      {R"([{"name": "r0", "suspended": "no"}])", "/0/suspended: expected true or false, found string"},
      {std::string(40, '[') + std::string(40, ']'), "nested deeper than 32 levels at byte 33"},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    auto states = parse_status_json(row.text);
    REQUIRE_FALSE(states);
    CHECK(states.error().code() == evos::Errc::invalid_argument);
    INFO(states.error().message());
    CHECK(states.error().message().find(row.expected) != std::string::npos);
  }
}

TEST_CASE("status json of no resources is an empty list") {
  auto states = parse_status_json("[\n]\n");
  REQUIRE(states);
  CHECK(states->empty());
}
