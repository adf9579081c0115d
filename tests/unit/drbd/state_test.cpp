#include "drbd_data.hpp"

#include <evos/drbd/state.hpp>
#include <evos/drbd/status_json_parser.hpp>

#include <catch2/catch.hpp>

using namespace evos::drbd;

namespace {

ResourceState fold(const std::string& resource, const std::string& text) {
  auto events = parse_events2(text);
  REQUIRE(events);
  return state_from_events(resource, *events);
}

// A two-node resource with one volume, as a table row describes it.
struct Row {
  const char* what;
  Role role;
  DiskState disk;
  ConnState conn;
  Role peer_role;
  DiskState peer_disk;
  ReplState repl;
  int score;
  bool may_promote;
  bool degraded;
};

ResourceState make(const Row& row) {
  ResourceState s{.name = "r0", .exists = true, .role = row.role};
  s.devices.push_back(DeviceState{.volume = 0, .minor = 1, .disk = row.disk});
  ConnectionState c{.peer_node_id = 1, .name = "beta", .state = row.conn, .peer_role = row.peer_role};
  c.peer_devices.push_back(PeerDeviceState{.volume = 0, .replication = row.repl, .peer_disk = row.peer_disk});
  s.connections.push_back(c);
  return s;
}

}  // namespace

TEST_CASE("promotion score may-promote and degraded for two-node states") {
  using D = DiskState;
  using C = ConnState;
  using R = ReplState;
  const Role P = Role::primary;
  const Role S = Role::secondary;
  const Role U = Role::unknown;
  const std::vector<Row> table = {
      // what                              role disk              conn            peer  peer disk         repl            score  may   degraded
      {"healthy secondary",                S, D::up_to_date,     C::connected,   P, D::up_to_date,     R::established, 10000, false, false},
      {"healthy primary",                  P, D::up_to_date,     C::connected,   S, D::up_to_date,     R::established, 10000, true,  false},
      {"both secondary",                   S, D::up_to_date,     C::connected,   S, D::up_to_date,     R::established, 10000, true,  false},
      {"sync source",                      S, D::up_to_date,     C::connected,   S, D::inconsistent,   R::sync_source, 10000, true,  true},
      {"sync target",                      S, D::inconsistent,   C::connected,   S, D::up_to_date,     R::sync_target, 10,    true,  true},
      {"peer away",                        S, D::up_to_date,     C::connecting,  U, D::dunknown,       R::off,         1000,  true,  true},
      {"primary lost peer",                P, D::up_to_date,     C::connecting,  U, D::dunknown,       R::off,         1000,  true,  true},
      {"outdated alone",                   S, D::outdated,       C::connecting,  U, D::dunknown,       R::off,         0,     false, true},
      {"inconsistent alone",               S, D::inconsistent,   C::standalone,  U, D::dunknown,       R::off,         0,     false, true},
      {"consistent alone",                 S, D::consistent,     C::connecting,  U, D::dunknown,       R::off,         5,     false, true},
      {"consistent with uptodate peer",    S, D::consistent,     C::connected,   S, D::up_to_date,     R::established, 10,    true,  true},
      {"diskless via peer",                P, D::diskless,       C::connected,   S, D::up_to_date,     R::established, 10,    true,  true},
      {"diskless alone",                   S, D::diskless,       C::connecting,  U, D::dunknown,       R::off,         0,     false, true},
      {"failed disk",                      S, D::failed,         C::connected,   S, D::up_to_date,     R::established, 10,    true,  true},
      {"outdated with uptodate peer",      S, D::outdated,       C::connected,   P, D::up_to_date,     R::established, 10,    false, true},
      {"peer outdated",                    P, D::up_to_date,     C::connected,   S, D::outdated,       R::established, 10000, true,  true},
      {"unknown disk state name",          S, D::other,          C::connecting,  U, D::dunknown,       R::off,         0,     false, true},
  };
  for (const auto& row : table) {
    INFO(row.what);
    const ResourceState s = make(row);
    const PromotionScore score = promotion_score(s);
    INFO(score.why);
    CHECK(score.value == row.score);
    CHECK(score.settled);
    const Verdict may = may_promote(s);
    INFO(may.why);
    CHECK(may.yes == row.may_promote);
    const Verdict degraded = is_degraded(s);
    INFO(degraded.why);
    CHECK(degraded.yes == row.degraded);
  }
}

