#include <evos/network/spec.hpp>

#include <fmt/format.h>
#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <sstream>

namespace evos::network {
namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

std::uint32_t mask_of(int prefix) { return prefix <= 0 ? 0u : ~std::uint32_t{0} << (32 - prefix); }

struct Subnet {
  std::uint32_t network = 0;
  std::uint32_t broadcast = 0;
  [[nodiscard]] bool contains(std::uint32_t a) const { return a >= network && a <= broadcast; }
};

Subnet subnet_of(std::uint32_t address, int prefix) {
  const std::uint32_t m = mask_of(prefix);
  return {address & m, (address & m) | ~m};
}

std::string cidr_text(std::uint32_t network, int prefix) { return fmt::format("{}/{}", format_ipv4(network), prefix); }

Result<std::uint32_t> address_arg(std::string_view text, std::string_view what) {
  auto a = parse_ipv4(text);
  if (!a) return make_error(Errc::invalid_argument, "{} '{}' is not an IPv4 address (a.b.c.d)", what, text);
  return *a;
}

// The netmask libvirt may write instead of a prefix: contiguous ones only.
std::optional<int> prefix_of_netmask(std::string_view text) {
  auto m = parse_ipv4(text);
  if (!m) return std::nullopt;
  for (int p = 0; p <= 32; ++p)
    if (mask_of(p) == *m) return p;
  return std::nullopt;
}

std::string range_text(const NetworkSpec& s) {
  return s.dhcp_start.empty() ? std::string() : fmt::format("{}-{}", s.dhcp_start, s.dhcp_end);
}

}  // namespace

std::string_view to_string(Kind k) {
  switch (k) {
    case Kind::nat: return "nat";
    case Kind::bridge: return "bridge";
    case Kind::other: return "other";
  }
  return "other";
}

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  std::uint32_t out = 0;
  std::size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= text.size() || text[pos] != '.') return std::nullopt;
      ++pos;
    }
    std::size_t end = pos;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    if (end == pos || end - pos > 3) return std::nullopt;
    if (end - pos > 1 && text[pos] == '0') return std::nullopt;  // 010: octal to some parsers
    unsigned v = 0;
    std::from_chars(text.data() + pos, text.data() + end, v);
    if (v > 255) return std::nullopt;
    out = (out << 8) | v;
    pos = end;
  }
  if (pos != text.size()) return std::nullopt;
  return out;
}

