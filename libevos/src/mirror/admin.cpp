#include <evos/mirror/admin.hpp>
#include <evos/mirror/service.hpp>

#include <fmt/core.h>

#include <algorithm>

namespace evos::mirror {

using drbd::ConnState;
using drbd::ResourceState;
using drbd::Role;

std::string peer_of(const ResourceState& s) {
  for (const auto& c : s.connections)
    if (!c.name.empty()) return c.name;
  return s.connections.empty() ? std::string() : fmt::format("node {}", s.connections.front().peer_node_id);
}

Result<void> check_resync(const ResourceState& s) {
  if (!s.exists) return make_error(Errc::not_found, "mirror {} is not up on this node", s.name);
  for (const auto& c : s.connections)
    for (const auto& p : c.peer_devices)
      if (c.state == ConnState::connected && p.peer_disk == drbd::DiskState::up_to_date) return {};
  return make_error(Errc::invalid_argument,
                    "{}: the peer is not connected with UpToDate data; a resync would discard the only good copy ({})",
                    s.name, drbd::describe(s));
}

LeaveCheck check_leave(const std::vector<ResourceState>& states, const std::string& node, const std::string& local_node) {
  LeaveCheck check;
  for (const auto& s : states) {
    if (!s.exists) continue;
    drbd::Verdict v{true, ""};
    if (node == local_node) v = may_leave(s);
    else if (node == peer_of(s)) v = peer_may_leave(s);
    if (!v.yes) {
      check.ok = false;
      check.refusals.push_back(v.why);
    }
  }
  return check;
}

std::string_view to_string(ResolveRequest r) noexcept {
  switch (r) {
    case ResolveRequest::discard: return "discard";
    case ResolveRequest::connect: return "connect";
  }
  return "connect";
}

std::optional<ResolveRequest> parse_resolve_request(std::string_view text) {
  if (text == "discard") return ResolveRequest::discard;
  if (text == "connect") return ResolveRequest::connect;
  return std::nullopt;
}

std::string resolve_attribute(const std::string& resource) { return "evos-mirror-resolve-" + resource; }

bool needs_reconnect(const ResourceState& s) {
  if (!s.exists) return false;
  return std::any_of(s.connections.begin(), s.connections.end(),
                     [](const drbd::ConnectionState& c) { return c.split_brain || c.state == ConnState::standalone; });
}

Result<ResolvePlan> plan_resolve(const ResourceState& s, const std::string& local_node, const std::string& discard_node) {
  if (!s.exists) return make_error(Errc::not_found, "{} is not up on this node ({})", s.name, local_node);
  const std::string peer = peer_of(s);
  if (discard_node != local_node && discard_node != peer)
    return make_error(Errc::invalid_argument, "--discard {}: {} is replicated between {} (this node) and {}",
                      discard_node, s.name, local_node, peer.empty() ? "no peer" : peer);
  if (!drbd::in_split_brain(s) && !needs_reconnect(s))
    return make_error(Errc::invalid_argument, "{} is not in split brain ({}): nothing to resolve", s.name,
                      drbd::describe(s));
  ResolvePlan plan;
  plan.peer = peer;
  plan.discard_here = discard_node == local_node;
  plan.for_peer = plan.discard_here ? ResolveRequest::connect : ResolveRequest::discard;
  if (plan.discard_here && s.role == Role::primary)
    return make_error(Errc::invalid_argument,
                      "{} is Primary on {}: its data is in use and cannot be discarded; discard {}'s changes instead, "
                      "or demote {} first",
                      s.name, local_node, peer, local_node);
  return plan;
}

Result<void> resolve_here(drbd::Control& control, const ResourceState& s, ResolveRequest part, Deadline deadline) {
  if (part == ResolveRequest::discard) {
    if (s.role == Role::primary)
      return make_error(Errc::backend, "{} is Primary here: refusing to discard its data", s.name);
    if (auto r = control.disconnect(s.name, deadline); !r) return std::move(r).error().context("resolve: disconnect");
    if (auto r = control.connect(s.name, true, deadline); !r)
      return std::move(r).error().context("resolve: connect --discard-my-data");
    return {};
  }
  if (!needs_reconnect(s)) return {};
  if (auto r = control.connect(s.name, false, deadline); !r) return std::move(r).error().context("resolve: connect");
  return {};
}

}  // namespace evos::mirror
