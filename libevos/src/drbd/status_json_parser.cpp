#include <evos/drbd/status_json_parser.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

namespace evos::drbd {
namespace {

using json = nlohmann::json;

Error bad(std::string_view pointer, std::string_view what) {
  return Error(Errc::invalid_argument, fmt::format("status --json: {}: {}", pointer, what));
}

std::string_view type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    case json::value_t::string: return "string";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "number";
    case json::value_t::binary: return "binary";
    case json::value_t::discarded: return "discarded";
  }
  return "unknown";
}

// Depth check on the raw text, so a hostile input never reaches a recursive structure.
std::optional<std::size_t> too_deep_at(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > max_status_json_depth) return i + 1;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::nullopt;
}

// Typed access to one object's members; every error carries the member's JSON pointer.
class Reader {
 public:
  Reader(const json& object, std::string pointer) : object_(object), pointer_(std::move(pointer)) {}

  std::string at(std::string_view key) const { return fmt::format("{}/{}", pointer_, key); }

  const json* find(std::string_view key) const {
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  Result<std::optional<std::string>> string(std::string_view key) const {
    const json* v = find(key);
    if (!v) return std::optional<std::string>();
    if (!v->is_string()) return bad(at(key), fmt::format("expected a string, found {}", type_name(*v)));
    return std::optional<std::string>(v->get<std::string>());
  }

  Result<std::optional<std::int64_t>> integer(std::string_view key) const {
    const json* v = find(key);
    if (!v) return std::optional<std::int64_t>();
    if (v->is_number_unsigned()) {
      const auto u = v->get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return bad(at(key), "integer too large");
      return std::optional<std::int64_t>(static_cast<std::int64_t>(u));
    }
    if (!v->is_number_integer()) return bad(at(key), fmt::format("expected an integer, found {}", type_name(*v)));
    return std::optional<std::int64_t>(v->get<std::int64_t>());
  }

  Result<std::optional<int>> small_int(std::string_view key, std::int64_t min, std::int64_t max) const {
    auto v = integer(key);
    if (!v) return std::move(v).error();
    if (!*v) return std::optional<int>();
    if (**v < min || **v > max) return bad(at(key), fmt::format("{} is outside {}..{}", **v, min, max));
    return std::optional<int>(static_cast<int>(**v));
  }

  Result<std::optional<std::uint64_t>> counter(std::string_view key) const {
    auto v = integer(key);
    if (!v) return std::move(v).error();
    if (!*v) return std::optional<std::uint64_t>();
    if (**v < 0) return bad(at(key), "is negative");
    return std::optional<std::uint64_t>(static_cast<std::uint64_t>(**v));
  }

  Result<std::optional<double>> number(std::string_view key) const {
    const json* v = find(key);
    if (!v) return std::optional<double>();
    if (!v->is_number()) return bad(at(key), fmt::format("expected a number, found {}", type_name(*v)));
    const double d = v->get<double>();
    if (!std::isfinite(d)) return bad(at(key), "is not finite");
    return std::optional<double>(d);
  }

  Result<std::optional<bool>> boolean(std::string_view key) const {
    const json* v = find(key);
    if (!v) return std::optional<bool>();
    if (!v->is_boolean()) return bad(at(key), fmt::format("expected true or false, found {}", type_name(*v)));
    return std::optional<bool>(v->get<bool>());
  }

  template <class E>
  Result<std::optional<E>> state(std::string_view key, std::optional<E> (*parse)(std::string_view)) const {
    auto s = string(key);
    if (!s) return std::move(s).error();
    if (!*s) return std::optional<E>();
    auto v = parse(**s);
    if (!v) return bad(at(key), fmt::format("{} is not a state name", text::quote_for_message(**s)));
    return v;
  }

  Result<const json*> array(std::string_view key) const {
    const json* v = find(key);
    if (!v) return static_cast<const json*>(nullptr);
    if (!v->is_array()) return bad(at(key), fmt::format("expected an array, found {}", type_name(*v)));
    return v;
  }

 private:
  const json& object_;
  std::string pointer_;
};

#define EVOS_TRY_ASSIGN(target, expr)          \
  do {                                         \
    auto evos_r_ = (expr);                     \
    if (!evos_r_) return std::move(evos_r_).error(); \
    if (*evos_r_) target = **evos_r_;          \
  } while (false)

Result<PeerDeviceState> read_peer_device(const json& j, const std::string& pointer) {
  if (!j.is_object()) return bad(pointer, fmt::format("expected an object, found {}", type_name(j)));
  Reader r(j, pointer);
  PeerDeviceState p;
  EVOS_TRY_ASSIGN(p.volume, r.small_int("volume", 0, 65535));
  EVOS_TRY_ASSIGN(p.replication, r.state<ReplState>("replication-state", parse_repl_state));
  EVOS_TRY_ASSIGN(p.peer_disk, r.state<DiskState>("peer-disk-state", parse_disk_state));
  EVOS_TRY_ASSIGN(p.peer_client, r.boolean("peer-client"));
  EVOS_TRY_ASSIGN(p.out_of_sync_kib, r.counter("out-of-sync"));
  EVOS_TRY_ASSIGN(p.sent_kib, r.counter("sent"));
  EVOS_TRY_ASSIGN(p.received_kib, r.counter("received"));
  // "resync-suspended" is a string ("no", "user,peer") in every drbd-utils we know; accept a
  // boolean too.
  if (const json* v = r.find("resync-suspended")) {
    if (v->is_string()) p.resync_suspended = v->get<std::string>() != "no";
    else if (v->is_boolean()) p.resync_suspended = v->get<bool>();
    else return bad(r.at("resync-suspended"), fmt::format("expected a string, found {}", type_name(*v)));
  }
  std::optional<double> done;
  EVOS_TRY_ASSIGN(done, r.number("percent-resync-done"));
  if (done && (*done < 0 || *done > 100.0001)) return bad(r.at("percent-resync-done"), "is not a percentage");
  if (!done) {
    // Older drbd-utils print only percent-in-sync while a resync runs.
    std::optional<double> in_sync;
    EVOS_TRY_ASSIGN(in_sync, r.number("percent-in-sync"));
    if (in_sync && is_resync_or_verify_state(p.replication) && *in_sync >= 0 && *in_sync <= 100.0001) done = in_sync;
  }
  if (done && is_resync_or_verify_state(p.replication)) p.done_percent = done;
  return p;
}

Result<ConnectionState> read_connection(const json& j, const std::string& pointer) {
  if (!j.is_object()) return bad(pointer, fmt::format("expected an object, found {}", type_name(j)));
  Reader r(j, pointer);
  ConnectionState c;
  std::optional<int> peer;
  EVOS_TRY_ASSIGN(peer, r.small_int("peer-node-id", 0, 1 << 20));
  if (!peer) return bad(r.at("peer-node-id"), "is missing");
  c.peer_node_id = *peer;
  EVOS_TRY_ASSIGN(c.name, r.string("name"));
  EVOS_TRY_ASSIGN(c.state, r.state<ConnState>("connection-state", parse_conn_state));
  EVOS_TRY_ASSIGN(c.peer_role, r.state<Role>("peer-role", parse_role));
  EVOS_TRY_ASSIGN(c.congested, r.boolean("congested"));
  if (auto s = r.string("sync-state"); !s) {
    return std::move(s).error();
  } else if (*s && **s == "SplitBrain") {
    c.split_brain = true;
  }
  auto paths = r.array("paths");
  if (!paths) return std::move(paths).error();
  if (*paths) {
    std::size_t i = 0;
    for (const auto& path : **paths) {
      const std::string pp = fmt::format("{}/{}", r.at("paths"), i++);
      if (!path.is_object()) return bad(pp, fmt::format("expected an object, found {}", type_name(path)));
      std::optional<bool> established;
      EVOS_TRY_ASSIGN(established, Reader(path, pp).boolean("established"));
      if (established) c.path_established = c.path_established.value_or(false) || *established;
    }
  }
  auto devices = r.array("peer_devices");
  if (!devices) return std::move(devices).error();
  if (*devices) {
    std::size_t i = 0;
    for (const auto& pd : **devices) {
      auto p = read_peer_device(pd, fmt::format("{}/{}", r.at("peer_devices"), i++));
      if (!p) return std::move(p).error();
      c.peer_devices.push_back(std::move(*p));
    }
  }
  return c;
}

Result<DeviceState> read_device(const json& j, const std::string& pointer) {
  if (!j.is_object()) return bad(pointer, fmt::format("expected an object, found {}", type_name(j)));
  Reader r(j, pointer);
  DeviceState d;
  EVOS_TRY_ASSIGN(d.volume, r.small_int("volume", 0, 65535));
  EVOS_TRY_ASSIGN(d.minor, r.small_int("minor", -1, 1 << 20));
  EVOS_TRY_ASSIGN(d.disk, r.state<DiskState>("disk-state", parse_disk_state));
  EVOS_TRY_ASSIGN(d.client, r.boolean("client"));
  EVOS_TRY_ASSIGN(d.quorum, r.boolean("quorum"));
  std::optional<bool> open;
  EVOS_TRY_ASSIGN(open, r.boolean("open"));
  d.open = open;
  std::optional<std::uint64_t> size;
  EVOS_TRY_ASSIGN(size, r.counter("size"));
  d.size_kib = size;
  return d;
}

Result<ResourceState> read_resource(const json& j, const std::string& pointer) {
  if (!j.is_object()) return bad(pointer, fmt::format("expected an object, found {}", type_name(j)));
  Reader r(j, pointer);
  ResourceState s;
  std::optional<std::string> name;
  EVOS_TRY_ASSIGN(name, r.string("name"));
  if (!name || name->empty()) return bad(r.at("name"), "is missing");
  if (auto p = text::text_problem(*name, 256)) return bad(r.at("name"), *p);
  s.name = *name;
  s.exists = true;
  s.initial_state_done = true;
  std::optional<int> node_id;
  EVOS_TRY_ASSIGN(node_id, r.small_int("node-id", -1, 1 << 20));
  if (node_id && *node_id >= 0) s.node_id = node_id;
  EVOS_TRY_ASSIGN(s.role, r.state<Role>("role", parse_role));
  EVOS_TRY_ASSIGN(s.suspended, r.boolean("suspended"));
  std::string reasons;
  for (std::string_view key : {"suspended-user", "suspended-no-data", "suspended-fencing", "suspended-quorum"}) {
    std::optional<bool> flag;
    EVOS_TRY_ASSIGN(flag, r.boolean(key));
    if (flag && *flag) reasons += fmt::format("{}{}", reasons.empty() ? "" : ",", key.substr(10));
  }
  if (!reasons.empty()) s.suspended = true;
  if (s.suspended) s.suspended_reasons = reasons.empty() ? "yes" : reasons;
  EVOS_TRY_ASSIGN(s.force_io_failures, r.boolean("force-io-failures"));

  auto devices = r.array("devices");
  if (!devices) return std::move(devices).error();
  if (*devices) {
    std::size_t i = 0;
    for (const auto& d : **devices) {
      auto device = read_device(d, fmt::format("{}/{}", r.at("devices"), i++));
      if (!device) return std::move(device).error();
      s.devices.push_back(std::move(*device));
    }
  }
  auto connections = r.array("connections");
  if (!connections) return std::move(connections).error();
  if (*connections) {
    std::size_t i = 0;
    for (const auto& c : **connections) {
      auto connection = read_connection(c, fmt::format("{}/{}", r.at("connections"), i++));
      if (!connection) return std::move(connection).error();
      s.connections.push_back(std::move(*connection));
    }
  }
  return s;
}

#undef EVOS_TRY_ASSIGN

}  // namespace

Result<std::vector<ResourceState>> parse_status_json(std::string_view text) {
  if (text.size() > max_status_json_bytes)
    return Error(Errc::invalid_argument, fmt::format("status --json: {} bytes is more than the limit of {}", text.size(), max_status_json_bytes));
  if (auto at = too_deep_at(text))
    return Error(Errc::invalid_argument, fmt::format("status --json: nested deeper than {} levels at byte {}", max_status_json_depth, *at));
  json document;
  try {
    document = json::parse(text);
  } catch (const json::exception& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 3, column 7: ...".
    std::string_view what = e.what();
    if (auto close = what.find("] "); close != std::string_view::npos) what.remove_prefix(close + 2);
    return Error(Errc::invalid_argument, fmt::format("status --json: {}", what));
  }
  if (!document.is_array()) return bad("/", fmt::format("expected an array of resources, found {}", type_name(document)));
  std::vector<ResourceState> resources;
  std::size_t i = 0;
  for (const auto& r : document) {
    auto resource = read_resource(r, fmt::format("/{}", i++));
    if (!resource) return std::move(resource).error();
    resources.push_back(std::move(*resource));
  }
  return resources;
}

}  // namespace evos::drbd
