#include "sim_world.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace evos::drbdsim {
namespace {

int rank(const std::string& disk) {
  if (disk == "UpToDate") return 4;
  if (disk == "Consistent") return 3;
  if (disk == "Outdated") return 2;
  if (disk == "Inconsistent") return 1;
  return 0;
}

// Data diverged from `other`'s current generation (a Primary wrote while they were apart).
bool ahead_of(const SimNode& node, const SimNode& other) { return !node.parent.empty() && node.parent == other.uuid; }

void finish_sync(SimWorld& w, int source, int target) {
  SimNode& s = w.nodes[static_cast<std::size_t>(source)];
  SimNode& t = w.nodes[static_cast<std::size_t>(target)];
  t.disk = "UpToDate";
  t.uuid = s.uuid;
  s.parent.clear();
  t.parent.clear();
  s.written_kib = 0;
  t.written_kib = 0;
  t.resync_left_kib = 0;
  // Whatever differed is now copied from the source: both sides hold the same blocks.
  s.corrupt_kib = 0;
  t.corrupt_kib = 0;
  w.verify_oos_kib = 0;
  w.sync.active = false;
}

void start_sync(SimWorld& w, int source, int target, std::uint64_t kib, std::int64_t now_ms) {
  if (kib == 0) {
    finish_sync(w, source, target);
    return;
  }
  w.nodes[static_cast<std::size_t>(target)].disk = "Inconsistent";
  w.sync = SimSync{.active = true, .source = source, .target = target, .total_kib = kib, .start_ms = now_ms};
}

void call_helper(SimWorld& w, int node, const std::string& helper) {
  w.helpers.push_back(HelperCall{w.next_seq++, node, helper, false});
  w.helpers.push_back(HelperCall{w.next_seq++, node, helper, true});
  // Keep the log bounded; streams only need the recent calls.
  if (w.helpers.size() > 64) w.helpers.erase(w.helpers.begin(), w.helpers.begin() + 32);
}

// DRBD decides on connect, from the data generations, who resyncs whom or that it cannot.
void handshake(SimWorld& w, std::int64_t now_ms) {
  SimNode& a = w.nodes[0];
  SimNode& b = w.nodes[1];
  const bool discard_a = a.discard_my_data;
  const bool discard_b = b.discard_my_data;
  a.discard_my_data = false;
  b.discard_my_data = false;
  if (!a.attached || !b.attached) return;  // a diskless side reads through its peer
  if (a.uuid == b.uuid) {
    if (rank(a.disk) == rank(b.disk)) {
      // Blocks an online verify marked out of sync are resynced on the next connect, from the
      // Primary (else from the node that ran the verify).
      if (w.verify_oos_kib == 0 || a.disk != "UpToDate") return;
      int source = w.verify.source;
      if (a.role == "Primary" && b.role != "Primary") source = 0;
      if (b.role == "Primary" && a.role != "Primary") source = 1;
      start_sync(w, source, 1 - source, w.verify_oos_kib, now_ms);
      return;
    }
    const int source = rank(a.disk) > rank(b.disk) ? 0 : 1;
    const int target = 1 - source;
    if (w.nodes[static_cast<std::size_t>(source)].disk != "UpToDate") return;  // nothing to resync from
    const SimNode& t = w.nodes[static_cast<std::size_t>(target)];
    const std::uint64_t kib = t.resync_left_kib ? t.resync_left_kib : (t.disk == "Inconsistent" ? w.size_kib : 0);
    start_sync(w, source, target, kib, now_ms);
    return;
  }
  const bool a_ahead = ahead_of(a, b);
  const bool b_ahead = ahead_of(b, a);
  if (a_ahead && !b_ahead) {
    start_sync(w, 0, 1, a.written_kib + b.resync_left_kib, now_ms);
  } else if (b_ahead && !a_ahead) {
    start_sync(w, 1, 0, b.written_kib + a.resync_left_kib, now_ms);
  } else if (discard_a != discard_b) {
    // Split-brain recovery: the victim discards its writes and takes everything the other wrote.
    const int target = discard_a ? 0 : 1;
    start_sync(w, 1 - target, target, a.written_kib + b.written_kib, now_ms);
  } else {
    // Both wrote since they parted (after-sb-*pri could not decide): split brain.
    for (int i = 0; i < 2; ++i) {
      SimNode& n = w.nodes[static_cast<std::size_t>(i)];
      n.standalone = true;
      n.split_brain = true;
      call_helper(w, i, "initial-split-brain");
      call_helper(w, i, "split-brain");
    }
  }
}

std::string peer_address(const SimNode& n) { return fmt::format("ipv4:198.18.0.{}:7789", n.node_id + 1); }

std::string percent(double value) { return fmt::format("{:.2f}", value); }

struct Promotion {
  bool may_promote = false;
  int score = 0;
};

// drbdsetup_events2.c compute_promotion_info(), for one volume.
Promotion drbd_promotion(const SimWorld& w, int me) {
  const SimNode& n = w.nodes[static_cast<std::size_t>(me)];
  const SimNode& p = w.nodes[static_cast<std::size_t>(1 - me)];
  const std::string disk = w.reported_disk(me);
  const bool connected = w.connected();
  int replicas = disk == "UpToDate" ? 1 : 0;
  if (connected && w.reported_disk(1 - me) == "UpToDate") ++replicas;
  if (replicas == 0) return {};
  const bool have_primary = n.role == "Primary" || (connected && p.role == "Primary");
  const bool all_have_disk = disk == "UpToDate" || disk == "Consistent" || disk == "Inconsistent";
  return {!have_primary, (all_have_disk ? 10000 : 0) + (disk == "UpToDate" ? 100 : 0) + replicas};
}

}  // namespace