std::string format_ipv4(std::uint32_t a) {
  return fmt::format("{}.{}.{}.{}", (a >> 24) & 255, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

Result<void> check_name(std::string_view name) {
  if (name.empty()) return Error(Errc::invalid_argument, "a network name is empty");
  if (name.size() > 64) return make_error(Errc::invalid_argument, "network name '{}' is longer than 64 characters", name);
  if (name.front() == '.' || name.front() == '-')
    return make_error(Errc::invalid_argument, "network name '{}' starts with '{}'", name, name.front());
  if (!std::all_of(name.begin(), name.end(), name_char))
    return make_error(Errc::invalid_argument, "network name '{}' holds a character other than A-Z a-z 0-9 . _ -", name);
  return {};
}

Result<void> check_bridge_name(std::string_view name) {
  if (name.empty()) return Error(Errc::invalid_argument, "a bridge name is empty");
  if (name.size() > 15)
    return make_error(Errc::invalid_argument, "bridge name '{}' is longer than 15 characters (Linux IFNAMSIZ)", name);
  if (name == "." || name == ".." || !std::all_of(name.begin(), name.end(), name_char))
    return make_error(Errc::invalid_argument, "bridge name '{}' is not an interface name (A-Z a-z 0-9 . _ -)", name);
  return {};
}

Result<std::string> canonical_mac(std::string_view text) {
  auto bad = [&] { return make_error(Errc::invalid_argument, "'{}' is not a MAC address (xx:xx:xx:xx:xx:xx)", text); };
  if (text.size() != 17) return bad();
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    char& c = out[i];
    if (i % 3 == 2) {
      if (c != ':') return bad();
      continue;
    }
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return bad();
  }
  unsigned first = 0;
  std::from_chars(out.data(), out.data() + 2, first, 16);
  if (first & 1u) return make_error(Errc::invalid_argument, "MAC address '{}' is a multicast address, not a NIC's", text);
  return out;
}

std::string gateway_mac(std::string_view name) {
  std::uint32_t h = 2166136261u;  // FNV-1a: stable across builds and hosts
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  return fmt::format("52:54:00:{:02x}:{:02x}:{:02x}", (h >> 16) & 255, (h >> 8) & 255, h & 255);
}

Result<NetworkSpec> nat_spec(const NatRequest& r) {
  NetworkSpec s;
  s.name = r.name;
  s.kind = Kind::nat;
  s.forward_mode = "nat";
  s.mac = gateway_mac(r.name);
  const auto slash = r.cidr.find('/');
  if (slash == std::string::npos)
    return make_error(Errc::invalid_argument, "--nat '{}': give the gateway's address with its prefix, e.g. 192.168.100.1/24",
                      r.cidr);
  auto gw = address_arg(std::string_view(r.cidr).substr(0, slash), "--nat address");
  if (!gw) return std::move(gw).error();
  const std::string_view pfx = std::string_view(r.cidr).substr(slash + 1);
  int prefix = -1;
  if (pfx.empty() || pfx.size() > 2 || std::from_chars(pfx.data(), pfx.data() + pfx.size(), prefix).ptr != pfx.data() + pfx.size())
    return make_error(Errc::invalid_argument, "--nat '{}': prefix '{}' is not a number", r.cidr, pfx);
  s.address = format_ipv4(*gw);
  s.prefix = prefix;
  if (prefix < 8 || prefix > 30)  // validate() says it too; here the range below needs it
    return make_error(Errc::invalid_argument, "--nat '{}': prefix /{} is outside 8-30", r.cidr, prefix);
  const Subnet net = subnet_of(*gw, prefix);
  if (!r.dhcp_range) {
    // The upper half of the hosts, so the lower half stays for static addresses.
    const std::uint32_t first = net.network + 1, last = net.broadcast - 1;
    std::uint32_t start = first + (last - first + 1) / 2;
    std::uint32_t end = last;
    if (*gw >= start && *gw <= end) {
      if (*gw == end) --end; else start = *gw + 1;
    }
    s.dhcp_start = format_ipv4(start);
    s.dhcp_end = format_ipv4(end);
  } else if (*r.dhcp_range != "none") {
    const auto dash = r.dhcp_range->find('-');
    if (dash == std::string::npos)
      return make_error(Errc::invalid_argument, "--dhcp-range '{}': give FIRST-LAST (or none)", *r.dhcp_range);
    auto a = address_arg(std::string_view(*r.dhcp_range).substr(0, dash), "--dhcp-range start");
    if (!a) return std::move(a).error();
    auto b = address_arg(std::string_view(*r.dhcp_range).substr(dash + 1), "--dhcp-range end");
    if (!b) return std::move(b).error();
    s.dhcp_start = format_ipv4(*a);
    s.dhcp_end = format_ipv4(*b);
  }
  for (const auto& h : r.hosts) {
    const auto eq = h.find('=');
    if (eq == std::string::npos) return make_error(Errc::invalid_argument, "--host '{}': give MAC=IP", h);
    auto mac = canonical_mac(std::string_view(h).substr(0, eq));
    if (!mac) return std::move(mac).error().context(fmt::format("--host '{}'", h));
    auto ip = address_arg(std::string_view(h).substr(eq + 1), fmt::format("--host '{}': address", h));
    if (!ip) return std::move(ip).error();
    s.hosts.push_back({*mac, format_ipv4(*ip)});
  }
  std::sort(s.hosts.begin(), s.hosts.end(), [](const auto& x, const auto& y) { return x.mac < y.mac; });
  if (auto v = validate(s); !v) return std::move(v).error();
  return s;
}

Result<NetworkSpec> bridge_spec(std::string_view name, std::string_view bridge) {
  NetworkSpec s;
  s.name = std::string(name);
  s.kind = Kind::bridge;
  s.forward_mode = "bridge";
  s.bridge = std::string(bridge);
  if (auto v = validate(s); !v) return std::move(v).error();
  return s;
}

Result<void> validate(const NetworkSpec& s) {
  if (auto r = check_name(s.name); !r) return r;
  const std::string who = fmt::format("network '{}'", s.name);
  if (s.kind == Kind::other)
    return make_error(Errc::invalid_argument, "{}: evos creates nat and bridge networks only, not '{}'", who,
                      s.forward_mode.empty() ? "isolated" : s.forward_mode);
  if (s.kind == Kind::bridge) {
    if (auto r = check_bridge_name(s.bridge); !r) return std::move(r).error().context(who);
    if (!s.address.empty() || !s.mac.empty() || !s.dhcp_start.empty() || !s.hosts.empty())
      return make_error(Errc::invalid_argument, "{}: a bridge network has no addresses or DHCP of its own (the LAN's are used)", who);
    return {};
  }
  if (!s.mac.empty())
    if (auto m = canonical_mac(s.mac); !m) return std::move(m).error().context(fmt::format("{}: gateway MAC", who));
  auto gw = address_arg(s.address, "gateway address");
  if (!gw) return std::move(gw).error().context(who);
  if (s.prefix < 8 || s.prefix > 30)
    return make_error(Errc::invalid_argument, "{}: prefix /{} is outside 8-30", who, s.prefix);
  const Subnet net = subnet_of(*gw, s.prefix);
  const std::string cidr = cidr_text(net.network, s.prefix);
  if (*gw == net.network || *gw == net.broadcast)
    return make_error(Errc::invalid_argument, "{}: gateway {} is the {} address of {}", who, s.address,
                      *gw == net.network ? "network" : "broadcast", cidr);
  auto usable = [&](std::uint32_t a, std::string_view what, std::string_view text) -> Result<void> {
    if (!net.contains(a)) return make_error(Errc::invalid_argument, "{}: {} {} is outside {}", who, what, text, cidr);
    if (a == net.network || a == net.broadcast)
      return make_error(Errc::invalid_argument, "{}: {} {} is the {} address of {}", who, what, text,
                        a == net.network ? "network" : "broadcast", cidr);
    if (a == *gw) return make_error(Errc::invalid_argument, "{}: {} {} is the gateway", who, what, text);
    return {};
  };
  std::optional<std::pair<std::uint32_t, std::uint32_t>> range;
  if (!s.dhcp_start.empty() || !s.dhcp_end.empty()) {
    auto a = address_arg(s.dhcp_start, "DHCP range start");
    if (!a) return std::move(a).error().context(who);
    auto b = address_arg(s.dhcp_end, "DHCP range end");
    if (!b) return std::move(b).error().context(who);
    if (auto r = usable(*a, "DHCP range start", s.dhcp_start); !r) return r;
    if (auto r = usable(*b, "DHCP range end", s.dhcp_end); !r) return r;
    if (*a > *b) return make_error(Errc::invalid_argument, "{}: DHCP range {}-{} ends before it starts", who, s.dhcp_start, s.dhcp_end);
    if (*gw > *a && *gw < *b)
      return make_error(Errc::invalid_argument, "{}: DHCP range {}-{} holds the gateway {}", who, s.dhcp_start, s.dhcp_end, s.address);
    range = std::pair(*a, *b);
  }
  std::set<std::string> macs;
  std::set<std::uint32_t> ips;
  for (const auto& h : s.hosts) {
    auto mac = canonical_mac(h.mac);
    if (!mac) return std::move(mac).error().context(who);
    auto ip = address_arg(h.ip, fmt::format("static host {}: address", h.mac));
    if (!ip) return std::move(ip).error().context(who);
    if (auto r = usable(*ip, fmt::format("static host {}: address", h.mac), h.ip); !r) return r;
    if (range && *ip >= range->first && *ip <= range->second)
      return make_error(Errc::invalid_argument, "{}: static host {}: address {} is inside the DHCP range {}-{} (dnsmasq could give it to another guest)",
                        who, h.mac, h.ip, s.dhcp_start, s.dhcp_end);
    if (!macs.insert(*mac).second) return make_error(Errc::invalid_argument, "{}: static host {} is given twice", who, h.mac);
    if (!ips.insert(*ip).second) return make_error(Errc::invalid_argument, "{}: address {} is given to two static hosts", who, h.ip);
  }
  if (!s.hosts.empty() && !range)
    return make_error(Errc::invalid_argument, "{}: static hosts need DHCP (a --dhcp-range other than none)", who);
  return {};
}

bool subnets_overlap(const NetworkSpec& a, const NetworkSpec& b) {
  auto ga = parse_ipv4(a.address), gb = parse_ipv4(b.address);
  if (!ga || !gb || a.prefix <= 0 || b.prefix <= 0) return false;
  const Subnet x = subnet_of(*ga, a.prefix), y = subnet_of(*gb, b.prefix);
  return x.network <= y.broadcast && y.network <= x.broadcast;
}

std::string to_xml(const NetworkSpec& s) {
  pugi::xml_document doc;
  auto net = doc.append_child("network");
  net.append_child("name").text().set(s.name.c_str());
  if (!s.forward_mode.empty()) net.append_child("forward").append_attribute("mode") = s.forward_mode.c_str();
  if (!s.bridge.empty()) net.append_child("bridge").append_attribute("name") = s.bridge.c_str();
  if (s.kind == Kind::nat) {
    // No STP on a NAT network's bridge: it has only the guests' tap devices, no uplink that could
    // make a loop, and with STP on the kernel holds every new port (a migrated guest's tap on
    // the destination) in listening and learning for at least 2 s each before it forwards.
    auto br = net.append_child("bridge");
    br.append_attribute("stp") = "off";
    br.append_attribute("delay") = "0";
  }
  if (!s.mac.empty()) net.append_child("mac").append_attribute("address") = s.mac.c_str();
  if (!s.address.empty()) {
    auto ip = net.append_child("ip");
    ip.append_attribute("address") = s.address.c_str();
    ip.append_attribute("prefix") = s.prefix;
    if (!s.dhcp_start.empty() || !s.hosts.empty()) {
      auto dhcp = ip.append_child("dhcp");
      if (!s.dhcp_start.empty()) {
        auto range = dhcp.append_child("range");
        range.append_attribute("start") = s.dhcp_start.c_str();
        range.append_attribute("end") = s.dhcp_end.c_str();
      }
      for (const auto& h : s.hosts) {
        auto host = dhcp.append_child("host");
        host.append_attribute("mac") = h.mac.c_str();
        host.append_attribute("ip") = h.ip.c_str();
      }
    }
  }
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default | pugi::format_no_declaration);
  return out.str();
}

