// DrbdsetupControl against the drbd simulator: two simulated nodes (alpha, beta) share one world
// directory; each node's Control finds `drbdadm`/`drbdsetup` (links to drbd-sim) first on its PATH.
// Everything read goes through evos' own parsers, so these tests also check that the simulator
// prints what real DRBD 9.2 prints as far as the parsers care.
#include <evos/drbd/drbdsetup_control.hpp>
#include <evos/drbd/events2_parser.hpp>
#include <evos/proc/run.hpp>

#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace evos;
using namespace evos::drbd;

namespace {

const Millis step{10000};

class SimLab {
 public:
  SimLab() {
    fs::create_directories(root_ / "bin");
    fs::create_directories(root_ / "world");
    fs::create_symlink(EVOS_DRBD_SIM, root_ / "bin" / "drbdadm");
    fs::create_symlink(EVOS_DRBD_SIM, root_ / "bin" / "drbdsetup");
  }
  SimLab(const SimLab&) = delete;
  SimLab& operator=(const SimLab&) = delete;

  [[nodiscard]] std::string world() const { return (root_ / "world").string(); }
  [[nodiscard]] std::string bin() const { return (root_ / "bin").string(); }

  [[nodiscard]] DrbdsetupControl control(const std::string& node) const {
    ControlOptions o;
    o.search_path = bin() + ":/usr/bin:/bin";
    o.env = {{"EVOS_DRBD_SIM_DIR", world()}, {"EVOS_DRBD_SIM_NODE", node}};
    return DrbdsetupControl(o);
  }

  void ctl(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{EVOS_DRBD_SIM, "ctl"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto ran = proc::run(argv, Deadline::after(step), proc::Options{.env = {{"EVOS_DRBD_SIM_DIR", world()}}});
    REQUIRE(ran);
    INFO(ran->err);
    REQUIRE(ran->exit_code == 0);
  }

  // events2 streamed as `node` for `seconds`, collected whole.
  [[nodiscard]] std::string stream(const std::string& node, int seconds) const {
    auto ran = proc::run({"drbdsetup", "events2", "--timestamps", "--statistics", "r0"}, Deadline::after(Millis(seconds * 1000 + 5000)),
                         proc::Options{.env = {{"EVOS_DRBD_SIM_DIR", world()},
                                               {"EVOS_DRBD_SIM_NODE", node},
                                               {"EVOS_DRBD_SIM_EVENTS_SECONDS", std::to_string(seconds)}},
                                       .search_path = bin()});
    if (!ran) return "error: " + ran.error().message();
    return ran->out;
  }

 private:
  evos::test::TempDir tmp_{"evos-drbd-sim"};  // removed with the world when the lab goes
  fs::path root_ = tmp_.path();
};

ResourceState state(DrbdsetupControl& c) {
  auto s = c.state("r0", Deadline::after(step));
  INFO((s ? std::string() : s.error().message()));
  REQUIRE(s);
  return *s;
}

template <class Predicate>
ResourceState wait_for(DrbdsetupControl& c, Predicate done, Millis limit = Millis(15000)) {
  const Deadline deadline = Deadline::after(limit);
  ResourceState s = state(c);
  while (!done(s) && !deadline.expired()) {
    std::this_thread::sleep_for(Millis(100));
    s = state(c);
  }
  INFO(describe(s));
  REQUIRE(done(s));
  return s;
}

ConnState conn(const ResourceState& s) { return s.connections.at(0).state; }
DiskState disk(const ResourceState& s) { return s.devices.at(0).disk; }
DiskState peer_disk(const ResourceState& s) { return s.connections.at(0).peer_devices.at(0).peer_disk; }

}  // namespace

TEST_CASE("simulator: a new mirror resyncs with progress after a forced promotion") {
  SimLab lab;
  lab.ctl({"init", "r0", "alpha:0", "beta:1", "--new", "--size-kib", "262144", "--rate-kib-s", "65536"});
  auto alpha = lab.control("alpha");
  auto beta = lab.control("beta");
  REQUIRE(alpha.up("r0", Deadline::after(step)));
  REQUIRE(beta.up("r0", Deadline::after(step)));

  const ResourceState fresh = state(alpha);
  CHECK(fresh.exists);
  CHECK(fresh.initial_state_done);
  CHECK(conn(fresh) == ConnState::connected);
  CHECK(disk(fresh) == DiskState::inconsistent);
  CHECK(peer_disk(fresh) == DiskState::inconsistent);
  CHECK(promotion_score(fresh).value == 0);
  CHECK_FALSE(may_promote(fresh).yes);

  auto refused = alpha.primary("r0", false, Deadline::after(step));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == Errc::backend);
  CHECK(refused.error().message().find("refused: no access to UpToDate data (exit 17)") != std::string::npos);