int SimWorld::index_of(const std::string& node) const {
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].name == node) return static_cast<int>(i);
  return -1;
}

bool SimWorld::connected() const {
  return link_up && std::all_of(nodes.begin(), nodes.end(), [](const SimNode& n) { return n.up && n.net && !n.standalone; });
}

std::string SimWorld::reported_disk(int node) const {
  const SimNode& n = nodes[static_cast<std::size_t>(node)];
  return n.attached ? n.disk : "Diskless";
}

std::uint64_t SimWorld::out_of_sync_kib(std::int64_t now_ms) const {
  if (!sync.active) return 0;
  const std::int64_t elapsed = std::max<std::int64_t>(0, now_ms - sync.start_ms);
  const auto done = static_cast<std::uint64_t>(elapsed) * rate_kib_s / 1000;
  return done >= sync.total_kib ? 0 : sync.total_kib - done;
}

std::uint64_t SimWorld::verified_kib(std::int64_t now_ms) const {
  if (!verify.active) return 0;
  const std::int64_t elapsed = std::max<std::int64_t>(0, now_ms - verify.start_ms);
  const auto done = static_cast<std::uint64_t>(elapsed) * rate_kib_s / 1000;
  return std::min(done, size_kib);
}

std::uint64_t SimWorld::verify_found_kib(std::int64_t now_ms) const {
  const std::uint64_t corrupt = std::min(nodes[0].corrupt_kib + nodes[1].corrupt_kib, size_kib);
  if (!verify.active || size_kib == 0) return 0;
  // The corrupted blocks are spread evenly over the device.
  return static_cast<std::uint64_t>(static_cast<double>(corrupt) * static_cast<double>(verified_kib(now_ms)) /
                                    static_cast<double>(size_kib));
}

void SimWorld::renegotiate(std::int64_t now_ms) {
  if (connected()) handshake(*this, now_ms);
}

