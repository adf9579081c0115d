#include <evos/mirror/admin.hpp>
#include <evos/mirror/service.hpp>

#include <evos/text_checks.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <charconv>

namespace evos::mirror {

using drbd::ConnState;
using drbd::DiskState;
using drbd::ResourceState;
using drbd::Role;
using drbd::Verdict;

namespace {

bool connected_peer_up_to_date(const ResourceState& s, int volume) {
  for (const auto& c : s.connections) {
    if (c.state != ConnState::connected) continue;
    for (const auto& p : c.peer_devices)
      if (p.volume == volume && p.peer_disk == DiskState::up_to_date) return true;
  }
  return false;
}

bool any_connected(const ResourceState& s) {
  return std::any_of(s.connections.begin(), s.connections.end(),
                     [](const drbd::ConnectionState& c) { return c.state == ConnState::connected; });
}

bool connected_peer_primary(const ResourceState& s) {
  return std::any_of(s.connections.begin(), s.connections.end(), [](const drbd::ConnectionState& c) {
    return c.state == ConnState::connected && c.peer_role == Role::primary;
  });
}

std::string progress_text(const drbd::PeerDeviceState& p) {
  std::string text = fmt::format("peer disk {}", to_string(p.peer_disk));
  if (p.done_percent) text += fmt::format(", {:.1f}% done", *p.done_percent);
  text += fmt::format(", {} KiB left", p.out_of_sync_kib);
  return text;
}

bool parse_flag(std::string_view v, bool& out) {
  if (v == "0") out = false;
  else if (v == "1") out = true;
  else return false;
  return true;
}

}  // namespace

// ---- memory ------------------------------------------------------------------------------------

std::string format_memory(const AgentMemory& m) {
  return fmt::format("published={}\nwindow={}\nsplit_brain={}\n", m.published ? std::to_string(*m.published) : "-",
                     m.window_open ? 1 : 0, m.split_brain ? 1 : 0);
}

std::optional<AgentMemory> parse_memory(std::string_view text) {
  AgentMemory m;
  bool seen_published = false, seen_window = false, seen_split = false;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty()) continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "published") {
      seen_published = true;
      if (value == "-") continue;
      int score = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), score);
      if (ec != std::errc() || ptr != value.data() + value.size() || score < 0 || score > 1000000) return std::nullopt;
      m.published = score;
    } else if (key == "window") {
      seen_window = true;
      if (!parse_flag(value, m.window_open)) return std::nullopt;
    } else if (key == "split_brain") {
      seen_split = true;
      if (!parse_flag(value, m.split_brain)) return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  if (!seen_published || !seen_window || !seen_split) return std::nullopt;
  return m;
}

// ---- decisions ---------------------------------------------------------------------------------

Assessment assess(const ResourceState& s, bool split_brain_seen) {
  if (!s.exists) return {false, Health::stopped, "not running"};
  const bool primary = s.role == Role::primary;
  if (s.force_io_failures) return {primary, Health::failed, "I/O is failing (force-io-failures)"};
  if (s.devices.empty()) return {primary, Health::failed, "no volumes"};
  if (primary) {
    for (const auto& d : s.devices) {
      if (d.disk == DiskState::up_to_date || d.disk == DiskState::consistent) continue;
      if (connected_peer_up_to_date(s, d.volume)) continue;
      return {primary, Health::failed,
              fmt::format("Primary without access to UpToDate data: volume {} is {} and no connected peer is UpToDate",
                          d.volume, to_string(d.disk))};
    }
    for (const auto& d : s.devices)
      if (!d.quorum) return {primary, Health::failed, fmt::format("Primary without quorum on volume {}", d.volume)};
  }
  if (drbd::in_split_brain(s) || (split_brain_seen && !any_connected(s))) {
    std::string peer = "the peer";
    for (const auto& c : s.connections) peer = drbd::peer_display_name(c);
    return {primary, Health::degraded,
            fmt::format("split brain with {}: the data diverged; choose the node whose changes are discarded and run "
                        "'evosctl mirror resolve {} --discard NODE'",
                        peer, s.name)};
  }
  if (s.suspended)
    return {primary, Health::degraded,
            fmt::format("I/O suspended ({}): writes wait until the replication link returns or the peer is fenced",
                        s.suspended_reasons.empty() ? "unknown reason" : s.suspended_reasons)};
  if (auto d = drbd::is_degraded(s); d.yes) return {primary, Health::degraded, d.why};
  return {primary, Health::running, {}};
}

