#include <evos/drbd/types.hpp>

#include <array>
#include <utility>

namespace evos::drbd {
namespace {

bool is_state_word(std::string_view text) {
  if (text.empty() || text.size() > 32) return false;
  for (char c : text)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  return true;
}

template <class E, std::size_t N>
std::optional<E> lookup(std::string_view text, const std::array<std::pair<std::string_view, E>, N>& names, E other) {
  if (!is_state_word(text)) return std::nullopt;
  for (const auto& [name, value] : names)
    if (name == text) return value;
  return other;
}

template <class E, std::size_t N>
std::string_view name_of(E value, const std::array<std::pair<std::string_view, E>, N>& names) {
  for (const auto& [name, v] : names)
    if (v == value) return name;
  return "other";
}

constexpr std::array<std::pair<std::string_view, Role>, 3> role_names{{
    {"Unknown", Role::unknown},
    {"Primary", Role::primary},
    {"Secondary", Role::secondary},
}};

constexpr std::array<std::pair<std::string_view, DiskState>, 10> disk_names{{
    {"Diskless", DiskState::diskless},
    {"Attaching", DiskState::attaching},
    {"Detaching", DiskState::detaching},
    {"Failed", DiskState::failed},
    {"Negotiating", DiskState::negotiating},
    {"Inconsistent", DiskState::inconsistent},
    {"Outdated", DiskState::outdated},
    {"DUnknown", DiskState::dunknown},
    {"Consistent", DiskState::consistent},
    {"UpToDate", DiskState::up_to_date},
}};

constexpr std::array<std::pair<std::string_view, ConnState>, 10> conn_names{{
    {"StandAlone", ConnState::standalone},
    {"Disconnecting", ConnState::disconnecting},
    {"Unconnected", ConnState::unconnected},
    {"Timeout", ConnState::timeout},
    {"BrokenPipe", ConnState::broken_pipe},
    {"NetworkFailure", ConnState::network_failure},
    {"ProtocolError", ConnState::protocol_error},
    {"TearDown", ConnState::tear_down},
    {"Connecting", ConnState::connecting},
    {"Connected", ConnState::connected},
}};

constexpr std::array<std::pair<std::string_view, ReplState>, 15> repl_names{{
    {"Off", ReplState::off},
    {"Established", ReplState::established},
    {"StartingSyncS", ReplState::starting_sync_source},
    {"StartingSyncT", ReplState::starting_sync_target},
    {"WFBitMapS", ReplState::wf_bitmap_source},
    {"WFBitMapT", ReplState::wf_bitmap_target},
    {"WFSyncUUID", ReplState::wf_sync_uuid},
    {"SyncSource", ReplState::sync_source},
    {"SyncTarget", ReplState::sync_target},
    {"VerifyS", ReplState::verify_source},
    {"VerifyT", ReplState::verify_target},
    {"PausedSyncS", ReplState::paused_sync_source},
    {"PausedSyncT", ReplState::paused_sync_target},
    {"Ahead", ReplState::ahead},
    {"Behind", ReplState::behind},
}};

}  // namespace

std::string_view to_string(Role role) noexcept { return name_of(role, role_names); }
std::string_view to_string(DiskState disk) noexcept { return name_of(disk, disk_names); }
std::string_view to_string(ConnState conn) noexcept { return name_of(conn, conn_names); }
std::string_view to_string(ReplState repl) noexcept { return name_of(repl, repl_names); }

std::optional<Role> parse_role(std::string_view text) { return lookup(text, role_names, Role::other); }
std::optional<DiskState> parse_disk_state(std::string_view text) {
  return lookup(text, disk_names, DiskState::other);
}
std::optional<ConnState> parse_conn_state(std::string_view text) {
  return lookup(text, conn_names, ConnState::other);
}
std::optional<ReplState> parse_repl_state(std::string_view text) {
  return lookup(text, repl_names, ReplState::other);
}

ReplTraits traits(ReplState repl) noexcept {
  switch (repl) {
    case ReplState::starting_sync_source:
    case ReplState::wf_bitmap_source: return {.sync_source = true, .transitional = true};
    case ReplState::sync_source:
    case ReplState::paused_sync_source: return {.sync_source = true};
    case ReplState::starting_sync_target:
    case ReplState::wf_bitmap_target:
    case ReplState::wf_sync_uuid: return {.sync_target = true, .transitional = true};
    case ReplState::sync_target:
    case ReplState::paused_sync_target: return {.sync_target = true};
    case ReplState::verify_source:
    case ReplState::verify_target: return {.verify = true};
    case ReplState::off:
    case ReplState::established:
    case ReplState::ahead:
    case ReplState::behind:
    case ReplState::other: return {};
  }
  return {};
}

}  // namespace evos::drbd
