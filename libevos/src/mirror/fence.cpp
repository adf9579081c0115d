#include <evos/mirror/fence.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>
#include <pugixml.hpp>

#include <charconv>
#include <sstream>

namespace evos::mirror {
namespace {

std::optional<int> parse_id(std::string_view text) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < 0 || v > 31) return std::nullopt;
  return v;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string FenceRequest::me() const {
  if (my_node_id)
    if (auto it = node_names.find(*my_node_id); it != node_names.end()) return it->second;
  return {};
}

std::string FenceRequest::peer() const {
  if (peer_node_id)
    if (auto it = node_names.find(*peer_node_id); it != node_names.end()) return it->second;
  // Two nodes: the one that is not me.
  for (const auto& [id, name] : node_names)
    if (!my_node_id || id != *my_node_id) return name;
  return {};
}

std::vector<std::string> FenceRequest::up_to_date_nodes() const {
  std::vector<std::string> out;
  if (!up_to_date_mask) {
    if (!me().empty()) out.push_back(me());
    return out;
  }
  for (const auto& [id, name] : node_names)
    if ((*up_to_date_mask >> id) & 1u) out.push_back(name);
  return out;
}

Result<FenceRequest> parse_fence_env(const std::map<std::string, std::string>& env) {
  FenceRequest r;
  auto get = [&](const std::string& k) -> std::string {
    auto it = env.find(k);
    return it == env.end() ? std::string() : it->second;
  };
  r.resource = get("DRBD_RESOURCE");
  if (r.resource.empty() || text::syntax_problem(r.resource, text::Syntax::token) || r.resource.size() > 63 ||
      r.resource.front() == '-')
    return make_error(Errc::invalid_argument, "DRBD_RESOURCE {} is not a resource name", text::quote_for_message(r.resource));
  for (const char* key : {"DRBD_MY_NODE_ID", "DRBD_PEER_NODE_ID"}) {
    const std::string v = get(key);
    if (v.empty()) continue;
    auto id = parse_id(v);
    if (!id) return make_error(Errc::invalid_argument, "{} {} is not a node id (0..31)", key, text::quote_for_message(v));
    (std::string_view(key) == "DRBD_MY_NODE_ID" ? r.my_node_id : r.peer_node_id) = *id;
  }
  const std::string prefix = "DRBD_NODE_ID_";
  for (const auto& [k, v] : env) {
    if (k.rfind(prefix, 0) != 0) continue;
    auto id = parse_id(std::string_view(k).substr(prefix.size()));
    if (!id) continue;
    if (v.empty() || text::syntax_problem(v, text::Syntax::token) || v.front() == '-' || v.size() > 64)
      return make_error(Errc::invalid_argument, "{} {} is not a node name", k, text::quote_for_message(v));
    r.node_names[*id] = v;
  }
  if (const std::string mask = get("UP_TO_DATE_NODES"); !mask.empty()) {
    std::string_view m = mask;
    if (m.rfind("0x", 0) == 0 || m.rfind("0X", 0) == 0) m.remove_prefix(2);
    std::uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(m.data(), m.data() + m.size(), value, 16);
    if (m.empty() || ec != std::errc() || ptr != m.data() + m.size())
      return make_error(Errc::invalid_argument, "UP_TO_DATE_NODES {} is not a hex mask", text::quote_for_message(mask));
    r.up_to_date_mask = value;
  }
  if (r.me().empty())
    return make_error(Errc::invalid_argument, "DRBD_MY_NODE_ID and DRBD_NODE_ID_<n> do not name this node");
  if (r.peer().empty()) return make_error(Errc::invalid_argument, "DRBD_PEER_NODE_ID and DRBD_NODE_ID_<n> do not name the peer");
  return r;
}

std::string fence_constraint_id(const std::string& resource) { return "evos-fence-" + resource; }

std::string fence_constraint_xml(const std::string& resource, const std::string& clone, const std::vector<std::string>& allowed) {
  const std::string id = xml_escape(fence_constraint_id(resource));
  std::string xml = fmt::format(R"(<rsc_location id="{0}" rsc="{1}"><rule id="{0}-rule" role="Promoted" score="-INFINITY" boolean-op="and">)",
                                id, xml_escape(clone));
  if (allowed.empty()) xml += fmt::format(R"(<expression id="{}-none" attribute="#uname" operation="defined"/>)", id);
  for (std::size_t i = 0; i < allowed.size(); ++i)
    xml += fmt::format(R"(<expression id="{}-expr-{}" attribute="#uname" operation="ne" value="{}"/>)", id, i,
                       xml_escape(allowed[i]));
  return xml + "</rule></rsc_location>";
}

Result<std::string> find_mirror_clone(std::string_view resources_xml, const std::string& resource) {
  pugi::xml_document doc;
  if (!doc.load_buffer(resources_xml.data(), resources_xml.size()))
    return make_error(Errc::invalid_argument, "the CIB's resources are not well-formed XML");
  for (auto clone : doc.select_nodes("//clone")) {
    const auto c = clone.node();
    for (auto p : c.children("primitive")) {
      const std::string type = p.attribute("type").value(), provider = p.attribute("provider").value();
      if (!((provider == "evos" && type == "mirror") || (provider == "linbit" && type == "drbd"))) continue;
      for (auto nv : p.select_nodes(".//instance_attributes/nvpair[@name='drbd_resource']"))
        if (resource == nv.node().attribute("value").value()) return std::string(c.attribute("id").value());
    }
  }
  return make_error(Errc::not_found, "no promotable clone runs DRBD resource '{}'", resource);
}

PeerState peer_state(const cluster::PacemakerStatus& status, const std::string& peer) {
  const auto* n = status.node(peer);
  if (!n) return PeerState::unknown;
  if (n->unclean) return PeerState::unclean;
  if (n->online) return PeerState::online;
  return PeerState::fenced;  // offline and clean: fenced, or shut down cleanly
}

FenceDecision decide_fence(const cluster::PacemakerStatus& status, const std::string& peer) {
  if (status.dc.empty()) return {true, fence_exit_frozen, "no DC yet"};
  if (!status.quorate) return {false, fence_exit_frozen, "this partition has no quorum: I/O stays frozen"};
  switch (peer_state(status, peer)) {
    case PeerState::online:
      return {false, fence_exit_frozen,
              fmt::format("the replication link is lost but {} is online in the cluster: I/O stays frozen until the "
                          "link returns (no failover, no diverging data)",
                          peer)};
    case PeerState::unclean: return {true, fence_exit_frozen, fmt::format("{} is unclean: waiting for its fencing", peer)};
    case PeerState::fenced: return {false, fence_exit_peer_fenced, fmt::format("{} is offline and clean (fenced)", peer)};
    case PeerState::unknown: return {false, fence_exit_frozen, fmt::format("{} is not a Pacemaker node", peer)};
  }
  return {false, fence_exit_frozen, "unknown"};
}

}  // namespace evos::mirror
