#include <evos/net/detail.hpp>
#include <evos/text_checks.hpp>

#include <charconv>

namespace evos::net {
namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const auto end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

template <class T>
std::optional<T> number(std::string_view text) {
  T value{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string rtt(const std::optional<Micros>& value) { return value ? std::to_string(value->count()) : "-"; }

// Fields must not contain the separators; anything else is left to the host list's own checks.
bool clean(std::string_view field) {
  return !field.empty() && field.find_first_of(", \"") == std::string_view::npos && !text::text_problem(field, 255);
}

}  // namespace

std::string format_detail(const Detail& d) {
  std::string out = fmt::format("{} {} {}", d.version, d.unix_time, d.score);
  for (const auto& h : d.hosts)
    out += fmt::format(" {},{},{},{},{},{},{},{}", h.host, h.address.empty() ? "-" : h.address, to_string(h.state),
                       h.weight, h.sent, h.received, rtt(h.min_rtt), rtt(h.avg_rtt));
  return out;
}

Result<Detail> parse_detail(std::string_view line) {
  auto bad = [&](std::string_view why) {
    return make_error(Errc::invalid_argument, "not a test-IP detail line ({}): {}", why, text::quote_for_message(line));
  };
  const auto fields = split(line, ' ');
  if (fields.size() < 3) return bad("too few fields");
  Detail d;
  const auto version = number<int>(fields[0]);
  if (!version || *version != 1) return bad("unknown version");
  const auto when = number<std::int64_t>(fields[1]);
  const auto score = number<std::uint64_t>(fields[2]);
  if (!when || !score) return bad("bad time or score");
  d.unix_time = *when;
  d.score = *score;
  for (std::size_t i = 3; i < fields.size(); ++i) {
    const auto parts = split(fields[i], ',');
    if (parts.size() != 8) return bad("a host has not 8 fields");
    HostResult h;
    if (!clean(parts[0]) || !clean(parts[1])) return bad("bad host or address");
    h.host = std::string(parts[0]);
    h.address = parts[1] == "-" ? std::string() : std::string(parts[1]);
    const auto state = parse_probe_state(parts[2]);
    const auto weight = number<std::uint32_t>(parts[3]);
    const auto sent = number<unsigned>(parts[4]);
    const auto received = number<unsigned>(parts[5]);
    if (!state || !weight || !sent || !received) return bad("bad state or counter");
    h.state = *state;
    h.weight = *weight;
    h.sent = *sent;
    h.received = *received;
    for (auto [field, target] : {std::pair{parts[6], &h.min_rtt}, std::pair{parts[7], &h.avg_rtt}}) {
      if (field == "-") continue;
      const auto us = number<std::int64_t>(field);
      if (!us) return bad("bad round-trip time");
      *target = Micros(*us);
    }
    d.hosts.push_back(std::move(h));
  }
  return d;
}

}  // namespace evos::net