  REQUIRE(alpha.primary("r0", true, Deadline::after(step)));
  const ResourceState source = state(alpha);
  const ResourceState target = state(beta);
  CHECK(source.role == Role::primary);
  CHECK(is_sync_source(source));
  CHECK(is_sync_target(target));
  CHECK(promotion_score(source).value == score_up_to_date);
  CHECK(promotion_score(target).value == score_data_via_peer);
  CHECK(is_degraded(source).yes);
  REQUIRE(sync_progress(target));
  const double first = *sync_progress(target);
  const std::uint64_t first_oos = out_of_sync_kib(target);
  CHECK(first_oos > 0);

  std::this_thread::sleep_for(Millis(300));
  const ResourceState later = state(beta);
  REQUIRE(sync_progress(later));
  CHECK(*sync_progress(later) > first);
  CHECK(out_of_sync_kib(later) < first_oos);

  const ResourceState synced = wait_for(beta, [](const ResourceState& s) { return disk(s) == DiskState::up_to_date; });
  CHECK_FALSE(is_sync_target(synced));
  CHECK(promotion_score(synced).value == score_up_to_date);
  CHECK_FALSE(is_degraded(synced).yes);
  CHECK_FALSE(may_promote(synced).yes);  // alpha is Primary
  CHECK(out_of_sync_kib(synced) == 0u);
}

TEST_CASE("simulator: a Primary peer blocks promotion until two primaries are allowed") {
  SimLab lab;
  lab.ctl({"init", "r0", "alpha:0", "beta:1"});
  auto alpha = lab.control("alpha");
  auto beta = lab.control("beta");
  REQUIRE(alpha.up("r0", Deadline::after(step)));
  REQUIRE(beta.up("r0", Deadline::after(step)));
  REQUIRE(alpha.primary("r0", false, Deadline::after(step)));

  const ResourceState b = state(beta);
  CHECK(peer_is_primary(b));
  CHECK_FALSE(may_promote(b).yes);
  CHECK(may_promote(b, true).yes);
  auto refused = beta.primary("r0", false, Deadline::after(step));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("two primaries are not allowed") != std::string::npos);

  // The live-migration window.
  REQUIRE(alpha.allow_two_primaries("r0", true, Deadline::after(step)));
  REQUIRE(beta.allow_two_primaries("r0", true, Deadline::after(step)));
  REQUIRE(beta.primary("r0", false, Deadline::after(step)));
  CHECK(state(alpha).connections[0].peer_role == Role::primary);
  REQUIRE(alpha.secondary("r0", Deadline::after(step)));
  REQUIRE(alpha.allow_two_primaries("r0", false, Deadline::after(step)));
  REQUIRE(beta.allow_two_primaries("r0", false, Deadline::after(step)));
  const ResourceState a = state(alpha);
  CHECK(a.role == Role::secondary);
  CHECK(a.connections[0].peer_role == Role::primary);
  CHECK_FALSE(is_degraded(a).yes);
}