void SimWorld::settle(std::int64_t now_ms) {
  if (sync.active) {
    const SimNode& s = nodes[static_cast<std::size_t>(sync.source)];
    SimNode& t = nodes[static_cast<std::size_t>(sync.target)];
    if (!connected() || !s.attached || !t.attached) {
      if (t.attached) t.resync_left_kib = std::max<std::uint64_t>(out_of_sync_kib(now_ms), 1);
      sync.active = false;
    } else if (out_of_sync_kib(now_ms) == 0) {
      finish_sync(*this, sync.source, sync.target);
    }
  }
  if (verify.active) {
    const bool gone = !connected() || !nodes[0].attached || !nodes[1].attached;
    if (gone || verified_kib(now_ms) >= size_kib) {
      // Finished, or aborted: what it found so far stays marked out of sync.
      // The bitmap is a set: blocks found again are counted once.
      verify_oos_kib = std::max(verify_oos_kib, verify_found_kib(now_ms));
      verify.active = false;
    }
  }
  const bool is_connected = connected();
  for (auto& n : nodes) {
    // A Primary without its peer writes a new data generation (DRBD's new current UUID).
    if (n.up && n.role == "Primary" && n.attached && !is_connected && n.parent.empty()) {
      n.parent = n.uuid;
      n.uuid = fmt::format("g{}", ++generation);
      n.written_kib += write_kib_when_diverging;
    }
  }
  if (is_connected && !was_connected) {
    was_connected = true;
    handshake(*this, now_ms);
  }
  if (!connected()) was_connected = false;
}

nlohmann::json to_json(const SimWorld& w) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : w.nodes) {
    nodes.push_back({{"name", n.name},
                     {"node_id", n.node_id},
                     {"up", n.up},
                     {"net", n.net},
                     {"standalone", n.standalone},
                     {"split_brain", n.split_brain},
                     {"discard_my_data", n.discard_my_data},
                     {"role", n.role},
                     {"disk", n.disk},
                     {"attached", n.attached},
                     {"disk_broken", n.disk_broken},
                     {"uuid", n.uuid},
                     {"parent", n.parent},
                     {"written_kib", n.written_kib},
                     {"resync_left_kib", n.resync_left_kib},
                     {"corrupt_kib", n.corrupt_kib}});
  }
  nlohmann::json helpers = nlohmann::json::array();
  for (const auto& h : w.helpers)
    helpers.push_back({{"seq", h.seq}, {"node", h.node}, {"helper", h.helper}, {"response", h.response}});
  return {{"resource", w.resource},
          {"minor", w.minor},
          {"size_kib", w.size_kib},
          {"rate_kib_s", w.rate_kib_s},
          {"write_kib_when_diverging", w.write_kib_when_diverging},
          {"two_primaries", w.two_primaries},
          {"link_up", w.link_up},
          {"was_connected", w.was_connected},
          {"nodes", nodes},
          {"sync",
           {{"active", w.sync.active},
            {"source", w.sync.source},
            {"target", w.sync.target},
            {"total_kib", w.sync.total_kib},
            {"start_ms", w.sync.start_ms}}},
          {"verify_alg", w.verify_alg},
          {"verify",
           {{"active", w.verify.active},
            {"source", w.verify.source},
            {"target", w.verify.target},
            {"start_ms", w.verify.start_ms}}},
          {"verify_oos_kib", w.verify_oos_kib},
          {"helpers", helpers},
          {"next_seq", w.next_seq},
          {"generation", w.generation}};
}

