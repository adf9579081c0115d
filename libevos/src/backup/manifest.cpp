#include <evos/backup/manifest.hpp>

#include <evos/vm/domain_copy.hpp>

#include <nlohmann/json.hpp>

#include <ctime>

namespace evos::backup {
namespace {

using nlohmann::json;

Error field_error(std::string_view what, std::string_view field, std::string_view problem) {
  return make_error(Errc::invalid_config, "{}: {} {}", what, field, problem);
}

// Typed reads that name the field on any mismatch.
Result<std::string> get_string(const json& j, const char* field, std::string_view what) {
  if (!j.contains(field) || !j[field].is_string()) return field_error(what, field, "is missing or not text");
  return j[field].get<std::string>();
}
Result<std::uint64_t> get_u64(const json& j, const char* field, std::string_view what) {
  if (!j.contains(field) || !j[field].is_number_unsigned()) return field_error(what, field, "is missing or not a count");
  return j[field].get<std::uint64_t>();
}

}  // namespace

std::string_view to_string(Mode m) noexcept {
  switch (m) {
    case Mode::snapshot: return "snapshot";
    case Mode::suspend: return "suspend";
    case Mode::stop: return "stop";
    case Mode::image: return "image";
  }
  return "image";
}

Result<Mode> parse_mode(std::string_view text) {
  for (Mode m : {Mode::snapshot, Mode::suspend, Mode::stop, Mode::image})
    if (text == to_string(m)) return m;
  return make_error(Errc::invalid_argument, "'{}' is not a backup mode (snapshot, suspend, stop)", text);
}

std::string_view to_string(Consistency c) noexcept {
  switch (c) {
    case Consistency::frozen: return "frozen";
    case Consistency::crash_consistent: return "crash-consistent";
    case Consistency::offline: return "offline";
  }
  return "offline";
}

std::string_view to_string(ReadMethod m) noexcept { return m == ReadMethod::full ? "full" : "dirty-bitmap"; }

std::string format_backup_time(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, unix_ms % 1000);
}

Result<std::int64_t> parse_backup_time(std::string_view text) {
  // YYYYMMDDTHHMMSS.mmmZ, exactly.
  auto bad = [&] { return make_error(Errc::invalid_argument, "'{}' is not a backup time (like 20261206T221005.123Z)", text); };
  if (text.size() != 20 || text[8] != 'T' || text[15] != '.' || text[19] != 'Z') return bad();
  auto number = [&](std::size_t from, std::size_t len) {
    int v = 0;
    for (std::size_t i = from; i < from + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  std::tm tm{};
  tm.tm_year = number(0, 4) - 1900;
  tm.tm_mon = number(4, 2) - 1;
  tm.tm_mday = number(6, 2);
  tm.tm_hour = number(9, 2);
  tm.tm_min = number(11, 2);
  tm.tm_sec = number(13, 2);
  const int ms = number(16, 3);
  if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour < 0 ||
      tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60 || ms < 0)
    return bad();
  const std::time_t seconds = timegm(&tm);
  const auto result = static_cast<std::int64_t>(seconds) * 1000 + ms;
  if (format_backup_time(result) != text) return bad();  // 31 February and the like
  return result;
}

Result<BackupId> parse_backup_id(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos)
    return make_error(Errc::invalid_argument, "'{}' is not a backup id (VM/TIME, as `evosctl backup list` prints)", text);
  BackupId id{std::string(text.substr(0, slash)), std::string(text.substr(slash + 1))};
  if (auto p = vm::name_problem(id.vm)) return Error(Errc::invalid_argument, *p);
  if (auto t = parse_backup_time(id.time); !t) return std::move(t).error();
  return id;
}