TEST_CASE("simulator: both sides Primary while apart is a split brain on reconnect") {
  SimLab lab;
  lab.ctl({"init", "r0", "alpha:0", "beta:1", "--size-kib", "262144", "--rate-kib-s", "1048576"});
  auto alpha = lab.control("alpha");
  auto beta = lab.control("beta");
  REQUIRE(alpha.up("r0", Deadline::after(step)));
  REQUIRE(beta.up("r0", Deadline::after(step)));
  REQUIRE(alpha.primary("r0", false, Deadline::after(step)));

  lab.ctl({"link", "r0", "down"});
  const ResourceState lonely = state(alpha);
  CHECK(conn(lonely) == ConnState::connecting);
  CHECK(peer_disk(lonely) == DiskState::dunknown);
  CHECK(promotion_score(lonely).value == score_peer_unknown);
  CHECK(is_degraded(lonely).why == "peer beta is Connecting");
  CHECK(may_promote(state(beta)).yes);  // beta cannot see alpha: this is what fencing is for
  REQUIRE(beta.primary("r0", false, Deadline::after(step)));

  // Watch beta's event stream while the link comes back.
  std::string events;
  std::thread watcher([&] { events = lab.stream("beta", 4); });
  std::this_thread::sleep_for(Millis(1000));
  lab.ctl({"link", "r0", "up"});
  watcher.join();

  const ResourceState a = state(alpha);
  const ResourceState b = state(beta);
  CHECK(conn(a) == ConnState::standalone);
  CHECK(in_split_brain(a));
  CHECK(in_split_brain(b));
  CHECK(promotion_score(a).value == score_peer_unknown);  // Primary keeps its role

  auto parsed = parse_events2(events);
  INFO(events);
  REQUIRE(parsed);
  bool saw_helper = false;
  ResourceState streamed{.name = "r0"};
  for (const auto& e : *parsed) {
    CHECK(e.timestamp);
    if (e.kind == EventKind::call && e.helper == "split-brain") saw_helper = true;
    streamed = apply(streamed, e);
  }
  CHECK(saw_helper);
  CHECK(in_split_brain(streamed));
  CHECK(streamed.role == Role::primary);
  CHECK(streamed.last_helper == "split-brain");

  // Recovery: beta gives up its writes.
  REQUIRE(beta.secondary("r0", Deadline::after(step)));
  const ResourceState victim = state(beta);
  CHECK(promotion_score(victim).value == 0);
  CHECK_FALSE(may_promote(victim).yes);
  REQUIRE(beta.connect("r0", true, Deadline::after(step)));
  REQUIRE(alpha.connect("r0", false, Deadline::after(step)));
  const ResourceState healed = wait_for(beta, [](const ResourceState& s) {
    return conn(s) == ConnState::connected && disk(s) == DiskState::up_to_date && !is_sync_target(s);
  });
  CHECK_FALSE(in_split_brain(healed));
  CHECK_FALSE(in_split_brain(state(alpha)));
}

TEST_CASE("simulator: a failed disk leaves the node Diskless reading through its peer") {
  SimLab lab;
  lab.ctl({"init", "r0", "alpha:0", "beta:1", "--size-kib", "262144", "--rate-kib-s", "1048576"});
  auto alpha = lab.control("alpha");
  auto beta = lab.control("beta");
  REQUIRE(alpha.up("r0", Deadline::after(step)));
  REQUIRE(beta.up("r0", Deadline::after(step)));
  REQUIRE(alpha.primary("r0", false, Deadline::after(step)));

  lab.ctl({"fail-disk", "r0", "alpha"});
  const ResourceState a = state(alpha);
  CHECK(disk(a) == DiskState::diskless);
  CHECK(a.role == Role::primary);
  CHECK(promotion_score(a).value == score_data_via_peer);
  CHECK(is_degraded(a).why == "local disk is Diskless");
  const ResourceState b = state(beta);
  CHECK(peer_disk(b) == DiskState::diskless);
  CHECK(is_degraded(b).yes);
  CHECK(promotion_score(b).value == score_up_to_date);

  // Still broken: adjust cannot attach.
  auto broken = alpha.adjust("r0", Deadline::after(step));
  REQUIRE_FALSE(broken);
  CHECK(broken.error().message().find("Can not open backing device") != std::string::npos);
  lab.ctl({"repair-disk", "r0", "alpha"});
  REQUIRE(alpha.adjust("r0", Deadline::after(step)));
  wait_for(alpha, [](const ResourceState& s) { return disk(s) == DiskState::up_to_date && !is_sync_target(s); });
}

