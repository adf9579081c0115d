#include <evos/network/admin.hpp>

#include <fmt/format.h>
#include <pugixml.hpp>

#include <map>

namespace evos::network {
namespace {

const NetworkInfo* find(const std::vector<NetworkInfo>& nets, const std::string& name) {
  for (const auto& n : nets)
    if (n.name == name) return &n;
  return nullptr;
}

// The domains on a node whose definitions have an interface on network `name`.
Result<std::vector<std::string>> users_of(NetworkHost& host, const std::string& name) {
  auto doms = host.domain_definitions();
  if (!doms) return std::move(doms).error();
  std::vector<std::string> out;
  for (const auto& d : *doms) {
    bool uses = false;
    for (const auto& xml : d.xmls) {
      auto ifs = domain_interfaces(xml);
      if (!ifs) continue;  // a definition libvirt gave us is XML; nothing else to do with one that is not
      for (const auto& i : *ifs) uses = uses || (i.type == InterfaceUse::Type::network && i.source == name);
    }
    if (uses) out.push_back(fmt::format("{} ({})", d.name, d.active ? "running" : "defined"));
  }
  return out;
}

}  // namespace

Result<std::vector<NodeCreate>> create_network(const NetworkSpec& spec, const std::vector<Node>& nodes) {
  if (auto v = validate(spec); !v) return std::move(v).error();
  if (nodes.empty()) return Error(Errc::invalid_argument, "no hypervisor to create the network on");
  const std::string who = fmt::format("network '{}'", spec.name);
  // First every node is checked, so that a definition one node refuses is created nowhere.
  std::vector<const NetworkInfo*> existing;
  std::vector<std::vector<NetworkInfo>> listings;
  listings.reserve(nodes.size());
  for (const auto& node : nodes) {
    auto nets = node.host->networks();
    if (!nets) return std::move(nets).error().context(fmt::format("list networks on {}", node.label));
    listings.push_back(std::move(*nets));
    const NetworkInfo* same = find(listings.back(), spec.name);
    existing.push_back(same);
    if (same) {
      if (!same->persistent)
        return make_error(Errc::invalid_argument, "{} runs on {} as a transient network (no persistent definition); remove it there first",
                          who, node.label);
      auto have = parse_xml(same->xml);
      if (!have) return std::move(have).error().context(fmt::format("{} on {}", who, node.label));
      const auto diffs = compare(spec, *have);
      if (!diffs.empty())
        return make_error(Errc::invalid_argument, "{} exists on {} with a different definition: {}", who, node.label,
                          describe(diffs, "the request", node.label));
      continue;
    }
    if (spec.kind == Kind::bridge) {
      auto bridges = node.host->host_bridges();
      if (!bridges) return std::move(bridges).error().context(fmt::format("list host bridges on {}", node.label));
      // Unknown (no interface driver): libvirt starts a bridge network without looking either.
      if (*bridges && !(*bridges)->count(spec.bridge))
        return make_error(Errc::invalid_argument, "{}: host bridge {} does not exist on {} (set it up there first, with the NIC of its LAN)",
                          who, spec.bridge, node.label);
    }
    if (spec.kind == Kind::nat)
      for (const auto& other : listings.back()) {
        auto o = parse_xml(other.xml);
        if (o && o->kind != Kind::bridge && subnets_overlap(spec, *o))
          return make_error(Errc::invalid_argument, "{}: subnet {}/{} overlaps network '{}' ({}/{}) on {}", who, spec.address,
                            spec.prefix, other.name, o->address, o->prefix, node.label);
      }
  }
  const std::string xml = to_xml(spec);
  std::vector<NodeCreate> out;
  // A create that fails on one node takes out what it defined on the others (and on that one):
  // nothing is left half made. Networks that existed before are left as they were.
  std::vector<std::size_t> defined_here;
  const auto undo = [&](Error e) -> Error {
    for (std::size_t j : defined_here) {
      (void)nodes[j].host->stop_network(spec.name);
      (void)nodes[j].host->undefine_network(spec.name);
    }
    if (defined_here.empty()) return e;
    std::vector<std::string> where;
    for (std::size_t j : defined_here) where.push_back(nodes[j].label);
    return Error(e.code(), fmt::format("{} (undone on {})", e.message(), fmt::join(where, ", ")));
  };
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto& node = nodes[i];
    const auto on = [&](std::string_view doing) { return fmt::format("{} {} on {}", doing, who, node.label); };
    NodeCreate r{node.label, CreateAction::created};
    if (existing[i]) {
      r.action = existing[i]->active ? CreateAction::already_exists : CreateAction::started;
    } else if (auto d = node.host->define_network(xml); !d) {
      return undo(std::move(d).error().context(on("define")));
    } else {
      defined_here.push_back(i);
    }
    if (!existing[i] || !existing[i]->active)
      if (auto s = node.host->start_network(spec.name); !s) return undo(std::move(s).error().context(on("start")));
    if (!existing[i] || !existing[i]->autostart)
      if (auto a = node.host->set_network_autostart(spec.name, true); !a) return undo(std::move(a).error().context(on("autostart")));
    out.push_back(r);
  }
  return out;
}