std::string format_manifest(const Manifest& m) {
  nlohmann::ordered_json j;
  j["format"] = "evos-backup-manifest";
  j["version"] = manifest_version;
  j["vm"] = m.vm;
  j["time"] = m.time;
  j["mode"] = to_string(m.mode);
  j["consistency"] = to_string(m.consistency);
  j["node"] = m.node;
  j["evos_version"] = m.evos_version;
  j["base"] = m.base ? nlohmann::ordered_json(*m.base) : nlohmann::ordered_json(nullptr);
  j["checkpoint"] = m.checkpoint ? nlohmann::ordered_json(*m.checkpoint) : nlohmann::ordered_json(nullptr);
  j["checkpoint_xml"] = m.checkpoint_xml;
  j["run_token"] = m.run_token ? nlohmann::ordered_json(*m.run_token) : nlohmann::ordered_json(nullptr);
  j["plan"] = m.plan;
  j["chunk_size"] = m.chunk_size;
  j["duration_ms"] = m.duration_ms;
  j["domain_xml"] = m.domain_xml;
  auto disks = nlohmann::ordered_json::array();
  for (const auto& d : m.disks) {
    nlohmann::ordered_json dj;
    dj["target"] = d.target;
    dj["source"] = d.source;
    dj["format"] = d.format;
    dj["size"] = d.size;
    dj["method"] = to_string(d.method);
    dj["bytes_read"] = d.bytes_read;
    dj["bytes_stored"] = d.bytes_stored;
    dj["chunks_new"] = d.chunks_new;
    auto chunks = nlohmann::ordered_json::array();
    for (const auto& c : d.chunks) chunks.push_back(c ? nlohmann::ordered_json(to_hex(*c)) : nlohmann::ordered_json(nullptr));
    dj["chunks"] = std::move(chunks);
    disks.push_back(std::move(dj));
  }
  j["disks"] = std::move(disks);
  return j.dump(1) + "\n";
}

