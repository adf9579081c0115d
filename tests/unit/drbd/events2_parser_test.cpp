#include "drbd_data.hpp"

#include <evos/drbd/events2_parser.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using namespace evos::drbd;

TEST_CASE("events2 resource line of DRBD 9.1 with may_promote") {
  auto e = parse_events2_line(
      "exists resource name:vm-web1 role:Secondary suspended:no force-io-failures:no write-ordering:flush "
      "may_promote:no promotion_score:10101\n");
  REQUIRE(e);
  CHECK(e->kind == EventKind::exists);
  CHECK(e->object == ObjectKind::resource);
  CHECK(e->name == "vm-web1");
  CHECK(e->role == Role::secondary);
  CHECK(e->suspended == "no");
  CHECK(e->force_io_failures == false);
  CHECK(e->may_promote == false);
  CHECK(e->promotion_score == 10101);
  CHECK(e->write_ordering == "flush");
  CHECK(e->unknown.empty());
  CHECK_FALSE(e->timestamp);
}

TEST_CASE("events2 unknown keys are kept aside and change nothing else") {
  const std::string line = "change peer-device name:r0 peer-node-id:1 conn-name:beta volume:0 replication:SyncSource "
                           "peer-disk:Inconsistent done:37.50 out-of-sync:2500";
  auto plain = parse_events2_line(line);
  auto extra = parse_events2_line("change peer-device xxx:bla name:r0 peer-node-id:1 conn-name:beta volume:0 "
                                  "replication:SyncSource peer-disk:Inconsistent done:37.50 out-of-sync:2500 dbdt1:0.24");
  REQUIRE(plain);
  REQUIRE(extra);
  CHECK(extra->unknown.at("xxx") == "bla");
  CHECK(extra->unknown.at("dbdt1") == "0.24");
  extra->unknown.clear();
  CHECK(extra->replication == plain->replication);
  CHECK(extra->peer_disk == plain->peer_disk);
  CHECK(extra->done_percent == plain->done_percent);
  CHECK(extra->out_of_sync_kib == plain->out_of_sync_kib);
  CHECK(plain->replication == ReplState::sync_source);
  CHECK(plain->peer_disk == DiskState::inconsistent);
  CHECK(*plain->done_percent == Approx(37.5));
  CHECK(plain->out_of_sync_kib == 2500u);
}

TEST_CASE("events2 unknown state names parse as other") {
  auto e = parse_events2_line("change device name:r0 volume:0 minor:1 disk:Quantum");
  REQUIRE(e);
  CHECK(e->disk == DiskState::other);
  auto c = parse_events2_line("change connection name:r0 peer-node-id:1 connection:Teleporting role:Tertiary");
  REQUIRE(c);
  CHECK(c->connection == ConnState::other);
  CHECK(c->role == Role::other);
}

TEST_CASE("events2 timestamps diff values and the end of the initial dump") {
  auto t = parse_events2_line("2024-05-02T10:11:30.425300+02:00 change connection name:r0 peer-node-id:1 conn-name:beta "
                              "connection:StandAlone sync-state:SplitBrain");
  REQUIRE(t);
  CHECK(t->timestamp == "2024-05-02T10:11:30.425300+02:00");
  CHECK(t->connection == ConnState::standalone);
  CHECK(t->sync_state == "SplitBrain");

  auto d = parse_events2_line("change resource name:r0 role:Secondary->Primary may_promote:yes->no");
  REQUIRE(d);
  CHECK(d->role == Role::primary);
  CHECK(d->may_promote == false);

  auto done = parse_events2_line("exists -");
  REQUIRE(done);
  CHECK(done->kind == EventKind::initial_state_done);
  auto stamped = parse_events2_line("2024-05-02T10:11:12.000180+02:00 exists -\r\n");
  REQUIRE(stamped);
  CHECK(stamped->kind == EventKind::initial_state_done);

  auto skipped = parse_events2_line("- skipped 12");
  REQUIRE(skipped);
  CHECK(skipped->kind == EventKind::skipped);
  CHECK(skipped->skipped == 12u);
}

