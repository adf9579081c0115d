// DRBD 9 state vocabulary: the names drbdsetup prints for roles, disk, connection and replication
// states (drbd-utils drbd_strings.c; drbdsetup(8) "events2", "status"). A name this version does
// not know (a later DRBD may add one) parses to `other`, which every decision treats as unusable.
#pragma once

#include <optional>
#include <string_view>

namespace evos::drbd {

enum class Role { unknown, primary, secondary, other };

// Ordered as DRBD orders them (enum drbd_disk_state): a later state is "better" data.
enum class DiskState {
  diskless,
  attaching,
  detaching,
  failed,
  negotiating,
  inconsistent,
  outdated,
  dunknown,  // "DUnknown": a peer's disk state while not connected
  consistent,
  up_to_date,
  other,
};

enum class ConnState {
  standalone,
  disconnecting,
  unconnected,
  timeout,
  broken_pipe,
  network_failure,
  protocol_error,
  tear_down,
  connecting,
  connected,
  other,
};

enum class ReplState {
  off,
  established,
  starting_sync_source,
  starting_sync_target,
  wf_bitmap_source,
  wf_bitmap_target,
  wf_sync_uuid,
  sync_source,
  sync_target,
  verify_source,
  verify_target,
  paused_sync_source,
  paused_sync_target,
  ahead,
  behind,
  other,
};

// DRBD's spelling ("Primary", "UpToDate", "StandAlone", "SyncSource"); `other` prints "other".
std::string_view to_string(Role role) noexcept;
std::string_view to_string(DiskState disk) noexcept;
std::string_view to_string(ConnState conn) noexcept;
std::string_view to_string(ReplState repl) noexcept;

// Exact, case-sensitive DRBD names. nullopt only for text that is not a state name at all (empty
// or not [A-Za-z]); an unknown but well-formed name is `other`.
std::optional<Role> parse_role(std::string_view text);
std::optional<DiskState> parse_disk_state(std::string_view text);
std::optional<ConnState> parse_conn_state(std::string_view text);
std::optional<ReplState> parse_repl_state(std::string_view text);

// What a replication state means, from one exhaustive table (drbdsetup(8), "replication"): whether
// this node sends (source) or receives (target) a resync, runs an online verify (VerifyS on the node
// that started it, VerifyT on its peer), or is in a short handshake before a resync (transitional).
struct ReplTraits {
  bool sync_source = false;
  bool sync_target = false;
  bool verify = false;
  bool transitional = false;
};
ReplTraits traits(ReplState repl) noexcept;

inline bool is_sync_source_state(ReplState repl) noexcept { return traits(repl).sync_source; }
inline bool is_sync_target_state(ReplState repl) noexcept { return traits(repl).sync_target; }
inline bool is_verify_state(ReplState repl) noexcept { return traits(repl).verify; }
// A resync in either direction or a verify: the states that report a done percentage.
inline bool is_resync_or_verify_state(ReplState repl) noexcept {
  const auto t = traits(repl);
  return t.sync_source || t.sync_target || t.verify;
}

}  // namespace evos::drbd