TEST_CASE("two primaries are allowed only when the migration window is open") {
  const ResourceState s = make({"", Role::secondary, DiskState::up_to_date, ConnState::connected, Role::primary,
                                DiskState::up_to_date, ReplState::established, 0, false, false});
  CHECK_FALSE(may_promote(s, false).yes);
  CHECK(may_promote(s, false).why.find("peer beta is Primary") != std::string::npos);
  CHECK(may_promote(s, true).yes);
  CHECK(peer_is_primary(s));
}

TEST_CASE("unusable states score zero whatever the disks say") {
  ResourceState healthy = make({"", Role::secondary, DiskState::up_to_date, ConnState::connected, Role::secondary,
                                DiskState::up_to_date, ReplState::established, 0, false, false});
  ResourceState down{.name = "r0"};
  CHECK(promotion_score(down).value == 0);
  CHECK_FALSE(may_promote(down).yes);
  CHECK_FALSE(is_degraded(down).yes);

  ResourceState no_quorum = healthy;
  no_quorum.devices[0].quorum = false;
  CHECK(promotion_score(no_quorum).value == 0);
  CHECK_FALSE(may_promote(no_quorum).yes);

  ResourceState failing = healthy;
  failing.force_io_failures = true;
  CHECK(promotion_score(failing).value == 0);

  ResourceState split = healthy;
  split.connections[0].state = ConnState::standalone;
  split.connections[0].split_brain = true;
  CHECK(promotion_score(split).value == 0);
  CHECK_FALSE(may_promote(split).yes);
  CHECK(is_degraded(split).why == "split brain");
  split.role = Role::primary;
  CHECK(promotion_score(split).value == score_peer_unknown);
}

TEST_CASE("transitional states are reported unsettled") {
  ResourceState s = make({"", Role::secondary, DiskState::up_to_date, ConnState::connected, Role::secondary,
                          DiskState::outdated, ReplState::wf_bitmap_source, 0, false, false});
  CHECK_FALSE(promotion_score(s).settled);
  s.connections[0].peer_devices[0].replication = ReplState::established;
  s.devices[0].disk = DiskState::negotiating;
  CHECK_FALSE(promotion_score(s).settled);
}

TEST_CASE("the worst volume decides the score") {
  ResourceState s = make({"", Role::secondary, DiskState::up_to_date, ConnState::connected, Role::secondary,
                          DiskState::up_to_date, ReplState::established, 0, false, false});
  s.devices.push_back(DeviceState{.volume = 1, .minor = 2, .disk = DiskState::inconsistent});
  s.connections[0].peer_devices.push_back(PeerDeviceState{.volume = 1, .replication = ReplState::sync_target,
                                                          .peer_disk = DiskState::up_to_date, .done_percent = 12.5,
                                                          .out_of_sync_kib = 4096});
  const auto score = promotion_score(s);
  CHECK(score.value == 10);
  CHECK(score.why.find("volume 1") != std::string::npos);
  CHECK(is_sync_target(s));
  CHECK_FALSE(is_sync_source(s));
  CHECK(sync_progress(s) == 12.5);
  CHECK(out_of_sync_kib(s) == 4096u);
}

TEST_CASE("events2 of DRBD 9.0 build the state model") {
  const ResourceState s = fold("r0", test::read_data("events2-9.0-now.txt"));
  CHECK(s.exists);
  CHECK(s.initial_state_done);
  CHECK(s.role == Role::secondary);
  REQUIRE(s.devices.size() == 1);
  CHECK(s.devices[0].disk == DiskState::up_to_date);
  CHECK(s.devices[0].minor == 1);
  CHECK(s.devices[0].size_kib == 1048576u);
  REQUIRE(s.connections.size() == 1);
  CHECK(s.connections[0].name == "beta");
  CHECK(s.connections[0].peer_role == Role::primary);
  CHECK(promotion_score(s).value == 10000);
  CHECK_FALSE(may_promote(s).yes);
  CHECK_FALSE(is_degraded(s).yes);
  CHECK(describe(s) == "r0: Secondary, disk UpToDate; beta Connected Primary, peer disk UpToDate");
}

TEST_CASE("a 9.0 event stream with lost notifications marks the state stale") {
  const std::string text = test::read_data("events2-9.0-stream.txt");
  auto events = parse_events2(text);
  REQUIRE(events);
  ResourceState s{.name = "r0"};
  bool saw_sync = false;
  for (const auto& e : *events) {
    s = apply(s, e);
    if (is_sync_source(s) && sync_progress(s) == 42.5) saw_sync = true;
  }
  CHECK(saw_sync);
  CHECK(s.stale);
  CHECK(s.last_helper == "before-resync-source");
  CHECK(s.connections[0].peer_devices[0].replication == ReplState::established);
  CHECK_FALSE(s.connections[0].peer_devices[0].done_percent);
  CHECK(promotion_score(s).value == 10000);
}