TEST_CASE("events2 helper path rename and future objects") {
  auto call = parse_events2_line("call helper name:r0 peer-node-id:1 conn-name:beta volume:0 minor:1 helper:split-brain");
  REQUIRE(call);
  CHECK(call->kind == EventKind::call);
  CHECK(call->object == ObjectKind::helper);
  CHECK(call->helper == "split-brain");
  auto response = parse_events2_line("response helper name:r0 peer-node-id:1 helper:fence-peer status:4");
  REQUIRE(response);
  CHECK(response->helper_status == 4);
  auto path = parse_events2_line("exists path name:r0 peer-node-id:1 conn-name:beta local:ipv6:[fd00::1]:7790 "
                                 "peer:ipv6:[fd00::2]:7790 established:yes");
  REQUIRE(path);
  CHECK(path->local == "ipv6:[fd00::1]:7790");
  CHECK(path->established == true);
  auto rename = parse_events2_line("rename resource name:r0 new_name:r1");
  REQUIRE(rename);
  CHECK(rename->new_name == "r1");
  auto future = parse_events2_line("exists tls-session name:r0 cipher:aes oddity");
  REQUIRE_FALSE(future);  // a token without ':' is malformed even for unknown objects
  auto future_ok = parse_events2_line("exists tls-session name:r0 cipher:aes");
  REQUIRE(future_ok);
  CHECK(future_ok->object == ObjectKind::other);
  CHECK(future_ok->object_word == "tls-session");
  CHECK(future_ok->unknown.at("cipher") == "aes");
  auto nan_eta = parse_events2_line("change peer-device name:r0 peer-node-id:1 volume:0 eta:nan");
  REQUIRE(nan_eta);
  CHECK(std::isnan(*nan_eta->eta_seconds));
  auto unknown_client = parse_events2_line("exists device name:r0 volume:0 minor:1 disk:Diskless client:unknown open:unknown");
  REQUIRE(unknown_client);
  CHECK_FALSE(unknown_client->client);
}

TEST_CASE("events2 malformed lines fail with the problem and its column") {
  struct Row {
    std::string line;
    std::string expected;
  };
  const std::vector<Row> rows = {
      {"", "column 1: the line is empty"},
      {"   ", "the line is empty"},
      {"happened resource name:r0", "column 1: unknown event kind 'happened'"},
      {"exists", "column 7: the line ends after 'exists'"},
      {"change -", "only 'exists -'"},
      {"exists - role:Primary", "column 10: 'exists -' takes no fields"},
      {"exists name:r0", "expected an object, found the field"},
      {"exists resource name:r0 rolePrimary", "column 25: field 'rolePrimary' has no ':'"},
      {"exists resource name:r0 :Primary", "has no valid key"},
      {"exists resource role:Primary", "resource event has no 'name' field"},
      {"exists device name:r0 minor:1", "device event has no 'volume' field"},
      {"exists peer-device name:r0 volume:0", "has no 'peer-node-id' field"},
      {"exists connection name:r0 peer-node-id:x", "field 'peer-node-id' value 'x' is not an integer"},
      {"exists connection name:r0 peer-node-id:-1", "is not an integer >= 0"},
      {"exists device name:r0 volume:0 quorum:maybe", "field 'quorum' value 'maybe' is not yes or no"},
      {"exists device name:r0 volume:0 disk:Up-To-Date", "is not a state name"},
      {"exists device name:r0 volume:0 size:12k", "is not a non-negative integer"},
      {"change peer-device name:r0 peer-node-id:1 volume:0 done:101", "is not a percentage"},
      {"change peer-device name:r0 peer-node-id:1 volume:0 done:nan", "is not a percentage"},
      {"change peer-device name:r0 peer-node-id:1 volume:0 eta:soon", "is not a number of seconds"},
      {"exists resource name: role:Primary", "field 'name' value '' is empty"},
      {"exists resource name:r0 suspended:user;fencing", "is not 'no' or a comma list"},
      {"2024-13 exists -", "column 1: '2024-13' is neither an event kind nor a timestamp"},
      {"2024-05-02T10:11:12.000180+02:00", "ends after the timestamp"},
      {"- skipped", "must be '- skipped N'"},
      {"- skipped many", "skipped count 'many' is not a number"},
      {"exists resource name:r0\trole:Primary", "control character"},
      {"exists resource name:r\xff", "not valid UTF-8"},
      {"call helper name:r0", "helper event has no 'helper' field"},
      {"rename resource name:r0", "has no 'new_name' field"},
  };
  for (const auto& row : rows) {
    INFO(row.line);
    auto e = parse_events2_line(row.line);
    REQUIRE_FALSE(e);
    CHECK(e.error().code() == evos::Errc::invalid_argument);
    INFO(e.error().message());
    CHECK(e.error().message().find(row.expected) != std::string::npos);
  }
  const std::string huge(max_events2_line + 1, 'a');
  CHECK_FALSE(parse_events2_line(huge));
}

TEST_CASE("events2 whole outputs of DRBD 9.0 9.1 and 9.2 parse") {
  for (const char* name : {"events2-9.0-now.txt", "events2-9.0-stream.txt", "events2-9.1-now-statistics.txt",
                           "events2-9.2-now-statistics.txt", "events2-9.2-split-brain.txt", "events2-9.2-diff.txt"}) {
    INFO(name);
    auto events = parse_events2(evos::drbd::test::read_data(name));
    INFO((events ? std::string() : events.error().message()));
    REQUIRE(events);
    CHECK(events->size() > 3);
  }
  auto bad = parse_events2("exists -\nexists resource name:r0\nbogus\n");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().rfind("line 3: ", 0) == 0);
}
