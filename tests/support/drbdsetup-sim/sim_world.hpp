// The drbd simulator's world: one DRBD resource replicated between two simulated nodes, kept in a
// JSON file that every simulator process (one per drbdadm/drbdsetup call, on either node) reads
// and writes under a lock. It models what the mirror logic has to survive: up/down, roles with
// DRBD's refusals, connect/disconnect and a broken link, resync with progress over wall-clock
// time, split brain (both Primary while apart, then reconnect), disk failure, and online verify
// finding blocks that differ silently (`ctl corrupt`).
//
// It is a test program. It prints DRBD 9.2-shaped `events2` and `status --json`; it never reads
// evos' parsers, so a mismatch between the two shows up in the tests.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace evos::drbdsim {

struct SimNode {
  std::string name;
  int node_id = 0;
  bool up = false;             // drbdadm up ran (the resource exists in the "kernel")
  bool net = true;             // wants a connection (false after disconnect)
  bool standalone = false;     // gave up connecting (split brain) until the next connect
  bool split_brain = false;    // why it is standalone
  bool discard_my_data = false;
  std::string role = "Secondary";
  std::string disk = "UpToDate";  // the data's state when attached: UpToDate Consistent Outdated Inconsistent
  bool attached = true;           // false after a disk failure: reported Diskless
  bool disk_broken = false;       // the backing device fails every attach until repaired
  std::string uuid = "g0";        // current data generation
  std::string parent;             // the generation this node's data diverged from ("" = none)
  std::uint64_t written_kib = 0;  // written since it diverged
  std::uint64_t resync_left_kib = 0;  // an interrupted resync still owed to this node
  std::uint64_t corrupt_kib = 0;      // blocks that differ from the peer's without DRBD knowing (bit rot)
};

struct SimSync {
  bool active = false;
  int source = 0;  // node index
  int target = 1;
  std::uint64_t total_kib = 0;
  std::int64_t start_ms = 0;
};

// An online verify (drbdadm verify): VerifyS on `source`, VerifyT on `target`, reading the whole
// device at the world's rate. It finds the blocks either side corrupted silently.
struct SimVerify {
  bool active = false;
  int source = 0;
  int target = 1;
  std::int64_t start_ms = 0;
};

struct HelperCall {
  std::uint64_t seq = 0;
  int node = 0;  // who runs the handler
  std::string helper;
  bool response = false;
};

struct SimWorld {
  std::string resource;
  int minor = 1;
  std::uint64_t size_kib = 1048576;
  std::uint64_t rate_kib_s = 524288;
  std::uint64_t write_kib_when_diverging = 65536;
  bool two_primaries = false;
  bool link_up = true;
  bool was_connected = false;
  std::array<SimNode, 2> nodes;
  SimSync sync;
  std::string verify_alg;  // the net section's verify-alg ("" = none: verify is refused)
  SimVerify verify;
  std::uint64_t verify_oos_kib = 0;  // out of sync as found by verify (both sides), until resynced
  std::vector<HelperCall> helpers;
  std::uint64_t next_seq = 1;
  int generation = 0;

  int index_of(const std::string& node) const;  // -1 if not a node of this resource
  bool connected() const;
  // Advances the world to `now_ms`: connection handshakes (resync decisions, split-brain
  // detection), resync progress and completion, new data generations of lone Primaries.
  void settle(std::int64_t now_ms);
  // Runs DRBD's connect-time decision again on an established connection (after a forced
  // promotion, an attach or an invalidate changed what the sides hold).
  void renegotiate(std::int64_t now_ms);
  std::uint64_t out_of_sync_kib(std::int64_t now_ms) const;
  // Verify's progress: KiB compared so far, and KiB found out of sync so far.
  std::uint64_t verified_kib(std::int64_t now_ms) const;
  std::uint64_t verify_found_kib(std::int64_t now_ms) const;
  std::string reported_disk(int node) const;  // "Diskless" while detached
};

nlohmann::json to_json(const SimWorld& world);
SimWorld from_json(const nlohmann::json& j);

// One object line of events2 or one JSON status, as node `me` sees it.
struct Field {
  std::string key;
  std::string value;
  bool statistic = false;  // printed only with --statistics
  bool progress = false;   // changes all the time (resync progress, counters): streamed at most once a second
};
struct ObjectView {
  std::string object;            // resource, connection, device, peer-device, path
  std::vector<Field> identity;   // name, peer-node-id, conn-name, volume, minor, local/peer
  std::vector<Field> fields;
};

// Every object of the resource as node `me` sees it (empty when the resource is not up there),
// in drbdsetup's order: resource, connection, device, peer-device, path.
std::vector<ObjectView> views(const SimWorld& world, int me, std::int64_t now_ms);

// `drbdsetup status --json` of node `me`, DRBD 9.2 shape.
nlohmann::ordered_json status_json(const SimWorld& world, int me, std::int64_t now_ms);

}  // namespace evos::drbdsim