TEST_CASE("9.1 and 9.2 events with statistics and unknown fields") {
  const ResourceState web = fold("vm-web1", test::read_data("events2-9.1-now-statistics.txt"));
  CHECK(web.drbd_may_promote == false);
  CHECK(web.drbd_promotion_score == 10101);
  CHECK(web.connections[0].path_established == true);
  CHECK(promotion_score(web).value == 10000);

  const ResourceState db = fold("vm-db2", test::read_data("events2-9.2-now-statistics.txt"));
  CHECK(db.role == Role::primary);
  CHECK(db.devices[0].open == true);
  CHECK(is_sync_source(db));
  CHECK(sync_progress(db) == 37.5);
  CHECK(out_of_sync_kib(db) == 2621440u);
  CHECK(is_degraded(db).yes);
  CHECK(is_degraded(db).why == "peer beta disk is Inconsistent (resync 37.5%)");
  CHECK(promotion_score(db).value == 10000);
}

TEST_CASE("a split brain seen through events2") {
  const ResourceState s = fold("r0", test::read_data("events2-9.2-split-brain.txt"));
  CHECK(in_split_brain(s));
  CHECK(s.connections[0].state == ConnState::standalone);
  CHECK(s.last_helper == "split-brain");
  CHECK(promotion_score(s).value == score_peer_unknown);  // the Primary keeps its role
  // Reconnecting clears it.
  auto reconnect = parse_events2_line("change connection name:r0 peer-node-id:1 conn-name:beta connection:Connected");
  REQUIRE(reconnect);
  CHECK_FALSE(in_split_brain(apply(s, *reconnect)));
}

TEST_CASE("diff output rename and destroy") {
  auto events = parse_events2(test::read_data("events2-9.2-diff.txt"));
  REQUIRE(events);
  ResourceState s{.name = "r0"};
  std::vector<DiskState> disks;
  for (const auto& e : *events) {
    s = apply(s, e);
    if (!s.devices.empty()) disks.push_back(s.devices[0].disk);
  }
  CHECK(disks == std::vector<DiskState>{DiskState::up_to_date, DiskState::up_to_date, DiskState::up_to_date,
                                        DiskState::failed, DiskState::diskless});
  CHECK(s.name == "r0-old");
  CHECK_FALSE(s.exists);
  auto all = states_from_events(*events);
  REQUIRE(all.size() == 1);
  CHECK(all.begin()->first == "r0-old");
}

TEST_CASE("events for other resources and unknown objects leave the state alone") {
  ResourceState s = fold("r0", test::read_data("events2-9.0-now.txt"));
  const ResourceState before = s;
  for (const char* line : {"change resource name:r1 role:Primary", "exists tls-session name:r0 cipher:aes",
                           "change device name:r1 volume:0 disk:Failed"}) {
    auto e = parse_events2_line(line);
    REQUIRE(e);
    s = apply(s, *e);
  }
  CHECK(s == before);
}

// Online verify as drbdsetup 9.2 prints it (drbdsetup.c: `done` from ov_left while VerifyS/T,
// `out-of-sync` once blocks were found; status --json with has-online-verify-details and ov-*).
TEST_CASE("an online verify seen through events2 is a verify and not a resync") {
  const std::string text =
      "exists resource name:r0 role:Primary suspended:no force-io-failures:no may_promote:no promotion_score:10102\n"
      "exists connection name:r0 peer-node-id:1 conn-name:beta connection:Connected role:Secondary\n"
      "exists device name:r0 volume:0 minor:1 backing_dev:/dev/vg0/r0 disk:UpToDate client:no quorum:yes size:1048576\n"
      "exists peer-device name:r0 peer-node-id:1 conn-name:beta volume:0 replication:VerifyS peer-disk:UpToDate "
      "peer-client:no resync-suspended:no done:37.50 received:0 sent:0 out-of-sync:4096 pending:0 unacked:0 "
      "dbdt1:512.00 eta:12\n"
      "exists -\n";
  ResourceState s = fold("r0", text);
  CHECK(s.connections[0].peer_devices[0].replication == ReplState::verify_source);
  CHECK(is_verifying(s));
  CHECK(is_verify_source(s));
  CHECK(verify_progress(s) == 37.5);
  CHECK_FALSE(sync_progress(s));
  CHECK_FALSE(is_sync_source(s));
  CHECK(out_of_sync_kib(s) == 4096u);
  CHECK_FALSE(is_degraded(s).yes);
  CHECK(promotion_score(s).value == 10000);
  CHECK(promotion_score(s).settled);
  CHECK(describe(s) == "r0: Primary, disk UpToDate; beta Connected Secondary, peer disk UpToDate VerifyS 37.5%");

  // The verify ends: Established again, the progress goes, the blocks found stay out of sync.
  auto end = parse_events2("change peer-device name:r0 peer-node-id:1 conn-name:beta volume:0 replication:Established\n");
  REQUIRE(end);
  s = apply(s, (*end)[0]);
  CHECK_FALSE(is_verifying(s));
  CHECK_FALSE(verify_progress(s));
  CHECK(out_of_sync_kib(s) == 4096u);

  const ResourceState t = fold("r0",
                               "exists peer-device name:r0 peer-node-id:0 conn-name:alpha volume:0 replication:VerifyT "
                               "peer-disk:UpToDate done:5.00\nexists -\n");
  CHECK(is_verifying(t));
  CHECK_FALSE(is_verify_source(t));
  CHECK(verify_progress(t) == 5.0);
}

