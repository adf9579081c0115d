// The state of one DRBD resource as this node sees it, built by applying `drbdsetup events2`
// events (or read whole from `drbdsetup status --json`), and the pure decisions derived from it:
// promotion score, may-promote, is-sync-source, is-degraded. No I/O here.
#pragma once

#include <evos/drbd/events2_parser.hpp>
#include <evos/drbd/types.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace evos::drbd {

// One volume as replicated to one peer.
struct PeerDeviceState {
  int volume = 0;
  ReplState replication = ReplState::off;
  DiskState peer_disk = DiskState::dunknown;
  bool peer_client = false;       // the peer is intentionally diskless
  bool resync_suspended = false;
  std::optional<double> done_percent;  // resync (or verify) progress while one runs
  std::uint64_t out_of_sync_kib = 0;
  // Replication traffic with this peer since the connection came up (drbdsetup's "sent" and
  // "received" statistics, KiB); nullopt until a report carried them (events2 --statistics).
  std::optional<std::uint64_t> sent_kib;
  std::optional<std::uint64_t> received_kib;

  bool operator==(const PeerDeviceState&) const = default;
};

struct ConnectionState {
  int peer_node_id = -1;
  std::string name;  // the peer's host name as configured (conn-name)
  ConnState state = ConnState::standalone;
  Role peer_role = Role::unknown;
  bool congested = false;
  // DRBD found diverged data on connect and gave up (the split-brain helper ran, or a StandAlone
  // connection reports sync-state:SplitBrain). Cleared when the connection is established again.
  bool split_brain = false;
  std::optional<bool> path_established;
  std::vector<PeerDeviceState> peer_devices;

  bool operator==(const ConnectionState&) const = default;
};

// How messages name the peer of a connection: its configured host name, else "node N".
std::string peer_display_name(const ConnectionState& c);

struct DeviceState {
  int volume = 0;
  int minor = -1;
  DiskState disk = DiskState::diskless;
  bool client = false;  // intentionally diskless
  bool quorum = true;
  std::optional<bool> open;
  std::optional<std::uint64_t> size_kib;

  bool operator==(const DeviceState&) const = default;
};

struct ResourceState {
  std::string name;
  bool exists = false;  // configured in the kernel on this node ("up")
  std::optional<int> node_id;
  Role role = Role::unknown;
  bool suspended = false;
  std::string suspended_reasons;  // "user,fencing,quorum,no-data" or ""
  bool force_io_failures = false;
  // What DRBD itself reports (events2 of drbd-utils >= 9.14 with DRBD >= 9.1); for logs only.
  std::optional<bool> drbd_may_promote;
  std::optional<int> drbd_promotion_score;
  std::vector<DeviceState> devices;
  std::vector<ConnectionState> connections;
  bool initial_state_done = false;  // events2 printed "exists -"
  bool stale = false;               // events2 lost notifications ("- skipped N"): re-read with --now
  std::optional<std::string> last_helper;  // the last handler DRBD called ("fence-peer", "split-brain")

  bool operator==(const ResourceState&) const = default;
};

// Applies one event. Events about other resources leave `state` unchanged; so do object kinds
// and keys the model does not know. `state.name` must be set by the caller.
ResourceState apply(ResourceState state, const Event& event);

// Folds a whole events2 output for `resource` ("drbdsetup events2 --now <resource>").
ResourceState state_from_events(std::string_view resource, const std::vector<Event>& events);

// Every resource an events2 output mentions, by name.
std::map<std::string, ResourceState> states_from_events(const std::vector<Event>& events);

// ---- decisions -------------------------------------------------------------------------------

// The promotion score scale (the value Pacemaker sees as the node's promotion preference). It
// keeps ocf:linbit:drbd's steps so mixed clusters compare, and adds a step for Consistent data:
//   10000  local data UpToDate and every peer's disk state known (connected); this includes the
//          sync source of a running resync
//    1000  local data UpToDate but the peer is not connected (its disk state unknown); also the
//          cap for a Primary in split brain (it keeps its role, nobody else gets it)
//       5  local data Consistent and no better peer in sight (promotion runs the fence-peer
//          handler first)
//      10  local data not UpToDate but a connected peer's is (a sync target, an Outdated or a
//          diskless node reads through the peer)
//       0  unusable: not running, no quorum, I/O failing, Outdated/Inconsistent/failed data with no
//          UpToDate peer, or the Secondary side of a split brain. 0 means "never promote here";
//          an agent removes the attribute rather than writing 0.
// With several volumes the worst volume decides. `settled` is false while DRBD is between states
// (attaching, negotiating, a resync starting): an agent then keeps the previous score, as
// ocf:linbit:drbd does.
inline constexpr int score_up_to_date = 10000;
inline constexpr int score_peer_unknown = 1000;
inline constexpr int score_data_via_peer = 10;
inline constexpr int score_consistent = 5;
inline constexpr int score_unusable = 0;

struct PromotionScore {
  int value = 0;
  bool settled = true;
  std::string why;
};

PromotionScore promotion_score(const ResourceState& state);

struct Verdict {
  bool yes = false;
  std::string why;
};

// Whether `drbdadm primary` is expected to succeed and be safe here: data UpToDate locally or
// through a connected peer, quorum, no I/O failures, not the Secondary side of a split brain,
// and no connected Primary peer unless two primaries are allowed (a live-migration window).
Verdict may_promote(const ResourceState& state, bool two_primaries_allowed = false);

// This node sends a resync to some peer (SyncSource, PausedSyncS, or starting one).
bool is_sync_source(const ResourceState& state);
// This node receives a resync.
bool is_sync_target(const ResourceState& state);

// Running but without full redundancy: the peer is away, or a disk (ours or the peer's) is not
// UpToDate. An agent reports OCF_DEGRADED (190/191) for it.
Verdict is_degraded(const ResourceState& state);

bool in_split_brain(const ResourceState& state);
bool peer_is_primary(const ResourceState& state);

// Lowest resync progress among running resyncs (nullopt when none runs; an online verify is not
// a resync, see verify_progress).
std::optional<double> sync_progress(const ResourceState& state);
// Data DRBD knows differs from peers, summed over peer devices: what a resync still has to move,
// or what an online verify found (verify marks the blocks but does not resync them).
std::uint64_t out_of_sync_kib(const ResourceState& state);

// An online verify runs with some peer (VerifyS here or VerifyT here).
bool is_verifying(const ResourceState& state);
// This node started the running verify (VerifyS).
bool is_verify_source(const ResourceState& state);
// Lowest progress among running verifies (nullopt when none runs or DRBD printed no `done`).
std::optional<double> verify_progress(const ResourceState& state);

// "r0: Secondary, disk UpToDate; beta Connected Primary, peer disk UpToDate" for logs.
std::string describe(const ResourceState& state);

}  // namespace evos::drbd
