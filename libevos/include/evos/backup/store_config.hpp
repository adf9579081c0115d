// evos::backup::StoreConfig: the file that makes a directory a backup store (evos-store.json,
// docs/backup-format.md "The store"): its format version, chunk size and encryption.
#pragma once

#include <evos/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace evos::backup {

inline constexpr int store_version = 1;
inline constexpr std::uint64_t default_chunk_size = 4u << 20;  // 4 MiB, as Proxmox Backup Server for VM images
inline constexpr char store_config_name[] = "evos-store.json";

struct StoreConfig {
  std::uint64_t chunk_size = default_chunk_size;
  std::optional<std::string> key_fingerprint;  // set: the store is encrypted (AES-256-GCM, keyed chunk ids)
  std::string created;                         // backup-time format, for the operator
};

std::string format_store_config(const StoreConfig& c);
// Errc::unimplemented for a newer version (named), Errc::invalid_config for anything malformed.
Result<StoreConfig> parse_store_config(std::string_view text, std::string_view what);
// A chunk size given by the operator: a power of two from 64 KiB to 64 MiB.
std::optional<std::string> chunk_size_problem(std::uint64_t size);

}  // namespace evos::backup