int publishable_score(const drbd::PromotionScore& score) {
  return score.value >= drbd::score_data_via_peer ? score.value : 0;
}

drbd::PromotionScore score_to_publish(const ResourceState& s) {
  drbd::PromotionScore score = drbd::promotion_score(s);
  if (s.role != Role::primary && connected_peer_primary(s) && score.value > score_beside_primary) {
    score.value = score_beside_primary;
    score.why += "; the peer is Primary";
  }
  return score;
}

ScorePlan plan_score(const drbd::PromotionScore& score, std::optional<int> published, bool force) {
  if (!score.settled) {
    if (published) return {false, *published, fmt::format("in transition, keeping {}: {}", *published, score.why)};
    return {false, 0, "in transition, nothing published yet: " + score.why};
  }
  const int value = publishable_score(score);
  std::string why = score.why;
  if (value == 0 && score.value > 0) why += " (only UpToDate data is promoted)";
  if (!force && published && *published == value) return {false, value, "unchanged: " + why};
  return {true, value, why};
}

Verdict may_leave(const ResourceState& s) {
  for (const auto& c : s.connections) {
    for (const auto& p : c.peer_devices) {
      if (drbd::is_sync_source_state(p.replication) && p.peer_disk != DiskState::up_to_date)
        return {false, fmt::format("{}: this node is the sync source of a running resync to {} ({}): it holds the only "
                                   "UpToDate copy of the data; wait until the resync has finished "
                                   "(evosctl mirror status {})",
                                   s.name, drbd::peer_display_name(c), progress_text(p), s.name)};
      if (c.state == ConnState::connected && c.peer_role == Role::primary && p.peer_disk != DiskState::up_to_date &&
          p.peer_disk != DiskState::dunknown)
        return {false, fmt::format("{}: {} is Primary with its disk {} and reads through this node: this node holds "
                                   "the only UpToDate copy of its data",
                                   s.name, drbd::peer_display_name(c), to_string(p.peer_disk))};
    }
  }
  return {true, "not the source of a running resync"};
}

Verdict peer_may_leave(const ResourceState& s) {
  for (const auto& c : s.connections) {
    if (c.state != ConnState::connected) continue;
    for (const auto& p : c.peer_devices) {
      if (drbd::is_sync_target_state(p.replication)) {
        std::string local = "not UpToDate";
        for (const auto& d : s.devices)
          if (d.volume == p.volume) local = std::string(to_string(d.disk));
        std::string progress = p.done_percent ? fmt::format(", {:.1f}% done", *p.done_percent) : "";
        return {false, fmt::format("{}: {} is the sync source of a running resync to this node (disk {}{}, {} KiB "
                                   "left): it holds the only UpToDate copy of the data; wait until the resync has "
                                   "finished (evosctl mirror status {})",
                                   s.name, drbd::peer_display_name(c), local, progress, p.out_of_sync_kib, s.name)};
      }
    }
  }
  if (s.role == Role::primary) {
    for (const auto& d : s.devices)
      if (d.disk != DiskState::up_to_date && connected_peer_up_to_date(s, d.volume))
        return {false, fmt::format("{}: this node is Primary with its disk {} and reads through its peer, which holds "
                                   "the only UpToDate copy",
                                   s.name, to_string(d.disk))};
  }
  return {true, "the peer is not the source of a running resync"};
}

Verdict may_promote_here(const ResourceState& s, bool dual_primary_allowed) {
  Verdict v = drbd::may_promote(s, dual_primary_allowed);
  if (!v.yes || s.role == Role::primary) return v;
  if (connected_peer_primary(s)) {
    for (const auto& d : s.devices)
      if (d.disk != DiskState::up_to_date)
        return {false, fmt::format("a second Primary (live migration) needs UpToDate data here; volume {} is {}",
                                   d.volume, to_string(d.disk))};
    return {true, "second Primary for a live migration: UpToDate here"};
  }
  return v;
}

std::vector<std::string> split_node_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t' && text[j] != '\n') ++j;
    if (j > i) out.emplace_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

// ---- the service -------------------------------------------------------------------------------

MirrorService::MirrorService(drbd::Control& control, PromotionAttribute& attribute, MemoryStore& memory, Log& log,
                             const MirrorParams& params, ResolveRequests* requests)
    : control_(control), attribute_(attribute), memory_(memory), log_(log), params_(params), requests_(requests) {}

