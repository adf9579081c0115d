#include <evos/cluster/corosync_follow.hpp>

#include <fmt/core.h>

#include <algorithm>

namespace evos::cluster {

void CorosyncFollow::connected(Clock::time_point now, std::chrono::system_clock::time_point wall) {
  connected_ = true;
  synced_ = false;  // until the connection's first notification (CS_TRACK_CURRENT)
  since_ = now;
  connected_wall_ = wall;
  problem_.clear();
}

MembershipChange CorosyncFollow::notification(bool quorate, std::uint64_t ring_seq, std::vector<std::uint32_t> members,
                                              Clock::time_point now, std::chrono::system_clock::time_point wall) {
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  MembershipChange c;
  c.quorate = quorate;
  // The first view after a connect is compared with the one before the loss: a node that left
  // while evosd was not connected still counts as a change (the view before is kept for that).
  const bool had_view = changed_wall_.has_value();
  c.first = !synced_;
  if (had_view) {
    c.quorum_changed = quorate != quorate_;
    std::set_difference(members.begin(), members.end(), members_.begin(), members_.end(), std::back_inserter(c.joined));
    std::set_difference(members_.begin(), members_.end(), members.begin(), members.end(), std::back_inserter(c.left));
  }
  if (!had_view || c.changed()) {
    changed_ = now;
    changed_wall_ = wall;
  }
  synced_ = connected_;
  quorate_ = quorate;
  ring_seq_ = ring_seq;
  members_ = std::move(members);
  return c;
}

void CorosyncFollow::nodelist(Nodelist list) { nodelist_ = std::move(list); }

bool CorosyncFollow::disconnected(std::string problem, Clock::time_point now) {
  const bool news = connected_ || problem != problem_;
  if (connected_ || problem_.empty()) since_ = now;
  connected_ = false;
  synced_ = false;
  problem_ = std::move(problem);
  return news;
}

Membership membership_of(const Nodelist& list, bool quorate, const std::vector<std::uint32_t>& members) {
  Membership m;
  m.cluster_name = list.cluster_name;
  m.local_nodeid = list.local_nodeid;
  m.quorate = quorate;
  auto member = [&](std::uint32_t id) { return std::find(members.begin(), members.end(), id) != members.end(); };
  for (const auto& n : list.nodes) m.nodes.push_back({n.nodeid, n.name.empty() ? fmt::format("node{}", n.nodeid) : n.name, member(n.nodeid)});
  for (auto id : members)
    if (std::none_of(m.nodes.begin(), m.nodes.end(), [&](const Member& x) { return x.nodeid == id; }))
      m.nodes.push_back({id, fmt::format("node{}", id), true});
  return m;
}

Membership CorosyncFollow::last_known() const { return membership_of(nodelist_, quorate_, members_); }

std::optional<Membership> CorosyncFollow::current() const {
  if (!synced()) return std::nullopt;
  return last_known();
}

std::string describe(const MembershipChange& c, const Membership& names) {
  auto name = [&](std::uint32_t id) {
    for (const auto& n : names.nodes)
      if (n.nodeid == id) return fmt::format("{} ({})", n.name, id);
    return fmt::format("node{} ({})", id, id);
  };
  std::vector<std::string> parts;
  auto list = [&](const std::vector<std::uint32_t>& ids, std::string_view what) {
    if (ids.empty()) return;
    std::string s = ids.size() == 1 ? "node " : "nodes ";
    for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + name(ids[i]);
    parts.push_back(fmt::format("{} {}", s, what));
  };
  list(c.joined, "joined");
  list(c.left, "left");
  if (c.quorum_changed) parts.push_back(c.quorate ? "quorum regained" : "quorum lost");
  if (parts.empty()) return c.quorate ? "no change; quorate" : "no change; not quorate";
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "; " : "") + parts[i];
  if (!c.quorum_changed) out += c.quorate ? "; quorate" : "; not quorate";
  return out;
}

Millis ReconnectBackoff::next_delay(std::optional<Clock::time_point> opened, Clock::time_point ended) {
  const bool healthy = opened && ended - *opened >= policy_.healthy_after;
  if (healthy || !last_) last_ = policy_.min;
  else last_ = std::min(policy_.max, *last_ * 2);
  return *last_;
}

}  // namespace evos::cluster
