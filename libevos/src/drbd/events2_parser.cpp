#include <evos/drbd/events2_parser.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>

#include <charconv>
#include <climits>
#include <cmath>

namespace evos::drbd {
namespace {

struct Token {
  std::string_view text;
  std::size_t column;  // 1-based
};

std::vector<Token> split(std::string_view line) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) tokens.push_back({line.substr(start, i - start), start + 1});
  }
  return tokens;
}

Error bad(std::size_t column, std::string what) {
  return Error(Errc::invalid_argument, fmt::format("events2 line, column {}: {}", column, what));
}

// drbdsetup --timestamps: "%04u-%02u-%02uT%02u:%02u:%02u.%06u%+03d:%02u".
bool looks_like_timestamp(std::string_view t) {
  if (t.size() < 19 || t.size() > 40) return false;
  auto digits = [&](std::size_t from, std::size_t n) {
    for (std::size_t k = from; k < from + n; ++k)
      if (t[k] < '0' || t[k] > '9') return false;
    return true;
  };
  if (!digits(0, 4) || t[4] != '-' || !digits(5, 2) || t[7] != '-' || !digits(8, 2) || t[10] != 'T' ||
      !digits(11, 2) || t[13] != ':' || !digits(14, 2) || t[16] != ':' || !digits(17, 2))
    return false;
  for (std::size_t k = 19; k < t.size(); ++k) {
    const char c = t[k];
    if (!((c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-' || c == ':' || c == 'Z')) return false;
  }
  return true;
}

bool is_key(std::string_view key) {
  if (key.empty() || key.size() > 64) return false;
  for (char c : key)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '/'))
      return false;
  return true;
}

template <class T>
std::optional<T> parse_int(std::string_view text) {
  T value{};
  if (text.empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_double(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text == "nan" || text == "-nan") return std::nan("");
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

enum class YesNo { yes, no, unknown, invalid };

YesNo parse_yes_no(std::string_view text, bool allow_unknown) {
  if (text == "yes") return YesNo::yes;
  if (text == "no") return YesNo::no;
  if (allow_unknown && text == "unknown") return YesNo::unknown;
  return YesNo::invalid;
}

// Comma lists such as "user,fencing" or "no".
bool is_flag_list(std::string_view text) {
  if (text.empty() || text.size() > 128) return false;
  for (char c : text)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ',' || c == '-' || c == '_')) return false;
  return true;
}

bool is_word(std::string_view text) {
  if (text.empty() || text.size() > 256) return false;
  for (char c : text)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  return true;
}

std::optional<EventKind> parse_kind(std::string_view word) {
  if (word == "exists") return EventKind::exists;
  if (word == "create") return EventKind::create;
  if (word == "change") return EventKind::change;
  if (word == "destroy") return EventKind::destroy;
  if (word == "call") return EventKind::call;
  if (word == "response") return EventKind::response;
  if (word == "rename") return EventKind::rename;
  return std::nullopt;
}

ObjectKind parse_object(std::string_view word) {
  if (word == "resource") return ObjectKind::resource;
  if (word == "device") return ObjectKind::device;
  if (word == "connection") return ObjectKind::connection;
  if (word == "peer-device") return ObjectKind::peer_device;
  if (word == "path") return ObjectKind::path;
  if (word == "helper") return ObjectKind::helper;
  return ObjectKind::other;
}

// Applies one key:value; returns an error message for a malformed value of a known key.
std::optional<std::string> apply_field(Event& e, std::string_view key, std::string_view value) {
  auto text_field = [&](std::optional<std::string>& slot, bool may_be_empty) -> std::optional<std::string> {
    if (value.empty() && !may_be_empty) return "is empty";
    if (!value.empty() && !is_word(value)) return "is not a single word";
    slot = std::string(value);
    return std::nullopt;
  };
  auto int_field = [&](std::optional<int>& slot, int min) -> std::optional<std::string> {
    auto v = parse_int<int>(value);
    if (!v || *v < min) return fmt::format("is not an integer >= {}", min);
    slot = *v;
    return std::nullopt;
  };
  auto u64_field = [&](std::optional<std::uint64_t>& slot) -> std::optional<std::string> {
    auto v = parse_int<std::uint64_t>(value);
    if (!v) return "is not a non-negative integer";
    slot = *v;
    return std::nullopt;
  };
  auto bool_field = [&](std::optional<bool>& slot, bool allow_unknown) -> std::optional<std::string> {
    switch (parse_yes_no(value, allow_unknown)) {
      case YesNo::yes: slot = true; return std::nullopt;
      case YesNo::no: slot = false; return std::nullopt;
      case YesNo::unknown: slot.reset(); return std::nullopt;
      case YesNo::invalid: break;
    }
    return allow_unknown ? "is not yes, no or unknown" : "is not yes or no";
  };
  auto state_field = [&](auto& slot, auto parse) -> std::optional<std::string> {
    auto v = parse(value);
    if (!v) return "is not a state name";
    slot = *v;
    return std::nullopt;
  };
  auto flags_field = [&](std::optional<std::string>& slot) -> std::optional<std::string> {
    if (!is_flag_list(value)) return "is not 'no' or a comma list of reasons";
    slot = std::string(value);
    return std::nullopt;
  };

  if (key == "name") return text_field(e.name, false);
  if (key == "new_name") return text_field(e.new_name, false);
  if (key == "conn-name") return text_field(e.conn_name, true);
  if (key == "local") return text_field(e.local, false);
  if (key == "peer") return text_field(e.peer, false);
  if (key == "backing_dev") return text_field(e.backing_dev, false);
  if (key == "write-ordering") return text_field(e.write_ordering, false);
  if (key == "helper") return text_field(e.helper, false);
  if (key == "sync-state") return text_field(e.sync_state, false);
  if (key == "volume") return int_field(e.volume, 0);
  if (key == "minor") return int_field(e.minor, 0);
  if (key == "peer-node-id") return int_field(e.peer_node_id, 0);
  if (key == "promotion_score") return int_field(e.promotion_score, INT_MIN);
  if (key == "status") return int_field(e.helper_status, INT_MIN);
  if (key == "role") return state_field(e.role, parse_role);
  if (key == "disk") return state_field(e.disk, parse_disk_state);
  if (key == "peer-disk") return state_field(e.peer_disk, parse_disk_state);
  if (key == "connection") return state_field(e.connection, parse_conn_state);
  if (key == "replication") return state_field(e.replication, parse_repl_state);
  if (key == "suspended") return flags_field(e.suspended);
  if (key == "resync-suspended") return flags_field(e.resync_suspended);
  if (key == "force-io-failures") return bool_field(e.force_io_failures, false);
  if (key == "may_promote") return bool_field(e.may_promote, false);
  if (key == "quorum") return bool_field(e.quorum, false);
  if (key == "congested") return bool_field(e.congested, false);
  if (key == "established") return bool_field(e.established, false);
  if (key == "open") return bool_field(e.open, true);
  if (key == "client") return bool_field(e.client, true);
  if (key == "peer-client") return bool_field(e.peer_client, true);
  if (key == "size") return u64_field(e.size_kib);
  if (key == "out-of-sync") return u64_field(e.out_of_sync_kib);
  if (key == "received") return u64_field(e.received_kib);
  if (key == "sent") return u64_field(e.sent_kib);
  if (key == "done") {
    auto v = parse_double(value);
    if (!v || std::isnan(*v) || *v < 0 || *v > 100.0001) return "is not a percentage";
    e.done_percent = *v;
    return std::nullopt;
  }
  if (key == "eta") {
    auto v = parse_double(value);
    if (!v) return "is not a number of seconds";
    e.eta_seconds = *v;
    return std::nullopt;
  }
  e.unknown[std::string(key)] = std::string(value);
  return std::nullopt;
}

std::optional<std::string> missing_identity(const Event& e) {
  auto need = [](bool has, std::string_view key) -> std::optional<std::string> {
    if (!has) return fmt::format("has no '{}' field", key);
    return std::nullopt;
  };
  switch (e.object) {
    case ObjectKind::none:
    case ObjectKind::other:
      return std::nullopt;
    case ObjectKind::resource:
      if (auto m = need(e.name.has_value(), "name")) return m;
      if (e.kind == EventKind::rename) return need(e.new_name.has_value(), "new_name");
      return std::nullopt;
    case ObjectKind::device:
      if (auto m = need(e.name.has_value(), "name")) return m;
      return need(e.volume.has_value(), "volume");
    case ObjectKind::connection:
    case ObjectKind::path:
      if (auto m = need(e.name.has_value(), "name")) return m;
      return need(e.peer_node_id.has_value(), "peer-node-id");
    case ObjectKind::peer_device:
      if (auto m = need(e.name.has_value(), "name")) return m;
      if (auto m = need(e.peer_node_id.has_value(), "peer-node-id")) return m;
      return need(e.volume.has_value(), "volume");
    case ObjectKind::helper:
      if (auto m = need(e.name.has_value(), "name")) return m;
      return need(e.helper.has_value(), "helper");
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::exists: return "exists";
    case EventKind::create: return "create";
    case EventKind::change: return "change";
    case EventKind::destroy: return "destroy";
    case EventKind::call: return "call";
    case EventKind::response: return "response";
    case EventKind::rename: return "rename";
    case EventKind::initial_state_done: return "exists -";
    case EventKind::skipped: return "skipped";
  }
  return "unknown";
}

std::string_view to_string(ObjectKind object) noexcept {
  switch (object) {
    case ObjectKind::none: return "-";
    case ObjectKind::resource: return "resource";
    case ObjectKind::device: return "device";
    case ObjectKind::connection: return "connection";
    case ObjectKind::peer_device: return "peer-device";
    case ObjectKind::path: return "path";
    case ObjectKind::helper: return "helper";
    case ObjectKind::other: return "other";
  }
  return "unknown";
}

Result<Event> parse_events2_line(std::string_view line) {
  if (line.ends_with('\n')) line.remove_suffix(1);
  if (line.ends_with('\r')) line.remove_suffix(1);
  if (line.size() > max_events2_line)
    return Error(Errc::invalid_argument, fmt::format("events2 line is {} bytes long; the limit is {}", line.size(), max_events2_line));
  if (auto p = text::text_problem(line, max_events2_line))
    return Error(Errc::invalid_argument, fmt::format("events2 line {}", *p));

  const std::vector<Token> tokens = split(line);
  if (tokens.empty()) return bad(1, "the line is empty");
  Event event;
  std::size_t i = 0;
  if (tokens[0].text.front() >= '0' && tokens[0].text.front() <= '9') {
    if (!looks_like_timestamp(tokens[0].text))
      return bad(tokens[0].column, fmt::format("{} is neither an event kind nor a timestamp", text::quote_for_message(tokens[0].text)));
    event.timestamp = std::string(tokens[0].text);
    ++i;
  }
  if (i >= tokens.size()) return bad(line.size() + 1, "the line ends after the timestamp");

  const Token& kind = tokens[i];
  if (kind.text == "-") {
    // 9.0: "- skipped N" after lost notifications.
    if (i + 3 != tokens.size() || tokens[i + 1].text != "skipped")
      return bad(kind.column, "a line starting with '-' must be '- skipped N'");
    auto n = parse_int<std::uint64_t>(tokens[i + 2].text);
    if (!n) return bad(tokens[i + 2].column, fmt::format("skipped count {} is not a number", text::quote_for_message(tokens[i + 2].text)));
    event.kind = EventKind::skipped;
    event.skipped = *n;
    return event;
  }
  auto parsed_kind = parse_kind(kind.text);
  if (!parsed_kind) return bad(kind.column, fmt::format("unknown event kind {}", text::quote_for_message(kind.text)));
  event.kind = *parsed_kind;
  ++i;
  if (i >= tokens.size()) return bad(line.size() + 1, fmt::format("the line ends after '{}'; an object is missing", kind.text));

  const Token& object = tokens[i];
  if (object.text == "-") {
    if (event.kind != EventKind::exists) return bad(object.column, "only 'exists -' may have '-' as its object");
    if (i + 1 != tokens.size()) return bad(tokens[i + 1].column, "'exists -' takes no fields");
    event.kind = EventKind::initial_state_done;
    event.object = ObjectKind::none;
    event.object_word = std::string(object.text);
    return event;
  }
  if (object.text.find(':') != std::string_view::npos)
    return bad(object.column, fmt::format("expected an object, found the field {}", text::quote_for_message(object.text)));
  if (!is_key(object.text)) return bad(object.column, fmt::format("object {} is not a word", text::quote_for_message(object.text)));
  event.object = parse_object(object.text);
  event.object_word = std::string(object.text);
  ++i;

  for (; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    const auto colon = t.text.find(':');
    if (colon == std::string_view::npos)
      return bad(t.column, fmt::format("field {} has no ':' between key and value", text::quote_for_message(t.text)));
    const std::string_view key = t.text.substr(0, colon);
    std::string_view value = t.text.substr(colon + 1);
    if (!is_key(key)) return bad(t.column, fmt::format("field {} has no valid key", text::quote_for_message(t.text)));
    // --diff prints "old->new"; the new value is the state.
    if (const auto arrow = value.find("->"); arrow != std::string_view::npos) value = value.substr(arrow + 2);
    if (event.object == ObjectKind::other) {
      event.unknown[std::string(key)] = std::string(value);
      continue;
    }
    if (auto problem = apply_field(event, key, value))
      return bad(t.column, fmt::format("field '{}' value {} {}", key, text::quote_for_message(value), *problem));
  }
  if (auto missing = missing_identity(event))
    return bad(object.column, fmt::format("{} event {}", object.text, *missing));
  return event;
}

Result<std::vector<Event>> parse_events2(std::string_view text) {
  std::vector<Event> events;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    std::string_view trimmed = line;
    if (trimmed.ends_with('\r')) trimmed.remove_suffix(1);
    if (trimmed.find_first_not_of(' ') == std::string_view::npos) continue;
    auto event = parse_events2_line(trimmed);
    if (!event) return Error(Errc::invalid_argument, fmt::format("line {}: {}", line_number, event.error().message()));
    events.push_back(std::move(*event));
  }
  return events;
}

}  // namespace evos::drbd