Result<ResourceState> MirrorService::read(Deadline deadline) {
  auto s = control_.state(params_.resource, deadline);
  if (!s) return std::move(s).error().context(fmt::format("read the state of DRBD resource '{}'", params_.resource));
  return s;
}

AgentMemory MirrorService::recall() const { return memory_.load().value_or(AgentMemory{}); }

void MirrorService::remember(const AgentMemory& memory) {
  if (auto r = memory_.save(memory); !r) log_.warning("{}", r.error().message());
}

AgentMemory MirrorService::publish(const ResourceState& state, AgentMemory memory, bool force, Deadline deadline) {
  const ScorePlan plan = plan_score(score_to_publish(state), memory.published, force);
  if (!plan.write) {
    log_.debug("promotion score: {}", plan.why);
    return memory;
  }
  auto r = plan.value > 0 ? attribute_.set(plan.value, deadline) : attribute_.remove(deadline);
  if (!r) {
    // The next monitor tries again: an unknown published value is always written.
    log_.warning("cannot publish the promotion score {}: {}", plan.value, r.error().message());
    memory.published.reset();
    return memory;
  }
  if (plan.value > 0)
    log_.info("promotion score {} ({})", plan.value, plan.why);
  else
    log_.info("promotion score removed ({})", plan.why);
  memory.published = plan.value;
  return memory;
}

AgentMemory MirrorService::close_unused_window(const ResourceState& state, AgentMemory memory, Deadline deadline) {
  if (!memory.window_open || (state.role == Role::primary && connected_peer_primary(state))) return memory;
  if (auto r = control_.allow_two_primaries(params_.resource, false, deadline); !r) {
    log_.warning("cannot close the dual-primary window: {}", r.error().message());
    return memory;
  }
  log_.info("dual-primary window closed: single Primary again");
  memory.window_open = false;
  return memory;
}

ResourceState MirrorService::serve_request(ResourceState state, Deadline deadline) {
  if (!requests_ || !needs_reconnect(state)) return state;
  auto pending = requests_->pending(deadline);
  if (!pending) {
    log_.warning("cannot read split-brain recovery requests: {}", pending.error().message());
    return state;
  }
  if (!*pending) return state;
  auto part = parse_resolve_request(**pending);
  if (!part) {
    log_.warning("ignoring the recovery request {}", text::quote_for_message(**pending));
    return state;
  }
  log_.info("split-brain recovery requested by evosctl: {} here", to_string(*part));
  if (auto r = resolve_here(control_, state, *part, deadline); !r) {
    log_.error("{}", r.error().message());
    return state;
  }
  if (auto r = requests_->done(deadline); !r) log_.warning("cannot clear the recovery request: {}", r.error().message());
  auto again = read(deadline);
  return again ? std::move(*again) : state;
}

Result<void> MirrorService::start(Deadline deadline) {
  auto s = read(deadline);
  if (!s) return std::move(s).error();
  if (!s->exists) {
    if (auto r = control_.up(params_.resource, deadline); !r) return std::move(r).error().context("start");
    s = read(deadline);
    if (!s) return std::move(s).error();
    if (!s->exists) return make_error(Errc::backend, "start: DRBD resource '{}' is not up after drbdadm up", params_.resource);
  }
  log_.info("started: {}", drbd::describe(*s));
  AgentMemory m;  // a fresh start: whatever was published before is unknown
  m.split_brain = drbd::in_split_brain(*s);
  remember(publish(*s, m, true, deadline));
  return {};
}

Result<void> MirrorService::stop(Deadline deadline) {
  auto s = read(deadline);
  if (!s) return std::move(s).error();
  if (s->exists) {
    if (params_.protect_sync_source) {
      if (auto v = may_leave(*s); !v.yes) {
        log_.error("refusing to stop: {}", v.why);
        return Error(Errc::backend, "refusing to stop: " + v.why);
      }
    }
    if (s->role == Role::primary) {
      if (auto r = control_.secondary(params_.resource, deadline); !r) return std::move(r).error().context("stop: demote");
    }
    if (auto r = control_.down(params_.resource, deadline); !r) return std::move(r).error().context("stop");
  }
  // A stopped node must not keep a score; failing the stop over it would get the node fenced.
  if (auto r = attribute_.remove(deadline); !r) log_.warning("cannot remove the promotion score: {}", r.error().message());
  if (auto r = memory_.remove(); !r) log_.warning("{}", r.error().message());
  return {};
}

