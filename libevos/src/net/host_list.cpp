#include <evos/net/host_list.hpp>
#include <evos/text_checks.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <set>

namespace evos::net {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// An interface name as a zone id (IFNAMSIZ is 16 with the terminating NUL).
bool valid_zone(std::string_view zone) {
  return !zone.empty() && zone.size() <= 15 &&
         std::all_of(zone.begin(), zone.end(), [](char c) { return is_alnum(c) || c == '_' || c == '.' || c == '-'; });
}

// RFC 1123 host names (labels of letters, digits and '-', not at either end, at most 63 bytes;
// 253 in all), plus '_', which /etc/hosts and many internal zones use.
std::optional<std::string> name_problem(std::string_view name) {
  if (name.size() > 253) return "is longer than 253 bytes";
  std::size_t start = 0;
  const std::string_view body = name.ends_with('.') ? name.substr(0, name.size() - 1) : name;
  while (start <= body.size()) {
    const auto dot = body.find('.', start);
    const std::string_view label = body.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) return "has an empty label";
    if (label.size() > 63) return "has a label longer than 63 bytes";
    if (label.front() == '-' || label.back() == '-') return "has a label that starts or ends with '-'";
    for (char c : label)
      if (!is_alnum(c) && c != '-' && c != '_')
        return fmt::format("has the character {}, which is not allowed in a host name", text::quote_for_message({&c, 1}));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return std::nullopt;
}

Result<HostSpec> parse_entry(std::string_view entry) {
  auto fail = [&](std::string_view why) {
    return make_error(Errc::invalid_config, "entry {} {}", text::quote_for_message(entry), why);
  };
  HostSpec spec;
  std::string_view host = entry;
  if (const auto eq = entry.find('='); eq != std::string_view::npos) {
    host = entry.substr(0, eq);
    const std::string_view weight = entry.substr(eq + 1);
    std::uint32_t w = 0;
    auto [ptr, ec] = std::from_chars(weight.data(), weight.data() + weight.size(), w);
    if (weight.empty() || ec != std::errc() || ptr != weight.data() + weight.size() || w < 1 || w > max_weight)
      return fail(fmt::format("has weight {}; a weight is a whole number from 1 to {}", text::quote_for_message(weight),
                              max_weight));
    spec.weight = w;
  }
  if (host.empty()) return fail("has no host");
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return fail("has an unclosed '['");
    host = host.substr(1, host.size() - 2);
    if (literal_family(host) != Family::ipv6) return fail("has brackets around something that is not an IPv6 address");
  }
  spec.host = std::string(host);
  spec.literal = literal_family(host);
  if (spec.literal != Family::any) return spec;

  if (std::all_of(host.begin(), host.end(), [](char c) { return is_digit(c) || c == '.'; }))
    return fail("is not a valid IPv4 address (four numbers 0-255 separated by dots)");
  if (host.find(':') != std::string_view::npos) {
    const auto colon = host.rfind(':');
    const std::string_view tail = host.substr(colon + 1);
    const bool looks_weighted = !tail.empty() && std::all_of(tail.begin(), tail.end(), is_digit) &&
                                literal_family(host.substr(0, colon)) != Family::ipv6;
    return fail(looks_weighted ? "is not a valid address; a weight is written host=weight (or [IPv6]=weight)"
                               : "is not a valid IPv6 address");
  }
  if (auto problem = name_problem(host)) return fail(*problem);
  // Names compare case-insensitively (DNS); keep them as written but catch duplicates below.
  return spec;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string_view to_string(Family family) noexcept {
  switch (family) {
    case Family::any: return "any";
    case Family::ipv4: return "ipv4";
    case Family::ipv6: return "ipv6";
  }
  return "any";
}

Family literal_family(std::string_view text) {
  if (text.empty() || text.size() > 63) return Family::any;
  unsigned char buf[16];
  const std::string s(text);
  if (::inet_pton(AF_INET, s.c_str(), buf) == 1) return Family::ipv4;
  const auto percent = s.find('%');
  if (percent != std::string::npos && !valid_zone(std::string_view(s).substr(percent + 1))) return Family::any;
  if (::inet_pton(AF_INET6, s.substr(0, percent).c_str(), buf) == 1) return Family::ipv6;
  return Family::any;
}

Result<std::vector<HostSpec>> parse_host_list(std::string_view text) {
  std::vector<HostSpec> hosts;
  std::set<std::string> seen;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    const auto end = std::min(text.find(' ', i), text.size());
    auto spec = parse_entry(text.substr(i, end - i));
    if (!spec) return std::move(spec).error();
    if (!seen.insert(lower(spec->host)).second)
      return make_error(Errc::invalid_config, "lists host {} twice", text::quote_for_message(spec->host));
    if (hosts.size() == max_hosts)
      return make_error(Errc::invalid_config, "has more than {} hosts", max_hosts);
    hosts.push_back(std::move(*spec));
    i = end;
  }
  if (hosts.empty()) return make_error(Errc::invalid_config, "lists no host");
  return hosts;
}

std::string to_entry(const HostSpec& spec) {
  return spec.weight == 1 ? spec.host : fmt::format("{}={}", spec.host, spec.weight);
}

std::string to_host_list(const std::vector<HostSpec>& specs) {
  std::string list;
  for (const auto& spec : specs) list += (list.empty() ? "" : " ") + to_entry(spec);
  return list;
}

}  // namespace evos::net
