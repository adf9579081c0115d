#include <evos/net/host_list.hpp>
#include <evos/net/ping_state.hpp>

namespace evos::net {

namespace {
constexpr std::string_view header = "evos-ping-state 1";
}

std::string format_state(const PingState& state) {
  std::string out(header);
  out += '\n';
  for (const auto& [host, address] : state.addresses) out += fmt::format("address {} {}\n", host, address);
  if (!state.detail.empty()) out += fmt::format("detail {}\n", state.detail);
  return out;
}

Result<PingState> parse_state(std::string_view text) {
  PingState state;
  std::size_t start = 0;
  bool first = true;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (first) {
      if (line != header) return make_error(Errc::invalid_argument, "not an evos-ping state file");
      first = false;
      continue;
    }
    if (line.starts_with("address ")) {
      const std::string_view rest = line.substr(8);
      const auto space = rest.find(' ');
      if (space == std::string_view::npos) return make_error(Errc::invalid_argument, "damaged address line");
      const std::string_view host = rest.substr(0, space), address = rest.substr(space + 1);
      // Only what a host list could contain, and an address literal: a damaged file must not
      // make the agent probe something else.
      if (!parse_host_list(host) || literal_family(address) == Family::any)
        return make_error(Errc::invalid_argument, "damaged address line");
      state.addresses.emplace(host, address);
    } else if (line.starts_with("detail ")) {
      state.detail = std::string(line.substr(7));
    } else if (!line.empty()) {
      return make_error(Errc::invalid_argument, "unknown line in state file");
    }
  }
  if (first) return make_error(Errc::invalid_argument, "empty state file");
  return state;
}

}  // namespace evos::net