Result<NetworkSpec> parse_xml(std::string_view xml) {
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed)
    return make_error(Errc::invalid_config, "the network XML is not XML: {} at offset {}", parsed.description(), parsed.offset);
  const auto net = doc.child("network");
  if (!net) return Error(Errc::invalid_config, "the network XML has no <network>");
  NetworkSpec s;
  s.name = net.child("name").text().as_string();
  if (s.name.empty()) return Error(Errc::invalid_config, "the network XML has no <name>");
  const auto forward = net.child("forward");
  s.forward_mode = forward ? forward.attribute("mode").as_string("nat") : "";  // formatnetwork: mode defaults to nat
  s.kind = s.forward_mode == "nat" ? Kind::nat : s.forward_mode == "bridge" ? Kind::bridge : Kind::other;
  // A nat network's bridge is chosen by each host's libvirtd (virbrN): not part of the definition.
  if (s.kind != Kind::nat) s.bridge = net.child("bridge").attribute("name").as_string();
  s.mac = net.child("mac").attribute("address").as_string();
  if (auto m = canonical_mac(s.mac)) s.mac = *m;
  for (auto ip : net.children("ip")) {
    const std::string family = ip.attribute("family").as_string("ipv4");
    if (family != "ipv4") continue;
    s.address = ip.attribute("address").as_string();
    if (ip.attribute("prefix")) {
      s.prefix = ip.attribute("prefix").as_int();
    } else if (ip.attribute("netmask")) {
      auto p = prefix_of_netmask(ip.attribute("netmask").as_string());
      if (!p) return make_error(Errc::invalid_config, "network '{}': netmask '{}' is not a netmask", s.name, ip.attribute("netmask").as_string());
      s.prefix = *p;
    } else if (auto a = parse_ipv4(s.address)) {
      // formatnetwork.html: without either, the classful default.
      const unsigned top = *a >> 24;
      s.prefix = top < 128 ? 8 : top < 192 ? 16 : 24;
    }
    const auto dhcp = ip.child("dhcp");
    if (const auto range = dhcp.child("range")) {
      s.dhcp_start = range.attribute("start").as_string();
      s.dhcp_end = range.attribute("end").as_string();
    }
    for (auto h : dhcp.children("host")) {
      std::string mac = h.attribute("mac").as_string();
      if (auto c = canonical_mac(mac)) mac = *c;
      s.hosts.push_back({mac, h.attribute("ip").as_string()});
    }
    break;  // evos writes one IPv4 <ip>; a second one is not compared
  }
  std::sort(s.hosts.begin(), s.hosts.end(), [](const auto& x, const auto& y) { return x.mac < y.mac; });
  return s;
}

