#include "drbd_data.hpp"

#include <evos/drbd/events2_state.hpp>

#include <catch2/catch.hpp>

#include <sstream>

using namespace evos::drbd;

namespace {

void feed_all(Events2State& s, const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) s.feed(line);
}

}  // namespace

TEST_CASE("events2 state: the initial dump is complete only at exists -", "[drbd][events2_state]") {
  Events2State s;
  CHECK_FALSE(s.synced());
  CHECK(s.problem() == "drbdsetup events2 is not running");
  s.stream_started();
  s.feed("exists resource name:r0 role:Secondary suspended:no");
  s.feed("exists device name:r0 volume:0 minor:1 disk:UpToDate client:no quorum:yes");
  CHECK_FALSE(s.synced());
  CHECK(s.problem() == "drbdsetup events2 has not finished its initial state");
  const auto done = s.feed("exists -");
  REQUIRE(done.log);
  CHECK(*done.log == "drbdsetup events2: initial state read, 1 resource");
  CHECK(done.synced);
  CHECK(s.synced());
  CHECK(s.problem().empty());
  const ResourceState* r = s.resource("r0");
  REQUIRE(r);
  CHECK(r->exists);
  CHECK(r->role == Role::secondary);
  REQUIRE(r->devices.size() == 1);
  CHECK(r->devices[0].disk == DiskState::up_to_date);
  CHECK(r->initial_state_done);
}

TEST_CASE("events2 state: a captured 9.2 dump with statistics", "[drbd][events2_state]") {
  Events2State s;
  s.stream_started();
  feed_all(s, test::read_data("events2-9.2-now-statistics.txt"));
  REQUIRE(s.synced());
  CHECK(s.garbage() == 0);
  const ResourceState* r = s.resource("vm-db2");
  REQUIRE(r);
  CHECK(r->role == Role::primary);
  REQUIRE(r->connections.size() == 1);
  CHECK(r->connections[0].state == ConnState::connected);
  CHECK(r->connections[0].name == "beta");
  REQUIRE(r->connections[0].peer_devices.size() == 1);
  const PeerDeviceState& p = r->connections[0].peer_devices[0];
  CHECK(p.replication == ReplState::sync_source);
  CHECK(p.out_of_sync_kib == 2621440);
  CHECK(p.sent_kib == std::optional<std::uint64_t>(6291456));
  CHECK(p.received_kib == std::optional<std::uint64_t>(0));
  REQUIRE(p.done_percent);
  CHECK(*p.done_percent == Approx(37.5));
}

TEST_CASE("events2 state: changes after the dump follow the stream", "[drbd][events2_state]") {
  Events2State s;
  s.stream_started();
  feed_all(s, test::read_data("events2-9.0-stream.txt"));
  // The captured stream lost notifications ("- skipped 2"): the state is kept but not current.
  CHECK_FALSE(s.synced());
  CHECK(s.problem() == "drbdsetup events2 lost notifications; the stream is restarted");
  const ResourceState* r = s.resource("r0");
  REQUIRE(r);
  CHECK(r->stale);
  CHECK(r->last_helper == std::optional<std::string>("before-resync-source"));
  REQUIRE(r->connections.size() == 1);
  CHECK(r->connections[0].peer_devices.at(0).replication == ReplState::established);
}

TEST_CASE("events2 state: lost notifications ask for a new stream", "[drbd][events2_state]") {
  Events2State s;
  s.stream_started();
  s.feed("exists resource name:r0 role:Secondary");
  REQUIRE(s.feed("exists -").synced);
  const auto o = s.feed("- skipped 4");
  CHECK(o.lost);
  CHECK_FALSE(o.synced);
  REQUIRE(o.log);
  CHECK_THAT(*o.log, Catch::Contains("lost 4 notifications"));
  s.stream_started();
  s.feed("exists resource name:r0 role:Primary");
  CHECK(s.feed("exists -").synced);
}