SimWorld from_json(const nlohmann::json& j) {
  SimWorld w;
  w.resource = j.at("resource").get<std::string>();
  w.minor = j.at("minor").get<int>();
  w.size_kib = j.at("size_kib").get<std::uint64_t>();
  w.rate_kib_s = j.at("rate_kib_s").get<std::uint64_t>();
  w.write_kib_when_diverging = j.at("write_kib_when_diverging").get<std::uint64_t>();
  w.two_primaries = j.at("two_primaries").get<bool>();
  w.link_up = j.at("link_up").get<bool>();
  w.was_connected = j.at("was_connected").get<bool>();
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& n = j.at("nodes").at(i);
    SimNode& s = w.nodes[i];
    s.name = n.at("name").get<std::string>();
    s.node_id = n.at("node_id").get<int>();
    s.up = n.at("up").get<bool>();
    s.net = n.at("net").get<bool>();
    s.standalone = n.at("standalone").get<bool>();
    s.split_brain = n.at("split_brain").get<bool>();
    s.discard_my_data = n.at("discard_my_data").get<bool>();
    s.role = n.at("role").get<std::string>();
    s.disk = n.at("disk").get<std::string>();
    s.attached = n.at("attached").get<bool>();
    s.disk_broken = n.at("disk_broken").get<bool>();
    s.uuid = n.at("uuid").get<std::string>();
    s.parent = n.at("parent").get<std::string>();
    s.written_kib = n.at("written_kib").get<std::uint64_t>();
    s.resync_left_kib = n.at("resync_left_kib").get<std::uint64_t>();
    s.corrupt_kib = n.value("corrupt_kib", std::uint64_t{0});
  }
  w.verify_alg = j.value("verify_alg", std::string());
  if (j.contains("verify")) {
    const auto& v = j.at("verify");
    w.verify = SimVerify{.active = v.at("active").get<bool>(),
                         .source = v.at("source").get<int>(),
                         .target = v.at("target").get<int>(),
                         .start_ms = v.at("start_ms").get<std::int64_t>()};
  }
  w.verify_oos_kib = j.value("verify_oos_kib", std::uint64_t{0});
  const auto& s = j.at("sync");
  w.sync = SimSync{.active = s.at("active").get<bool>(),
                   .source = s.at("source").get<int>(),
                   .target = s.at("target").get<int>(),
                   .total_kib = s.at("total_kib").get<std::uint64_t>(),
                   .start_ms = s.at("start_ms").get<std::int64_t>()};
  for (const auto& h : j.at("helpers"))
    w.helpers.push_back(HelperCall{h.at("seq").get<std::uint64_t>(), h.at("node").get<int>(),
                                   h.at("helper").get<std::string>(), h.at("response").get<bool>()});
  w.next_seq = j.at("next_seq").get<std::uint64_t>();
  w.generation = j.at("generation").get<int>();
  return w;
}

namespace {

struct Replication {
  std::string state;
  std::uint64_t out_of_sync_kib = 0;
  bool verifying = false;
  double verify_done = 0;
};

// The peer device's replication state and out-of-sync counter as node `me` sees them.
Replication replication(const SimWorld& w, int me, std::int64_t now_ms) {
  const SimNode& n = w.nodes[static_cast<std::size_t>(me)];
  const bool connected = w.connected();
  const bool syncing = connected && w.sync.active && (w.sync.source == me || w.sync.target == me);
  Replication r;
  if (!connected) {
    r.state = "Off";
    r.out_of_sync_kib = n.written_kib + n.resync_left_kib + w.verify_oos_kib;
  } else if (syncing) {
    r.state = w.sync.source == me ? "SyncSource" : "SyncTarget";
    r.out_of_sync_kib = w.out_of_sync_kib(now_ms);
  } else if (w.verify.active) {
    r.state = w.verify.source == me ? "VerifyS" : "VerifyT";
    r.verifying = true;
    r.verify_done = w.size_kib ? 100.0 * static_cast<double>(w.verified_kib(now_ms)) / static_cast<double>(w.size_kib) : 100.0;
    r.out_of_sync_kib = std::max(w.verify_oos_kib, w.verify_found_kib(now_ms));
  } else {
    r.state = "Established";
    r.out_of_sync_kib = w.verify_oos_kib;
  }
  return r;
}

}  // namespace

