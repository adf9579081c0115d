// The test-IP list of ocf:evos:ping: "198.18.1.254 fd00::1=2 [fd00::2]=3 gw.example=2".
//
// Entries are separated by spaces. An entry is a host with an optional weight after '=':
//   host        := IPv4 dotted quad | IPv6 (optionally in [brackets], optionally %zone) | DNS name
//   entry       := host [ '=' weight ]         weight: 1..max_weight, default 1
// '=' is used rather than ':' because ':' is part of every IPv6 address ("fd00::1:2" would be
// ambiguous). Anything made only of digits and dots must be a full dotted quad: getaddrinfo would
// otherwise read "127.1" or "10.1.1" with inet_aton's legacy rules, which is never what was meant.
#pragma once

#include <evos/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace evos::net {

enum class Family { any, ipv4, ipv6 };

std::string_view to_string(Family family) noexcept;

struct HostSpec {
  std::string host;              // as written, without brackets (an address literal or a name)
  std::uint32_t weight = 1;
  Family literal = Family::any;  // the family of an address literal; any for a DNS name

  [[nodiscard]] bool is_name() const { return literal == Family::any; }
  bool operator==(const HostSpec&) const = default;
};

inline constexpr std::size_t max_hosts = 64;
inline constexpr std::uint32_t max_weight = 1000000;

// Errors (Errc::invalid_config) name the entry and say what is wrong with it.
Result<std::vector<HostSpec>> parse_host_list(std::string_view text);

// The family of an address literal, or Family::any if `text` is not one (pure: inet_pton only).
Family literal_family(std::string_view text);

// "fd00::1=2", "198.18.1.1" (the weight only when it is not 1): the canonical entry text.
std::string to_entry(const HostSpec& spec);

// The canonical entries separated by single spaces: a list parse_host_list reads back as `specs`.
std::string to_host_list(const std::vector<HostSpec>& specs);

}  // namespace evos::net
