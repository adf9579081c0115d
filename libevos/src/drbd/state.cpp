#include <evos/drbd/state.hpp>

#include <fmt/core.h>

#include <algorithm>

namespace evos::drbd {

std::string peer_display_name(const ConnectionState& c) {
  return c.name.empty() ? fmt::format("node {}", c.peer_node_id) : c.name;
}

namespace {

DeviceState& device_for(ResourceState& s, int volume) {
  for (auto& d : s.devices)
    if (d.volume == volume) return d;
  s.devices.push_back(DeviceState{.volume = volume});
  return s.devices.back();
}

ConnectionState& connection_for(ResourceState& s, int peer_node_id) {
  for (auto& c : s.connections)
    if (c.peer_node_id == peer_node_id) return c;
  s.connections.push_back(ConnectionState{.peer_node_id = peer_node_id});
  return s.connections.back();
}

PeerDeviceState& peer_device_for(ConnectionState& c, int volume) {
  for (auto& p : c.peer_devices)
    if (p.volume == volume) return p;
  c.peer_devices.push_back(PeerDeviceState{.volume = volume});
  return c.peer_devices.back();
}

bool is_transitional(ReplState r) { return traits(r).transitional; }

bool is_transitional(DiskState d) {
  return d == DiskState::attaching || d == DiskState::detaching || d == DiskState::negotiating;
}

void apply_resource(ResourceState& s, const Event& e) {
  if (e.kind == EventKind::destroy) {
    const std::string name = s.name;
    const bool done = s.initial_state_done;
    s = ResourceState{.name = name};
    s.initial_state_done = done;
    return;
  }
  if (e.kind == EventKind::rename) {
    if (e.new_name) s.name = *e.new_name;
    return;
  }
  s.exists = true;
  if (e.role) s.role = *e.role;
  if (e.suspended) {
    s.suspended = *e.suspended != "no";
    s.suspended_reasons = s.suspended ? *e.suspended : "";
  }
  if (e.force_io_failures) s.force_io_failures = *e.force_io_failures;
  if (e.may_promote) s.drbd_may_promote = *e.may_promote;
  if (e.promotion_score) s.drbd_promotion_score = *e.promotion_score;
}

void apply_device(ResourceState& s, const Event& e) {
  const int volume = *e.volume;
  if (e.kind == EventKind::destroy) {
    std::erase_if(s.devices, [&](const DeviceState& d) { return d.volume == volume; });
    return;
  }
  s.exists = true;
  DeviceState& d = device_for(s, volume);
  if (e.minor) d.minor = *e.minor;
  if (e.disk) d.disk = *e.disk;
  if (e.client) d.client = *e.client;
  if (e.quorum) d.quorum = *e.quorum;
  if (e.open) d.open = *e.open;
  if (e.size_kib) d.size_kib = *e.size_kib;
}

void apply_connection(ResourceState& s, const Event& e) {
  const int peer = *e.peer_node_id;
  if (e.kind == EventKind::destroy) {
    std::erase_if(s.connections, [&](const ConnectionState& c) { return c.peer_node_id == peer; });
    return;
  }
  s.exists = true;
  ConnectionState& c = connection_for(s, peer);
  if (e.conn_name) c.name = *e.conn_name;
  if (e.connection) {
    c.state = *e.connection;
    if (c.state == ConnState::connected) c.split_brain = false;
  }
  if (e.role) c.peer_role = *e.role;
  if (e.congested) c.congested = *e.congested;
  if (e.sync_state) {
    if (*e.sync_state == "SplitBrain") c.split_brain = true;
  }
}

void apply_peer_device(ResourceState& s, const Event& e) {
  const int peer = *e.peer_node_id;
  const int volume = *e.volume;
  if (e.kind == EventKind::destroy) {
    for (auto& c : s.connections)
      if (c.peer_node_id == peer)
        std::erase_if(c.peer_devices, [&](const PeerDeviceState& p) { return p.volume == volume; });
    return;
  }
  s.exists = true;
  ConnectionState& c = connection_for(s, peer);
  if (e.conn_name && c.name.empty()) c.name = *e.conn_name;
  PeerDeviceState& p = peer_device_for(c, volume);
  if (e.replication) {
    p.replication = *e.replication;
    if (!is_resync_or_verify_state(p.replication)) p.done_percent.reset();
  }
  if (e.peer_disk) p.peer_disk = *e.peer_disk;
  if (e.peer_client) p.peer_client = *e.peer_client;
  if (e.resync_suspended) p.resync_suspended = *e.resync_suspended != "no";
  if (e.done_percent && is_resync_or_verify_state(p.replication)) p.done_percent = *e.done_percent;
  if (e.out_of_sync_kib) p.out_of_sync_kib = *e.out_of_sync_kib;
  if (e.sent_kib) p.sent_kib = *e.sent_kib;
  if (e.received_kib) p.received_kib = *e.received_kib;
}

void apply_path(ResourceState& s, const Event& e) {
  if (e.kind == EventKind::destroy) {
    for (auto& c : s.connections)
      if (c.peer_node_id == *e.peer_node_id) c.path_established.reset();
    return;
  }
  ConnectionState& c = connection_for(s, *e.peer_node_id);
  if (e.conn_name && c.name.empty()) c.name = *e.conn_name;
  if (e.established) c.path_established = *e.established;
}

void apply_helper(ResourceState& s, const Event& e) {
  if (e.kind != EventKind::call) return;
  s.last_helper = *e.helper;
  if (*e.helper == "split-brain") {
    // DRBD 9 names the connection; a 9.0 helper event may not, and then every connection is
    // suspect (a two-node mirror has one).
    for (auto& c : s.connections)
      if (!e.peer_node_id || c.peer_node_id == *e.peer_node_id) c.split_brain = true;
    if (e.peer_node_id && std::none_of(s.connections.begin(), s.connections.end(),
                                       [&](const ConnectionState& c) { return c.peer_node_id == *e.peer_node_id; }))
      connection_for(s, *e.peer_node_id).split_brain = true;
  }
}

bool any_connected_peer_up_to_date(const ResourceState& s, int volume) {
  for (const auto& c : s.connections) {
    if (c.state != ConnState::connected) continue;
    for (const auto& p : c.peer_devices)
      if (p.volume == volume && p.peer_disk == DiskState::up_to_date) return true;
  }
  return false;
}

// Every peer's disk state for `volume` is known: at least one connection, all connected, and
// none reports DUnknown.
bool peers_known(const ResourceState& s, int volume) {
  if (s.connections.empty()) return false;
  for (const auto& c : s.connections) {
    if (c.state != ConnState::connected) return false;
    bool found = false;
    for (const auto& p : c.peer_devices) {
      if (p.volume != volume) continue;
      found = true;
      if (p.peer_disk == DiskState::dunknown || p.peer_disk == DiskState::other) return false;
    }
    if (!found) return false;
  }
  return true;
}

struct VolumeScore {
  int value;
  std::string why;
};

VolumeScore volume_score(const ResourceState& s, const DeviceState& d) {
  const std::string vol = s.devices.size() > 1 ? fmt::format("volume {}: ", d.volume) : "";
  if (!d.quorum) return {score_unusable, vol + "no quorum"};
  switch (d.disk) {
    case DiskState::up_to_date:
      if (peers_known(s, d.volume)) return {score_up_to_date, vol + "UpToDate, peer disk state known"};
      return {score_peer_unknown, vol + "UpToDate, peer not connected"};
    case DiskState::consistent:
      if (any_connected_peer_up_to_date(s, d.volume)) return {score_data_via_peer, vol + "Consistent, UpToDate data on the peer"};
      return {score_consistent, vol + "Consistent, not known to be UpToDate"};
    case DiskState::diskless:
    case DiskState::attaching:
    case DiskState::detaching:
    case DiskState::failed:
    case DiskState::negotiating:
    case DiskState::inconsistent:
    case DiskState::outdated:
    case DiskState::dunknown:
    case DiskState::other:
      if (any_connected_peer_up_to_date(s, d.volume))
        return {score_data_via_peer, fmt::format("{}{}, UpToDate data only on the peer", vol, to_string(d.disk))};
      return {score_unusable, fmt::format("{}{} and no UpToDate peer", vol, to_string(d.disk))};
  }
  return {score_unusable, vol + "unknown disk state"};
}

}  // namespace

ResourceState apply(ResourceState state, const Event& event) {
  switch (event.kind) {
    case EventKind::initial_state_done:
      state.initial_state_done = true;
      return state;
    case EventKind::skipped:
      state.stale = true;
      return state;
    case EventKind::exists:
    case EventKind::create:
    case EventKind::change:
    case EventKind::destroy:
    case EventKind::call:
    case EventKind::response:
    case EventKind::rename:
      break;
  }
  if (!event.name || *event.name != state.name) return state;
  switch (event.object) {
    case ObjectKind::resource: apply_resource(state, event); break;
    case ObjectKind::device: apply_device(state, event); break;
    case ObjectKind::connection: apply_connection(state, event); break;
    case ObjectKind::peer_device: apply_peer_device(state, event); break;
    case ObjectKind::path: apply_path(state, event); break;
    case ObjectKind::helper: apply_helper(state, event); break;
    case ObjectKind::none:
    case ObjectKind::other:
      break;
  }
  return state;
}

ResourceState state_from_events(std::string_view resource, const std::vector<Event>& events) {
  ResourceState state{.name = std::string(resource)};
  for (const auto& e : events) state = apply(std::move(state), e);
  return state;
}

std::map<std::string, ResourceState> states_from_events(const std::vector<Event>& events) {
  std::map<std::string, ResourceState> states;
  bool done = false;
  bool stale = false;
  for (const auto& e : events) {
    if (e.kind == EventKind::initial_state_done) done = true;
    if (e.kind == EventKind::skipped) stale = true;
    if (e.name && e.object != ObjectKind::other && e.object != ObjectKind::none) {
      auto it = states.find(*e.name);
      if (it == states.end()) it = states.emplace(*e.name, ResourceState{.name = *e.name}).first;
      ResourceState next = apply(std::move(it->second), e);
      if (next.name != it->first) {  // renamed
        states.erase(it);
        states[next.name] = std::move(next);
      } else {
        it->second = std::move(next);
      }
    }
  }
  for (auto& [name, s] : states) {
    s.initial_state_done = s.initial_state_done || done;
    s.stale = s.stale || stale;
  }
  return states;
}

PromotionScore promotion_score(const ResourceState& s) {
  PromotionScore score;
  if (!s.exists) return {score_unusable, true, "not running"};
  if (s.devices.empty()) return {score_unusable, true, "no devices"};
  if (s.force_io_failures) return {score_unusable, true, "I/O is failing (force-io-failures)"};
  for (const auto& d : s.devices)
    if (is_transitional(d.disk)) score.settled = false;
  for (const auto& c : s.connections)
    for (const auto& p : c.peer_devices)
      if (is_transitional(p.replication) || is_transitional(p.peer_disk)) score.settled = false;

  const bool split = in_split_brain(s);
  if (split && s.role != Role::primary) return {score_unusable, score.settled, "split brain: the Secondary side is never promoted"};

  bool first = true;
  for (const auto& d : s.devices) {
    VolumeScore v = volume_score(s, d);
    if (first || v.value < score.value) {
      score.value = v.value;
      score.why = std::move(v.why);
      first = false;
    }
  }
  if (split && score.value > score_peer_unknown) {
    score.value = score_peer_unknown;
    score.why = "split brain: the current Primary keeps its role";
  }
  if (!score.settled) score.why += " (in transition)";
  return score;
}

Verdict may_promote(const ResourceState& s, bool two_primaries_allowed) {
  if (!s.exists) return {false, "not running"};
  if (s.role == Role::primary) return {true, "already Primary"};
  if (s.devices.empty()) return {false, "no devices"};
  if (s.force_io_failures) return {false, "I/O is failing (force-io-failures)"};
  if (in_split_brain(s)) return {false, "split brain: resolve it before promoting"};
  if (!two_primaries_allowed) {
    for (const auto& c : s.connections)
      if (c.state == ConnState::connected && c.peer_role == Role::primary)
        return {false, fmt::format("peer {} is Primary and two primaries are not allowed",
                                   c.name.empty() ? fmt::format("node {}", c.peer_node_id) : c.name)};
  }
  for (const auto& d : s.devices) {
    if (!d.quorum) return {false, fmt::format("volume {} has no quorum", d.volume)};
    if (d.disk == DiskState::up_to_date) continue;
    if (any_connected_peer_up_to_date(s, d.volume)) continue;
    return {false, fmt::format("volume {} is {} and no connected peer has UpToDate data", d.volume, to_string(d.disk))};
  }
  return {true, "UpToDate data reachable"};
}

bool is_sync_source(const ResourceState& s) {
  for (const auto& c : s.connections)
    for (const auto& p : c.peer_devices)
      if (is_sync_source_state(p.replication)) return true;
  return false;
}

bool is_sync_target(const ResourceState& s) {
  for (const auto& c : s.connections)
    for (const auto& p : c.peer_devices)
      if (is_sync_target_state(p.replication)) return true;
  return false;
}

Verdict is_degraded(const ResourceState& s) {
  if (!s.exists) return {false, "not running"};
  if (in_split_brain(s)) return {true, "split brain"};
  if (s.connections.empty()) return {true, "no peer configured"};
  for (const auto& c : s.connections) {
    const std::string who = c.name.empty() ? fmt::format("node {}", c.peer_node_id) : c.name;
    if (c.state != ConnState::connected) return {true, fmt::format("peer {} is {}", who, to_string(c.state))};
    for (const auto& p : c.peer_devices) {
      if (p.peer_disk != DiskState::up_to_date) {
        std::string why = fmt::format("peer {} disk is {}", who, to_string(p.peer_disk));
        if (p.done_percent) why += fmt::format(" (resync {:.1f}%)", *p.done_percent);
        return {true, why};
      }
    }
  }
  for (const auto& d : s.devices) {
    if (d.disk != DiskState::up_to_date) {
      std::string why = fmt::format("local disk is {}", to_string(d.disk));
      if (auto progress = sync_progress(s)) why += fmt::format(" (resync {:.1f}%)", *progress);
      return {true, why};
    }
  }
  return {false, "all disks UpToDate and connected"};
}

bool in_split_brain(const ResourceState& s) {
  return std::any_of(s.connections.begin(), s.connections.end(), [](const ConnectionState& c) { return c.split_brain; });
}

bool peer_is_primary(const ResourceState& s) {
  return std::any_of(s.connections.begin(), s.connections.end(),
                     [](const ConnectionState& c) { return c.peer_role == Role::primary; });
}

namespace {
template <class Pred>
std::optional<double> lowest_done(const ResourceState& s, Pred pred) {
  std::optional<double> lowest;
  for (const auto& c : s.connections)
    for (const auto& p : c.peer_devices)
      if (p.done_percent && pred(p.replication) && (!lowest || *p.done_percent < *lowest)) lowest = p.done_percent;
  return lowest;
}
}  // namespace

std::optional<double> sync_progress(const ResourceState& s) {
  return lowest_done(s, [](ReplState r) { return is_sync_source_state(r) || is_sync_target_state(r); });
}

bool is_verifying(const ResourceState& s) {
  for (const auto& c : s.connections)
    for (const auto& p : c.peer_devices)
      if (is_verify_state(p.replication)) return true;
  return false;
}

bool is_verify_source(const ResourceState& s) {
  for (const auto& c : s.connections)
    for (const auto& p : c.peer_devices)
      if (p.replication == ReplState::verify_source) return true;
  return false;
}

std::optional<double> verify_progress(const ResourceState& s) {
  return lowest_done(s, [](ReplState r) { return is_verify_state(r); });
}

std::uint64_t out_of_sync_kib(const ResourceState& s) {
  std::uint64_t total = 0;
  for (const auto& c : s.connections)
    for (const auto& p : c.peer_devices) total += p.out_of_sync_kib;
  return total;
}

std::string describe(const ResourceState& s) {
  if (!s.exists) return fmt::format("{}: not running", s.name);
  std::string out = fmt::format("{}: {}", s.name, to_string(s.role));
  if (s.suspended) out += fmt::format(" (suspended: {})", s.suspended_reasons);
  for (const auto& d : s.devices) {
    if (s.devices.size() > 1) out += fmt::format(", volume {}", d.volume);
    out += fmt::format(", disk {}", to_string(d.disk));
    if (!d.quorum) out += " (no quorum)";
  }
  for (const auto& c : s.connections) {
    out += fmt::format("; {} {}", c.name.empty() ? fmt::format("node {}", c.peer_node_id) : c.name, to_string(c.state));
    if (c.split_brain) out += " (split brain)";
    if (c.state == ConnState::connected) out += fmt::format(" {}", to_string(c.peer_role));
    for (const auto& p : c.peer_devices) {
      out += fmt::format(", peer disk {}", to_string(p.peer_disk));
      if (p.replication != ReplState::established && p.replication != ReplState::off)
        out += fmt::format(" {}", to_string(p.replication));
      if (p.done_percent) out += fmt::format(" {:.1f}%", *p.done_percent);
    }
  }
  return out;
}

}  // namespace evos::drbd