Result<std::vector<NodeDelete>> delete_network(const std::string& name, const std::vector<Node>& nodes) {
  if (auto v = check_name(name); !v) return std::move(v).error();
  const std::string who = fmt::format("network '{}'", name);
  std::vector<bool> has;
  std::vector<std::string> users;
  for (const auto& node : nodes) {
    auto nets = node.host->networks();
    if (!nets) return std::move(nets).error().context(fmt::format("list networks on {}", node.label));
    has.push_back(find(*nets, name) != nullptr);
    auto u = users_of(*node.host, name);
    if (!u) return std::move(u).error().context(fmt::format("list domains on {}", node.label));
    for (auto& d : *u) users.push_back(fmt::format("{} on {}", d, node.label));
  }
  if (!users.empty())
    return make_error(Errc::invalid_argument, "{} is in use by {}: remove their interfaces on it first", who, fmt::join(users, ", "));
  bool any = false;
  for (bool h : has) any = any || h;
  if (!any) return make_error(Errc::not_found, "{} is defined on none of {} node(s)", who, nodes.size());
  std::vector<NodeDelete> out;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    out.push_back({nodes[i].label, has[i]});
    if (!has[i]) continue;
    if (auto s = nodes[i].host->stop_network(name); !s) return std::move(s).error().context(fmt::format("stop {} on {}", who, nodes[i].label));
    if (auto u = nodes[i].host->undefine_network(name); !u && u.error().code() != Errc::not_found)
      return std::move(u).error().context(fmt::format("undefine {} on {}", who, nodes[i].label));
  }
  return out;
}

Result<std::vector<InterfaceUse>> domain_interfaces(std::string_view xml) {
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed)
    return make_error(Errc::invalid_config, "the domain XML is not XML: {} at offset {}", parsed.description(), parsed.offset);
  const auto domain = doc.child("domain");
  if (!domain) return Error(Errc::invalid_config, "the domain XML has no <domain>");
  std::vector<InterfaceUse> out;
  for (auto i : domain.child("devices").children("interface")) {
    const std::string type = i.attribute("type").as_string();
    InterfaceUse u;
    u.mac = i.child("mac").attribute("address").as_string();
    if (type == "network") {
      u.type = InterfaceUse::Type::network;
      u.source = i.child("source").attribute("network").as_string();
    } else if (type == "bridge") {
      u.type = InterfaceUse::Type::bridge;
      u.source = i.child("source").attribute("bridge").as_string();
    } else {
      continue;  // user, direct, ethernet...: no libvirt network or host bridge to look for
    }
    if (u.source.empty())
      return make_error(Errc::invalid_config, "an <interface type='{}'> has no <source {}='...'>", type, type);
    out.push_back(std::move(u));
  }
  return out;
}

std::string domain_name(std::string_view xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return {};
  return doc.child("domain").child("name").text().as_string();
}

std::optional<std::string> bridge_of_interface(std::string_view xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return std::nullopt;
  const auto i = doc.child("interface");
  if (std::string_view(i.attribute("type").as_string()) != "bridge" || !i.attribute("name")) return std::nullopt;
  return std::string(i.attribute("name").as_string());
}

std::vector<NetworkAcross> list_across(const std::vector<NodeListing>& listings) {
  std::map<std::string, NetworkAcross> by_name;
  for (const auto& l : listings)
    for (const auto& n : l.networks) by_name[n.name].name = n.name;
  std::vector<NetworkAcross> out;
  for (auto& [name, across] : by_name) {
    const NodeNetwork* reference = nullptr;
    for (const auto& l : listings) {
      NodeNetwork nn{l.node};
      if (const NetworkInfo* n = find(l.networks, name)) {
        nn.defined = true;
        nn.active = n->active;
        nn.autostart = n->autostart;
        if (auto s = parse_xml(n->xml)) nn.spec = std::move(*s);
        else across.problems.push_back(fmt::format("unreadable on {}: {}", l.node, s.error().message()));
      }
      across.nodes.push_back(std::move(nn));
    }
    for (const auto& nn : across.nodes) {
      if (!nn.defined) {
        across.problems.push_back(fmt::format("missing on {}", nn.node));
        continue;
      }
      if (!nn.active) across.problems.push_back(fmt::format("inactive on {}", nn.node));
      if (!nn.spec) continue;
      if (!reference) {
        reference = &nn;
        continue;
      }
      const auto diffs = compare(*reference->spec, *nn.spec);
      if (!diffs.empty())
        across.problems.push_back(fmt::format("differs on {}: {}", nn.node, describe(diffs, reference->node, nn.node)));
    }
    across.identical = across.problems.empty();
    out.push_back(std::move(across));
  }
  return out;
}

}  // namespace evos::network
