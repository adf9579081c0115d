#include <evos/drbd/control.hpp>
#include <evos/drbd/mirror_config.hpp>
#include <evos/text_checks.hpp>

#include <arpa/inet.h>
#include <fmt/core.h>

#include <charconv>

namespace evos::drbd {
namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// RFC 1123 host names as `uname -n` prints them (HOST_NAME_MAX is 64).
std::optional<std::string> host_name_problem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > 64) return fmt::format("is {} bytes long; the limit is 64", name.size());
  if (!is_alnum(name.front()) || !is_alnum(name.back())) return "must start and end with a letter or digit";
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!is_alnum(c) && c != '-' && c != '.')
      return fmt::format("has character {} at position {}; a host name has letters, digits, '-', '.'",
                         text::quote_for_message(name.substr(i, 1)), i + 1);
  }
  return std::nullopt;
}

// Handler words end up in a /bin/sh command line: only path characters, never empty.
std::optional<std::string> handler_problem(const Handler& handler) {
  if (auto p = text::syntax_problem(handler.path, text::Syntax::path)) return fmt::format("path {}", *p);
  for (const auto& arg : handler.args) {
    if (arg.empty()) return "has an empty argument";
    if (arg.size() > 256) return "has an argument longer than 256 bytes";
    for (std::size_t i = 0; i < arg.size(); ++i) {
      const char c = arg[i];
      if (!is_alnum(c) && std::string_view("._/+@:,=-").find(c) == std::string_view::npos)
        return fmt::format("argument {} has character {}, which a shell could misread", text::quote_for_message(arg),
                           text::quote_for_message(arg.substr(i, 1)));
    }
  }
  return std::nullopt;
}

std::optional<std::string> policy_problem(std::string_view value, std::initializer_list<std::string_view> allowed) {
  for (auto a : allowed)
    if (a == value) return std::nullopt;
  std::string list;
  for (auto a : allowed) list += fmt::format("{}{}", list.empty() ? "" : ", ", a);
  return fmt::format("{} is not one of {}", text::quote_for_message(value), list);
}

// A kernel crypto API hash name as DRBD takes it ("sha256", "crc32c", "blake2b-256").
std::optional<std::string> hash_name_problem(std::string_view name) {
  if (name.empty()) return std::string("is empty");
  if (name.size() > 63) return fmt::format("is {} bytes long; the limit is 63", name.size());
  if (!(name.front() >= 'a' && name.front() <= 'z')) return fmt::format("{} must start with a lowercase letter", text::quote_for_message(name));
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return fmt::format("{} is not a kernel hash name (lowercase letters, digits, '-')", text::quote_for_message(name));
  return std::nullopt;
}

std::string render_handler(const Handler& handler) {
  std::string out = handler.path;
  for (const auto& arg : handler.args) out += " " + arg;
  return out;
}

}  // namespace

Result<Address> parse_address(std::string_view text) {
  Address address;
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return make_error(Errc::invalid_config, "address {} has no closing ']'", text::quote_for_message(text));
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return make_error(Errc::invalid_config, "address {} has no ':port' after the IPv6 address", text::quote_for_message(text));
    port = text.substr(close + 2);
    address.ipv6 = true;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return make_error(Errc::invalid_config, "address {} has no ':port'", text::quote_for_message(text));
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return make_error(Errc::invalid_config, "address {}: write an IPv6 address in brackets, [addr]:port",
                        text::quote_for_message(text));
  }
  unsigned char buffer[16];
  const std::string host_z(host);
  if (inet_pton(address.ipv6 ? AF_INET6 : AF_INET, host_z.c_str(), buffer) != 1)
    return make_error(Errc::invalid_config, "address {}: {} is not a numeric IPv{} address", text::quote_for_message(text),
                      text::quote_for_message(host), address.ipv6 ? 6 : 4);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
    return make_error(Errc::invalid_config, "address {}: port {} is not a number in 1..65535", text::quote_for_message(text),
                      text::quote_for_message(port));
  address.ip = host_z;
  address.port = static_cast<std::uint16_t>(value);
  return address;
}

std::string render_address(const Address& address) {
  if (address.ipv6) return fmt::format("ipv6 [{}]:{}", address.ip, address.port);
  return fmt::format("ipv4 {}:{}", address.ip, address.port);
}

