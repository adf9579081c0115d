// One line of `drbdsetup events2` (drbdsetup(8) "events2"; the printer is drbd-utils
// user/v9/drbdsetup_events2.c), DRBD 9.0 to 9.2 shapes:
//
//   [timestamp ]<kind> <object> key:value key:value ...
//
//   kind    exists create change destroy call response rename
//   object  resource device connection peer-device path helper, or "-" in the line "exists -"
//           that ends the initial dump
//
// plus the line "- skipped N" that 9.0 prints when it lost N notifications. --timestamps
// prefixes "2024-05-02T10:11:12.123456+02:00 "; --diff writes values as "old->new" (the new
// value is kept); --statistics adds counters. Keys this parser does not know are kept in
// `Event::unknown` and never fail a line; a known key with a malformed value does.
#pragma once

#include <evos/drbd/types.hpp>
#include <evos/error.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::drbd {

enum class EventKind { exists, create, change, destroy, call, response, rename, initial_state_done, skipped };
enum class ObjectKind { none, resource, device, connection, peer_device, path, helper, other };

std::string_view to_string(EventKind kind) noexcept;
std::string_view to_string(ObjectKind object) noexcept;

// One event; a field is set only when the line carried its key.
struct Event {
  EventKind kind = EventKind::exists;
  ObjectKind object = ObjectKind::none;
  std::string object_word;        // the object as printed (meaningful when object is `other`)
  std::optional<std::string> timestamp;  // as printed by --timestamps
  std::uint64_t skipped = 0;      // for "- skipped N"

  // Identity (which object the event is about).
  std::optional<std::string> name;       // resource
  std::optional<std::string> new_name;   // rename
  std::optional<int> volume;
  std::optional<int> minor;
  std::optional<int> peer_node_id;
  std::optional<std::string> conn_name;
  std::optional<std::string> local;      // path: "ipv4:198.18.0.1:7789"
  std::optional<std::string> peer;

  // resource
  std::optional<Role> role;              // resource: own role; connection: the peer's role
  std::optional<std::string> suspended;  // "no" or reasons "user,fencing,quorum,no-data"
  std::optional<bool> force_io_failures;
  std::optional<bool> may_promote;
  std::optional<int> promotion_score;
  std::optional<std::string> write_ordering;
  // device
  std::optional<DiskState> disk;
  std::optional<bool> client;            // intentionally diskless ("unknown" leaves it unset)
  std::optional<bool> quorum;
  std::optional<bool> open;
  std::optional<std::string> backing_dev;
  std::optional<std::uint64_t> size_kib;
  // connection
  std::optional<ConnState> connection;
  std::optional<bool> congested;
  std::optional<std::string> sync_state;  // "SplitBrain" / "Unrelated" on a StandAlone connection
  // peer-device
  std::optional<ReplState> replication;
  std::optional<DiskState> peer_disk;
  std::optional<bool> peer_client;
  std::optional<std::string> resync_suspended;  // "no" or "user,peer,dependency"
  std::optional<double> done_percent;           // resync/verify progress
  std::optional<std::uint64_t> out_of_sync_kib;
  std::optional<std::uint64_t> received_kib;
  std::optional<std::uint64_t> sent_kib;
  std::optional<double> eta_seconds;            // NaN when drbdsetup printed "nan"
  // path
  std::optional<bool> established;
  // helper
  std::optional<std::string> helper;
  std::optional<int> helper_status;

  // Every other key:value, for logging; the state model ignores them.
  std::map<std::string, std::string> unknown;
};

// The longest line accepted: far above anything drbdsetup prints, low enough to bound memory.
inline constexpr std::size_t max_events2_line = 64 * 1024;

// Parses one line (a trailing "\n" or "\r\n" is allowed). Errors are invalid_argument and name
// the problem and its 1-based column: "events2 line, column 17: field 'role' ...".
Result<Event> parse_events2_line(std::string_view line);

// Every non-empty line of a whole output, in order; the first bad line fails the lot, naming its
// line number.
Result<std::vector<Event>> parse_events2(std::string_view text);

}  // namespace evos::drbd