TEST_CASE("events2 state: create change and destroy", "[drbd][events2_state]") {
  Events2State s;
  s.stream_started();
  s.feed("exists -");
  s.feed("create resource name:r1 role:Secondary suspended:no");
  s.feed("create connection name:r1 peer-node-id:1 conn-name:beta connection:Connecting role:Unknown");
  s.feed("change resource name:r1 role:Primary");
  s.feed("change connection name:r1 peer-node-id:1 connection:Connected role:Secondary");
  REQUIRE(s.resource("r1"));
  CHECK(s.resource("r1")->role == Role::primary);
  CHECK(s.resource("r1")->connections.at(0).state == ConnState::connected);
  s.feed("destroy connection name:r1 peer-node-id:1");
  CHECK(s.resource("r1")->connections.empty());
  s.feed("destroy resource name:r1");
  CHECK(s.resource("r1") == nullptr);
  // A helper or destroy line for a resource that is not up does not make it up.
  s.feed("call helper name:r9 peer-node-id:1 volume:0 helper:fence-peer");
  s.feed("response helper name:r9 peer-node-id:1 volume:0 helper:fence-peer status:0");
  s.feed("change path name:r9 peer-node-id:1 local:ipv4:198.18.0.1:7789 peer:ipv4:198.18.0.2:7789 established:no");
  s.feed("destroy device name:r9 volume:0");
  CHECK(s.resources().empty());
  CHECK(s.synced());
}

TEST_CASE("events2 state: a split-brain helper call marks the connection", "[drbd][events2_state]") {
  Events2State s;
  s.stream_started();
  s.feed("exists resource name:r0 role:Primary");
  s.feed("exists connection name:r0 peer-node-id:1 conn-name:beta connection:StandAlone role:Unknown");
  s.feed("exists -");
  s.feed("call helper name:r0 peer-node-id:1 conn-name:beta volume:0 minor:1 helper:split-brain");
  REQUIRE(s.resource("r0"));
  CHECK(in_split_brain(*s.resource("r0")));
}

TEST_CASE("events2 state: garbage is counted and skipped with a bounded log", "[drbd][events2_state]") {
  Events2State s;
  s.stream_started();
  CHECK_FALSE(s.feed("exists resource name:r0 role:Secondary").synced);
  int logged = 0;
  for (int i = 0; i < 12; ++i) {
    const auto o = s.feed("#### not an events2 line ####");
    CHECK(o.garbage);
    CHECK(o.stream_garbage == static_cast<std::uint64_t>(i + 1));
    if (o.log) ++logged;
    if (i == 4) {
      REQUIRE(o.log);
      CHECK_THAT(*o.log, Catch::Contains("only counted"));
    }
  }
  CHECK(logged == static_cast<int>(garbage_logged_per_stream));
  CHECK(s.garbage() == 12);
  CHECK(s.stream_garbage() == 12);
  // The stream goes on: good lines after garbage still count.
  s.feed("change resource name:r0 role:Primary");
  s.feed("exists -");
  CHECK(s.synced());
  CHECK(s.resource("r0")->role == Role::primary);
  CHECK(s.lines() == 15);
  // A new stream forgets the old one's garbage for its own count, not the total.
  s.stream_started();
  CHECK(s.stream_garbage() == 0);
  CHECK(s.garbage() == 12);
  const auto first = s.feed("change resource name:r0 role:Bogus!");
  REQUIRE(first.log);
  CHECK_THAT(*first.log, Catch::Contains("cannot read"));
}

TEST_CASE("events2 state: nothing is current after the stream ends or restarts", "[drbd][events2_state]") {
  Events2State s;
  s.stream_started();
  s.feed("exists resource name:r0 role:Primary");
  s.feed("exists -");
  REQUIRE(s.synced());
  s.stream_ended("drbdsetup events2 exited with status 1");
  CHECK_FALSE(s.synced());
  CHECK_FALSE(s.running());
  CHECK(s.problem() == "drbdsetup events2 exited with status 1");
  // The last known state is still there for logs, but a new stream starts from nothing.
  CHECK(s.resource("r0"));
  s.stream_started();
  CHECK(s.resources().empty());
  CHECK_FALSE(s.synced());
}