std::vector<Difference> compare(const NetworkSpec& a, const NetworkSpec& b) {
  std::vector<Difference> d;
  auto field = [&](std::string what, const std::string& x, const std::string& y) {
    if (x != y) d.push_back({std::move(what), x, y});
  };
  auto cidr = [](const NetworkSpec& s) { return s.address.empty() ? std::string() : fmt::format("{}/{}", s.address, s.prefix); };
  field("name", a.name, b.name);
  field("forward mode", a.forward_mode.empty() ? "none" : a.forward_mode, b.forward_mode.empty() ? "none" : b.forward_mode);
  field("bridge", a.bridge, b.bridge);
  field("gateway MAC", a.mac, b.mac);
  field("address", cidr(a), cidr(b));
  field("DHCP range", range_text(a), range_text(b));
  std::map<std::string, std::string> ha, hb;
  for (const auto& h : a.hosts) ha[h.mac] = h.ip;
  for (const auto& h : b.hosts) hb[h.mac] = h.ip;
  std::set<std::string> macs;
  for (const auto& [m, ip] : ha) macs.insert(m);
  for (const auto& [m, ip] : hb) macs.insert(m);
  for (const auto& m : macs) {
    const auto x = ha.find(m), y = hb.find(m);
    field("static host " + m, x == ha.end() ? "" : x->second, y == hb.end() ? "" : y->second);
  }
  return d;
}

std::string describe(const std::vector<Difference>& diffs, std::string_view la, std::string_view lb) {
  std::string out;
  for (const auto& x : diffs) {
    if (!out.empty()) out += "; ";
    out += fmt::format("{}: {} on {}, {} on {}", x.what, x.a.empty() ? "none" : x.a, la, x.b.empty() ? "none" : x.b, lb);
  }
  return out;
}

std::string summary(const NetworkSpec& s) {
  switch (s.kind) {
    case Kind::bridge: return fmt::format("bridge {}", s.bridge);
    case Kind::nat: {
      std::string out = fmt::format("nat {}/{}", s.address, s.prefix);
      out += s.dhcp_start.empty() ? ", no DHCP" : fmt::format(", DHCP {}", range_text(s));
      if (!s.hosts.empty()) out += fmt::format(", {} static host{}", s.hosts.size(), s.hosts.size() == 1 ? "" : "s");
      return out;
    }
    case Kind::other: break;
  }
  std::string out = s.forward_mode.empty() ? "isolated" : s.forward_mode;
  if (!s.bridge.empty()) out += " bridge " + s.bridge;
  if (!s.address.empty()) out += fmt::format(" {}/{}", s.address, s.prefix);
  return out;
}

}  // namespace evos::network