TEST_CASE("an online verify seen through status json") {
  const std::string json = R"([{"name": "r0", "node-id": 1, "role": "Secondary", "suspended": false,
    "devices": [{"volume": 0, "minor": 1, "disk-state": "UpToDate", "client": false, "quorum": true, "size": 1048576}],
    "connections": [{"peer-node-id": 0, "name": "alpha", "connection-state": "Connected", "congested": false,
      "peer-role": "Primary", "peer_devices": [{"volume": 0, "replication-state": "VerifyT",
        "peer-disk-state": "UpToDate", "peer-client": false, "resync-suspended": "no", "received": 0, "sent": 0,
        "out-of-sync": 8, "pending": 0, "unacked": 0, "has-sync-details": true, "has-online-verify-details": true,
        "percent-in-sync": 100.00, "rs-total": 2097152, "ov-start-sector": 0, "ov-stop-sector": 2097152,
        "ov-position": 524288, "ov-left": 1572864, "ov-skipped": 0, "percent-resync-done": 25.00}]}]}])";
  auto states = parse_status_json(json);
  REQUIRE(states);
  REQUIRE(states->size() == 1);
  const ResourceState& s = (*states)[0];
  CHECK(s.connections[0].peer_devices[0].replication == ReplState::verify_target);
  CHECK(is_verifying(s));
  CHECK_FALSE(is_verify_source(s));
  CHECK(verify_progress(s) == 25.0);
  CHECK_FALSE(sync_progress(s));
  CHECK(out_of_sync_kib(s) == 8u);
}

TEST_CASE("replication-state traits: every DRBD state by its name") {
  // Names per drbdsetup(8): *SyncSource / *BitMapS send a resync, *SyncTarget / *BitMapT and
  // WFSyncUUID receive one, Verify* verify; the Starting*/WFBitMap*/WFSyncUUID handshakes are short.
  const std::pair<const char*, ReplTraits> table[] = {
      {"Off", {}},
      {"Established", {}},
      {"StartingSyncS", {.sync_source = true, .transitional = true}},
      {"StartingSyncT", {.sync_target = true, .transitional = true}},
      {"WFBitMapS", {.sync_source = true, .transitional = true}},
      {"WFBitMapT", {.sync_target = true, .transitional = true}},
      {"WFSyncUUID", {.sync_target = true, .transitional = true}},
      {"SyncSource", {.sync_source = true}},
      {"SyncTarget", {.sync_target = true}},
      {"VerifyS", {.verify = true}},
      {"VerifyT", {.verify = true}},
      {"PausedSyncS", {.sync_source = true}},
      {"PausedSyncT", {.sync_target = true}},
      {"Ahead", {}},
      {"Behind", {}},
      {"SomethingNew", {}},
  };
  for (const auto& [name, want] : table) {
    INFO(name);
    auto r = parse_repl_state(name);
    REQUIRE(r);
    const auto got = traits(*r);
    CHECK(got.sync_source == want.sync_source);
    CHECK(got.sync_target == want.sync_target);
    CHECK(got.verify == want.verify);
    CHECK(got.transitional == want.transitional);
    CHECK(is_resync_or_verify_state(*r) == (want.sync_source || want.sync_target || want.verify));
  }
}