std::vector<ObjectView> views(const SimWorld& w, int me, std::int64_t now_ms) {
  std::vector<ObjectView> out;
  const SimNode& n = w.nodes[static_cast<std::size_t>(me)];
  const SimNode& p = w.nodes[static_cast<std::size_t>(1 - me)];
  if (!n.up) return out;
  const bool connected = w.connected();
  const std::string name = w.resource;
  const Promotion promotion = drbd_promotion(w, me);

  out.push_back({"resource",
                 {{"name", name}},
                 {{"role", n.role},
                  {"suspended", "no"},
                  {"force-io-failures", "no"},
                  {"write-ordering", "flush", true},
                  {"may_promote", promotion.may_promote ? "yes" : "no"},
                  {"promotion_score", std::to_string(promotion.score)}}});

  std::string cstate = connected ? "Connected" : "Connecting";
  if (!n.net || n.standalone) cstate = "StandAlone";
  ObjectView connection{"connection",
                        {{"name", name}, {"peer-node-id", std::to_string(p.node_id)}, {"conn-name", p.name}},
                        {{"connection", cstate}, {"role", connected ? p.role : "Unknown"}}};
  if (cstate == "StandAlone" && n.split_brain) connection.fields.push_back({"sync-state", "SplitBrain"});
  connection.fields.push_back({"congested", "no", true});
  connection.fields.push_back({"ap-in-flight", "0", true});
  connection.fields.push_back({"rs-in-flight", w.sync.active && connected ? "1024" : "0", true, true});
  out.push_back(connection);

  const std::uint64_t size = n.attached ? w.size_kib : 0;
  out.push_back({"device",
                 {{"name", name}, {"volume", "0"}, {"minor", std::to_string(w.minor)}},
                 {{"backing_dev", n.attached ? fmt::format("/dev/sim/{}", name) : "none"},
                  {"disk", w.reported_disk(me)},
                  {"client", "no"},
                  {"open", "no"},
                  {"quorum", "yes"},
                  {"size", std::to_string(size), true},
                  {"read", "0", true},
                  {"written", "0", true},
                  {"al-writes", "0", true},
                  {"bm-writes", "0", true},
                  {"upper-pending", "0", true},
                  {"lower-pending", "0", true},
                  {"al-suspended", "no", true},
                  {"blocked", "no", true}}});

  const bool syncing = connected && w.sync.active && (w.sync.source == me || w.sync.target == me);
  const Replication r = replication(w, me, now_ms);
  const std::uint64_t oos = r.out_of_sync_kib;
  const std::string repl = r.state;
  ObjectView peer_device{"peer-device",
                         {{"name", name}, {"peer-node-id", std::to_string(p.node_id)}, {"conn-name", p.name}, {"volume", "0"}},
                         {{"replication", repl},
                          {"peer-disk", connected ? w.reported_disk(1 - me) : "DUnknown"},
                          {"peer-client", "no"},
                          {"resync-suspended", "no"}}};
  if (syncing) {
    const double done = 100.0 * static_cast<double>(w.sync.total_kib - oos) / static_cast<double>(w.sync.total_kib);
    peer_device.fields.push_back({"done", percent(done), false, true});
  } else if (r.verifying) {
    peer_device.fields.push_back({"done", percent(r.verify_done), false, true});
  }
  const std::uint64_t moved = syncing ? w.sync.total_kib - oos : 0;
  peer_device.fields.push_back({"received", std::to_string(syncing && w.sync.target == me ? moved : 0), true, true});
  peer_device.fields.push_back({"sent", std::to_string(syncing && w.sync.source == me ? moved : 0), true, true});
  peer_device.fields.push_back({"out-of-sync", std::to_string(oos), true, true});
  peer_device.fields.push_back({"pending", "0", true});
  peer_device.fields.push_back({"unacked", "0", true});
  if (syncing) {
    peer_device.fields.push_back({"dbdt1", percent(static_cast<double>(w.rate_kib_s) / 1024.0), true, true});
    peer_device.fields.push_back({"eta", std::to_string(oos / std::max<std::uint64_t>(w.rate_kib_s, 1)), true, true});
  }
  out.push_back(peer_device);

  out.push_back({"path",
                 {{"name", name},
                  {"peer-node-id", std::to_string(p.node_id)},
                  {"conn-name", p.name},
                  {"local", peer_address(n)},
                  {"peer", peer_address(p)}},
                 {{"established", connected ? "yes" : "no"}}});
  return out;
}