Result<Manifest> parse_manifest(std::string_view text, std::string_view what) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(Errc::invalid_config, "{} is not JSON", what);
  if (j.value("format", "") != "evos-backup-manifest") return make_error(Errc::invalid_config, "{} is not an evos backup manifest", what);
  if (!j.contains("version") || !j["version"].is_number_integer())
    return field_error(what, "version", "is missing");
  if (const int v = j["version"].get<int>(); v != manifest_version)
    return make_error(v > manifest_version ? Errc::unimplemented : Errc::invalid_config,
                      "{} has manifest format version {}; this evos reads version {}", what, v, manifest_version);
  Manifest m;
  auto vm = get_string(j, "vm", what);
  auto time = get_string(j, "time", what);
  auto mode = get_string(j, "mode", what);
  auto consistency = get_string(j, "consistency", what);
  auto node = get_string(j, "node", what);
  auto version = get_string(j, "evos_version", what);
  auto xml = get_string(j, "domain_xml", what);
  auto chunk_size = get_u64(j, "chunk_size", what);
  auto duration = get_u64(j, "duration_ms", what);
  for (const Error* e : {vm ? nullptr : &vm.error(), time ? nullptr : &time.error(), mode ? nullptr : &mode.error(),
                         consistency ? nullptr : &consistency.error(), node ? nullptr : &node.error(),
                         version ? nullptr : &version.error(), xml ? nullptr : &xml.error(),
                         chunk_size ? nullptr : &chunk_size.error(), duration ? nullptr : &duration.error()})
    if (e) return *e;
  if (auto p = vm::name_problem(*vm)) return field_error(what, "vm", *p);
  if (!parse_backup_time(*time)) return field_error(what, "time", fmt::format("'{}' is not a backup time", *time));
  auto parsed_mode = parse_mode(*mode);
  if (!parsed_mode) return field_error(what, "mode", fmt::format("'{}' is unknown", *mode));
  bool consistency_known = false;
  for (Consistency c : {Consistency::frozen, Consistency::crash_consistent, Consistency::offline})
    if (*consistency == to_string(c)) {
      m.consistency = c;
      consistency_known = true;
    }
  if (!consistency_known) return field_error(what, "consistency", fmt::format("'{}' is unknown", *consistency));
  if (*chunk_size == 0 || *chunk_size > (64u << 20)) return field_error(what, "chunk_size", "is not between 1 byte and 64 MiB");
  m.vm = *vm;
  m.time = *time;
  m.mode = *parsed_mode;
  m.node = *node;
  m.evos_version = *version;
  m.domain_xml = *xml;
  m.chunk_size = *chunk_size;
  m.duration_ms = *duration;
  if (j.contains("base") && j["base"].is_string()) {
    if (auto b = parse_backup_id(j["base"].get<std::string>()); !b) return field_error(what, "base", b.error().message());
    m.base = j["base"].get<std::string>();
  } else if (j.contains("base") && !j["base"].is_null()) {
    return field_error(what, "base", "is neither a backup id nor null");
  }
  for (auto [field, out] : {std::pair{"checkpoint", &m.checkpoint}, std::pair{"run_token", &m.run_token}}) {
    if (!j.contains(field) || j[field].is_null()) continue;
    if (!j[field].is_string()) return field_error(what, field, "is neither text nor null");
    *out = j[field].get<std::string>();
  }
  // Both reach libvirt (a checkpoint lookup, a metadata comparison): only evos's own forms.
  if (m.checkpoint && (m.checkpoint->rfind("evos-", 0) != 0 || !parse_backup_time(m.checkpoint->substr(5))))
    return field_error(what, "checkpoint", fmt::format("'{}' is not an evos checkpoint name", *m.checkpoint));
  if (m.run_token && (m.run_token->empty() || m.run_token->size() > 64 ||
                      m.run_token->find_first_not_of("0123456789abcdef") != std::string::npos))
    return field_error(what, "run_token", "is not a hex token");
  if (j.contains("checkpoint_xml") && !j["checkpoint_xml"].is_string()) return field_error(what, "checkpoint_xml", "is not text");
  if (j.contains("plan") && !j["plan"].is_string()) return field_error(what, "plan", "is not text");
  m.checkpoint_xml = j.value("checkpoint_xml", "");
  m.plan = j.value("plan", "");
  if (!j.contains("disks") || !j["disks"].is_array() || j["disks"].empty()) return field_error(what, "disks", "is missing or empty");
  for (std::size_t i = 0; i < j["disks"].size(); ++i) {
    const json& dj = j["disks"][i];
    const std::string where = fmt::format("{} disk {}", what, i);
    if (!dj.is_object()) return make_error(Errc::invalid_config, "{} is not an object", where);
    DiskRecord d;
    auto target = get_string(dj, "target", where);
    auto source = get_string(dj, "source", where);
    auto format = get_string(dj, "format", where);
    auto method = get_string(dj, "method", where);
    auto size = get_u64(dj, "size", where);
    for (const Error* e : {target ? nullptr : &target.error(), source ? nullptr : &source.error(),
                           format ? nullptr : &format.error(), method ? nullptr : &method.error(),
                           size ? nullptr : &size.error()})
      if (e) return *e;
    if (target->empty() || target->find('/') != std::string::npos || target->front() == '.')
      return field_error(where, "target", fmt::format("'{}' is not a disk name", *target));
    for (const auto& other : m.disks)
      if (other.target == *target) return field_error(where, "target", fmt::format("'{}' appears twice", *target));
    d.target = *target;
    d.source = *source;
    d.format = *format;
    d.size = *size;
    if (*method == "full") d.method = ReadMethod::full;
    else if (*method == "dirty-bitmap") d.method = ReadMethod::dirty_bitmap;
    else return field_error(where, "method", fmt::format("'{}' is unknown", *method));
    for (auto [field, out] : {std::pair{"bytes_read", &d.bytes_read}, std::pair{"bytes_stored", &d.bytes_stored},
                              std::pair{"chunks_new", &d.chunks_new}}) {
      auto v = get_u64(dj, field, where);
      if (!v) return std::move(v).error();
      *out = *v;
    }
    if (!dj.contains("chunks") || !dj["chunks"].is_array()) return field_error(where, "chunks", "is missing");
    const std::uint64_t expected = (d.size + m.chunk_size - 1) / m.chunk_size;
    if (dj["chunks"].size() != expected)
      return field_error(where, "chunks", fmt::format("lists {} chunks where a {}-byte disk has {}", dj["chunks"].size(), d.size, expected));
    d.chunks.reserve(expected);
    for (std::size_t c = 0; c < dj["chunks"].size(); ++c) {
      const json& cj = dj["chunks"][c];
      if (cj.is_null()) {
        d.chunks.emplace_back();
        continue;
      }
      if (!cj.is_string()) return field_error(where, fmt::format("chunk {}", c), "is neither a digest nor null");
      auto digest = parse_digest(cj.get<std::string>(), fmt::format("{} chunk {}", where, c));
      if (!digest) return Error(Errc::invalid_config, digest.error().message());
      d.chunks.emplace_back(*digest);
    }
    m.disks.push_back(std::move(d));
  }
  return m;
}

}  // namespace evos::backup