Result<void> validate(const Mirror& m) {
  auto fail = [&](std::string what) {
    return Error(Errc::invalid_config, fmt::format("mirror {}: {}", text::quote_for_message(m.resource), what));
  };
  if (auto p = resource_name_problem(m.resource)) return fail(fmt::format("resource name {}", *p));
  if (m.minor < 0 || m.minor > max_minor) return fail(fmt::format("minor {} is outside 0..{}", m.minor, max_minor));
  std::array<Address, 2> addresses;
  for (std::size_t i = 0; i < m.hosts.size(); ++i) {
    const Host& h = m.hosts[i];
    const std::string which = fmt::format("host {}", i + 1);
    if (auto p = host_name_problem(h.name)) return fail(fmt::format("{} name {}", which, *p));
    const std::string who = fmt::format("host '{}'", h.name);
    if (h.node_id < 0 || h.node_id > max_node_id)
      return fail(fmt::format("{}: node id {} is outside 0..{}", who, h.node_id, max_node_id));
    auto address = parse_address(h.address);
    if (!address) return fail(fmt::format("{}: {}", who, address.error().message()));
    addresses[i] = *address;
    if (auto p = text::syntax_problem(h.disk, text::Syntax::path)) return fail(fmt::format("{}: disk {}", who, *p));
    if (h.disk.rfind("/dev/drbd", 0) == 0) return fail(fmt::format("{}: disk {} is a DRBD device itself", who, h.disk));
    if (h.meta_disk != "internal") {
      if (auto p = text::syntax_problem(h.meta_disk, text::Syntax::path))
        return fail(fmt::format("{}: meta-disk is neither 'internal' nor an absolute path: {}", who, *p));
    }
  }
  if (m.hosts[0].name == m.hosts[1].name) return fail(fmt::format("both hosts are named '{}'", m.hosts[0].name));
  if (m.hosts[0].node_id == m.hosts[1].node_id) return fail(fmt::format("both hosts have node id {}", m.hosts[0].node_id));
  if (addresses[0].ipv6 != addresses[1].ipv6) return fail("one host has an IPv4 and the other an IPv6 address");
  if (addresses[0] == addresses[1]) return fail(fmt::format("both hosts have address {}", m.hosts[0].address));
  if (auto p = policy_problem(m.split_brain_policy.after_sb_0pri,
                              {"disconnect", "discard-younger-primary", "discard-older-primary", "discard-zero-changes",
                               "discard-least-changes"}))
    return fail(fmt::format("after-sb-0pri {}", *p));
  if (auto p = policy_problem(m.split_brain_policy.after_sb_1pri,
                              {"disconnect", "consensus", "discard-secondary", "call-pri-lost-after-sb"}))
    return fail(fmt::format("after-sb-1pri {}", *p));
  if (auto p = policy_problem(m.split_brain_policy.after_sb_2pri, {"disconnect", "call-pri-lost-after-sb"}))
    return fail(fmt::format("after-sb-2pri {}", *p));
  if (auto p = hash_name_problem(m.verify_alg)) return fail(fmt::format("verify-alg {}", *p));
  if (auto p = handler_problem(m.fence_peer)) return fail(fmt::format("fence-peer handler {}", *p));
  if (auto p = handler_problem(m.unfence_peer)) return fail(fmt::format("unfence-peer handler {}", *p));
  if (m.split_brain_notify) {
    if (auto p = handler_problem(*m.split_brain_notify)) return fail(fmt::format("split-brain handler {}", *p));
  }
  return {};
}

Result<std::string> render_res(const Mirror& m) {
  if (auto ok = validate(m); !ok) return ok.error();
  std::string out;
  auto line = [&](std::string_view text) {
    out += text;
    out += '\n';
  };
  line(fmt::format("# DRBD resource for the evos mirror '{}'. Generated by evos; edits are overwritten.", m.resource));
  line(fmt::format("resource \"{}\" {{", m.resource));
  line("  options {");
  line("    auto-promote no;");
  line("  }");
  line("  net {");
  line("    protocol C;");
  line("    fencing resource-and-stonith;");
  line(fmt::format("    allow-two-primaries {};", m.allow_two_primaries ? "yes" : "no"));
  line(fmt::format("    after-sb-0pri {};", m.split_brain_policy.after_sb_0pri));
  line(fmt::format("    after-sb-1pri {};", m.split_brain_policy.after_sb_1pri));
  line(fmt::format("    after-sb-2pri {};", m.split_brain_policy.after_sb_2pri));
  line("    rr-conflict disconnect;");
  line(fmt::format("    verify-alg {};", m.verify_alg));
  line("  }");
  line("  disk {");
  line("    on-io-error detach;");
  line("  }");
  line("  handlers {");
  line(fmt::format("    fence-peer \"{}\";", render_handler(m.fence_peer)));
  line(fmt::format("    unfence-peer \"{}\";", render_handler(m.unfence_peer)));
  if (m.split_brain_notify) line(fmt::format("    split-brain \"{}\";", render_handler(*m.split_brain_notify)));
  line("  }");
  for (const Host& h : m.hosts) {
    line(fmt::format("  on \"{}\" {{", h.name));
    line(fmt::format("    node-id {};", h.node_id));
    line("    volume 0 {");
    line(fmt::format("      device minor {};", m.minor));
    line(fmt::format("      disk \"{}\";", h.disk));
    line(h.meta_disk == "internal" ? std::string("      meta-disk internal;")
                                   : fmt::format("      meta-disk \"{}\";", h.meta_disk));
    line("    }");
    line(fmt::format("    address {};", render_address(*parse_address(h.address))));
    line("  }");
  }
  line("  connection-mesh {");
  line(fmt::format("    hosts \"{}\" \"{}\";", m.hosts[0].name, m.hosts[1].name));
  line("  }");
  line("}");
  return out;
}

}  // namespace evos::drbd