TEST_CASE("simulator: resources that are not up are states and unknown ones are errors") {
  SimLab lab;
  lab.ctl({"init", "r0", "alpha:0", "beta:1"});
  auto alpha = lab.control("alpha");
  const ResourceState down = state(alpha);
  CHECK_FALSE(down.exists);
  CHECK(down.initial_state_done);
  auto listed = alpha.status("r0", Deadline::after(step));
  REQUIRE(listed);
  CHECK(listed->empty());
  auto primary = alpha.primary("r0", false, Deadline::after(step));
  REQUIRE_FALSE(primary);
  CHECK(primary.error().code() == Errc::not_found);
  auto unknown = alpha.up("r9", Deadline::after(step));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code() == Errc::not_found);
  auto injected = alpha.up("--force", Deadline::after(step));
  REQUIRE_FALSE(injected);
  CHECK(injected.error().code() == Errc::invalid_argument);
  REQUIRE(alpha.up("r0", Deadline::after(step)));
  auto again = alpha.up("r0", Deadline::after(step));
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == Errc::backend);
  REQUIRE(alpha.down("r0", Deadline::after(step)));
  CHECK_FALSE(state(alpha).exists);
}

TEST_CASE("simulator: status json and events2 tell the same story") {
  SimLab lab;
  lab.ctl({"init", "r0", "alpha:0", "beta:1", "--size-kib", "262144", "--rate-kib-s", "65536"});
  auto alpha = lab.control("alpha");
  auto beta = lab.control("beta");
  REQUIRE(alpha.up("r0", Deadline::after(step)));
  REQUIRE(beta.up("r0", Deadline::after(step)));
  REQUIRE(beta.invalidate("r0", Deadline::after(step)));  // a full resync alpha -> beta
  auto listed = beta.status("all", Deadline::after(step));
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  const ResourceState from_json = (*listed)[0];
  const ResourceState from_events = state(beta);
  CHECK(from_json.name == "r0");
  CHECK(from_json.node_id == 1);
  CHECK(from_json.role == from_events.role);
  CHECK(disk(from_json) == disk(from_events));
  CHECK(disk(from_json) == DiskState::inconsistent);
  CHECK(conn(from_json) == conn(from_events));
  CHECK(peer_disk(from_json) == peer_disk(from_events));
  CHECK(from_json.connections[0].peer_devices[0].replication == ReplState::sync_target);
  CHECK(from_events.connections[0].peer_devices[0].replication == ReplState::sync_target);
  CHECK(from_json.connections[0].path_established == true);
  REQUIRE(sync_progress(from_json));
  CHECK(promotion_score(from_json).value == promotion_score(from_events).value);

  // Outdate is refused while connected, allowed alone.
  auto connected_outdate = alpha.outdate("r0", Deadline::after(step));
  REQUIRE_FALSE(connected_outdate);
  CHECK(connected_outdate.error().message().find("Refusing to be Outdated while Connected") != std::string::npos);
  REQUIRE(alpha.disconnect("r0", Deadline::after(step)));
  REQUIRE(alpha.outdate("r0", Deadline::after(step)));
  const ResourceState outdated = state(alpha);
  CHECK(disk(outdated) == DiskState::outdated);
  CHECK(conn(outdated) == ConnState::standalone);
  CHECK(promotion_score(outdated).value == 0);
}