Result<Assessment> MirrorService::monitor(bool probe, bool dual_primary_allowed, Deadline deadline) {
  auto s = read(deadline);
  if (!s) return std::move(s).error();
  if (!s->exists) return assess(*s);
  *s = serve_request(std::move(*s), deadline);
  const std::optional<AgentMemory> stored = memory_.load();
  AgentMemory m = stored.value_or(AgentMemory{});
  const AgentMemory before = m;
  if (drbd::in_split_brain(*s)) {
    if (!m.split_brain) log_.error("split brain detected: {}", drbd::describe(*s));
    m.split_brain = true;
  } else if (any_connected(*s)) {
    if (m.split_brain) log_.info("split brain resolved: connected again");
    m.split_brain = false;
  }
  if (!dual_primary_allowed) m = close_unused_window(*s, m, deadline);
  m = publish(*s, m, probe || !stored, deadline);
  if (!stored || m != before) remember(m);
  return assess(*s, m.split_brain);
}

Result<void> MirrorService::promote(bool dual_primary_allowed, Deadline deadline) {
  auto s = read(deadline);
  if (!s) return std::move(s).error();
  if (!s->exists) return make_error(Errc::backend, "cannot promote: DRBD resource '{}' is not up", params_.resource);
  AgentMemory m = recall();
  if (s->role != Role::primary) {
    if (auto v = may_promote_here(*s, dual_primary_allowed); !v.yes)
      return make_error(Errc::backend, "refusing to promote: {}", v.why);
    if (connected_peer_primary(*s)) {
      if (auto r = control_.allow_two_primaries(params_.resource, true, deadline); !r)
        return std::move(r).error().context("promote: open the dual-primary window");
      m.window_open = true;
      remember(m);
      log_.info("dual-primary window opened for a live migration");
    }
    if (auto r = control_.primary(params_.resource, false, deadline); !r) return std::move(r).error().context("promote");
    s = read(deadline);
    if (!s) return std::move(s).error();
    if (s->role != Role::primary)
      return make_error(Errc::backend, "promote: still {} after drbdadm primary", to_string(s->role));
    log_.info("promoted: {}", drbd::describe(*s));
  }
  remember(publish(*s, m, false, deadline));
  return {};
}

Result<void> MirrorService::demote(Deadline deadline) {
  auto s = read(deadline);
  if (!s) return std::move(s).error();
  if (!s->exists) return make_error(Errc::backend, "cannot demote: DRBD resource '{}' is not up", params_.resource);
  AgentMemory m = recall();
  if (s->role == Role::primary) {
    if (params_.protect_sync_source) {
      if (auto v = may_leave(*s); !v.yes) {
        log_.error("refusing to demote: {}", v.why);
        return Error(Errc::backend, "refusing to demote: " + v.why);
      }
    }
    if (auto r = control_.secondary(params_.resource, deadline); !r) return std::move(r).error().context("demote");
    s = read(deadline);
    if (!s) return std::move(s).error();
    log_.info("demoted: {}", drbd::describe(*s));
  }
  m = close_unused_window(*s, m, deadline);
  remember(publish(*s, m, false, deadline));
  return {};
}

Result<void> MirrorService::notify(const Notification& n, bool dual_primary_allowed, Deadline deadline) {
  auto s = read(deadline);
  if (!s) return std::move(s).error();
  if (!s->exists) return {};  // notifications also reach stopped instances
  AgentMemory m = recall();
  const AgentMemory before = m;
  if (n.type == "pre" && n.operation == "promote") {
    const bool other_promoted = std::any_of(n.promote_nodes.begin(), n.promote_nodes.end(),
                                            [&](const std::string& node) { return node != n.local_node; });
    if (dual_primary_allowed && s->role == Role::primary && other_promoted && !m.window_open) {
      if (auto r = control_.allow_two_primaries(params_.resource, true, deadline); !r)
        return std::move(r).error().context("notify pre-promote: open the dual-primary window");
      m.window_open = true;
      log_.info("dual-primary window opened: the peer is promoted for a live migration");
    }
  } else if (n.type == "post") {
    // After a demote or stop the window is closed whatever promoted-max says; after a promote only
    // when dual primaries are no longer configured.
    if (n.operation == "demote" || n.operation == "stop" || !dual_primary_allowed) m = close_unused_window(*s, m, deadline);
    m = publish(*s, m, false, deadline);
  }
  if (m != before) remember(m);
  return {};
}

}  // namespace evos::mirror