nlohmann::ordered_json status_json(const SimWorld& w, int me, std::int64_t now_ms) {
  const SimNode& n = w.nodes[static_cast<std::size_t>(me)];
  const SimNode& p = w.nodes[static_cast<std::size_t>(1 - me)];
  const bool connected = w.connected();
  const bool syncing = connected && w.sync.active && (w.sync.source == me || w.sync.target == me);
  const Replication r = replication(w, me, now_ms);
  const std::uint64_t oos = r.out_of_sync_kib;
  std::string cstate = connected ? "Connected" : "Connecting";
  if (!n.net || n.standalone) cstate = "StandAlone";
  const std::string repl = r.state;

  nlohmann::ordered_json peer_device = {{"volume", 0},
                                {"replication-state", repl},
                                {"peer-disk-state", connected ? w.reported_disk(1 - me) : "DUnknown"},
                                {"peer-client", false},
                                {"resync-suspended", "no"},
                                {"received", 0},
                                {"sent", 0},
                                {"out-of-sync", oos},
                                {"pending", 0},
                                {"unacked", 0},
                                {"has-sync-details", syncing || r.verifying},
                                {"has-online-verify-details", r.verifying},
                                {"percent-in-sync",
                                 w.size_kib ? 100.0 * (1.0 - static_cast<double>(oos) / static_cast<double>(w.size_kib)) : 0.0}};
  if (syncing) {
    const double done = 100.0 * static_cast<double>(w.sync.total_kib - oos) / static_cast<double>(w.sync.total_kib);
    peer_device["rs-total"] = w.sync.total_kib * 2;
    peer_device["rs-dt-start-ms"] = std::max<std::int64_t>(0, now_ms - w.sync.start_ms);
    peer_device["rs-paused-ms"] = 0;
    peer_device["rs-failed"] = 0;
    peer_device["rs-same-csum"] = 0;
    peer_device["want"] = 0.0;
    peer_device["estimated-seconds-to-finish"] = oos / std::max<std::uint64_t>(w.rate_kib_s, 1);
    peer_device["percent-resync-done"] = done;
  } else if (r.verifying) {
    // drbdsetup prints the ov-* details instead of rs-failed/rs-same-csum (sectors).
    const std::uint64_t left = w.size_kib - w.verified_kib(now_ms);
    peer_device["rs-total"] = w.size_kib * 2;
    peer_device["rs-dt-start-ms"] = std::max<std::int64_t>(0, now_ms - w.verify.start_ms);
    peer_device["rs-paused-ms"] = 0;
    peer_device["ov-start-sector"] = 0;
    peer_device["ov-stop-sector"] = w.size_kib * 2;
    peer_device["ov-position"] = w.verified_kib(now_ms) * 2;
    peer_device["ov-left"] = left * 2;
    peer_device["ov-skipped"] = 0;
    peer_device["want"] = 0.0;
    peer_device["estimated-seconds-to-finish"] = left / std::max<std::uint64_t>(w.rate_kib_s, 1);
    peer_device["percent-resync-done"] = r.verify_done;
  }
  nlohmann::ordered_json connection = {{"peer-node-id", p.node_id},
                               {"name", p.name},
                               {"connection-state", cstate},
                               {"congested", false},
                               {"peer-role", connected ? p.role : "Unknown"},
                               {"tls", false},
                               {"ap-in-flight", 0},
                               {"rs-in-flight", 0},
                               {"paths",
                                {{{"this_host", {{"address", fmt::format("198.18.0.{}", n.node_id + 1)}, {"port", 7789}, {"family", "ipv4"}}},
                                  {"remote_host", {{"address", fmt::format("198.18.0.{}", p.node_id + 1)}, {"port", 7789}, {"family", "ipv4"}}},
                                  {"established", connected}}}},
                               {"peer_devices", nlohmann::ordered_json::array({peer_device})}};
  if (cstate == "StandAlone" && n.split_brain) connection["sync-state"] = "SplitBrain";
  nlohmann::ordered_json device = {{"volume", 0},
                           {"minor", w.minor},
                           {"disk-state", w.reported_disk(me)},
                           {"client", false},
                           {"open", false},
                           {"quorum", true},
                           {"size", n.attached ? w.size_kib : 0},
                           {"read", 0},
                           {"written", 0},
                           {"al-writes", 0},
                           {"bm-writes", 0},
                           {"upper-pending", 0},
                           {"lower-pending", 0}};
  return {{"name", w.resource},
          {"node-id", n.node_id},
          {"role", n.role},
          {"suspended", false},
          {"suspended-user", false},
          {"suspended-no-data", false},
          {"suspended-fencing", false},
          {"suspended-quorum", false},
          {"force-io-failures", false},
          {"write-ordering", "flush"},
          {"devices", nlohmann::ordered_json::array({device})},
          {"connections", nlohmann::ordered_json::array({connection})}};
}

}  // namespace evos::drbdsim
