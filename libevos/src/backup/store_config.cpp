#include <evos/backup/store_config.hpp>

#include <nlohmann/json.hpp>

namespace evos::backup {

std::optional<std::string> chunk_size_problem(std::uint64_t size) {
  if (size < (64u << 10) || size > (64u << 20) || (size & (size - 1)) != 0)
    return fmt::format("a chunk size is a power of two from 64 KiB to 64 MiB, not {} bytes", size);
  return std::nullopt;
}

std::string format_store_config(const StoreConfig& c) {
  nlohmann::ordered_json j;
  j["format"] = "evos-backup-store";
  j["version"] = store_version;
  j["chunk_size"] = c.chunk_size;
  j["encryption"] = c.key_fingerprint ? "aes-256-gcm" : "none";
  j["key_fingerprint"] = c.key_fingerprint ? nlohmann::json(*c.key_fingerprint) : nlohmann::json(nullptr);
  j["created"] = c.created;
  return j.dump(2) + "\n";
}

Result<StoreConfig> parse_store_config(std::string_view text, std::string_view what) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != "evos-backup-store")
    return make_error(Errc::invalid_config, "{} is not an evos backup store configuration", what);
  if (!j.contains("version") || !j["version"].is_number_integer())
    return make_error(Errc::invalid_config, "{} has no version", what);
  if (const int v = j["version"].get<int>(); v != store_version)
    return make_error(v > store_version ? Errc::unimplemented : Errc::invalid_config,
                      "{}: the store has format version {}; this evos reads version {}{}", what, v, store_version,
                      v > store_version ? " (a newer evos made it)" : "");
  StoreConfig c;
  if (!j.contains("chunk_size") || !j["chunk_size"].is_number_unsigned())
    return make_error(Errc::invalid_config, "{} has no chunk_size", what);
  c.chunk_size = j["chunk_size"].get<std::uint64_t>();
  if (auto p = chunk_size_problem(c.chunk_size)) return make_error(Errc::invalid_config, "{}: {}", what, *p);
  const std::string encryption = j.value("encryption", "");
  if (encryption == "aes-256-gcm") {
    if (!j.contains("key_fingerprint") || !j["key_fingerprint"].is_string())
      return make_error(Errc::invalid_config, "{}: an encrypted store without key_fingerprint", what);
    c.key_fingerprint = j["key_fingerprint"].get<std::string>();
  } else if (encryption != "none") {
    return make_error(Errc::invalid_config, "{}: encryption '{}' is unknown (none, aes-256-gcm)", what, encryption);
  }
  c.created = j.value("created", "");
  return c;
}

}  // namespace evos::backup
