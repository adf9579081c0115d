// evos::backup::verify_backups: re-reads every chunk the chosen backups need, decodes and
// re-hashes it, and names exactly which backups a damaged or missing chunk breaks (and which
// manifests are themselves unreadable).
#pragma once

#include <evos/backup/disk_backup.hpp>
#include <evos/backup/verify_record.hpp>

#include <map>
#include <optional>

namespace evos::backup {

struct ChunkDamage {
  Digest id{};
  std::string problem;               // "chunk 3f… is missing (…)", "chunk 3f… is damaged: …"
  std::vector<std::string> backups;  // ids of the backups that need it
};

struct VerifyReport {
  std::vector<std::string> checked;            // backup ids whose manifests were read
  std::map<std::string, std::string> bad_manifests;  // id -> problem
  std::vector<ChunkDamage> damaged_chunks;
  std::vector<std::string> damaged_backups;    // sorted: unreadable manifest or any damaged chunk
  std::uint64_t chunks = 0;                    // distinct chunks read
  std::uint64_t bytes = 0;                     // their decoded size
  [[nodiscard]] bool ok() const { return damaged_backups.empty(); }
};

Result<VerifyReport> verify_backups(const Store& store, const std::vector<BackupId>& ids, const RunOptions& options);

// The records of what `report` found, one per VM (verify_record.hpp), at `now_unix_ms`.
std::vector<VerifyRecord> verify_records(const VerifyReport& report, std::int64_t now_unix_ms);

// Writes each record to STORE/verify/VM.json (write_atomically, replacing the VM's last one).
Result<void> write_verify_records(const Store& store, const std::vector<VerifyRecord>& records);
// The VM's last record; nullopt if none was ever written. A damaged one is an error naming it.
Result<std::optional<VerifyRecord>> read_verify_record(const Store& store, const std::string& vm);

}  // namespace evos::backup
