// evos::backup::Manifest: what one backup is (docs/backup-format.md, "Manifests"): the VM, when
// and how it was taken, its definition, and per disk the ordered list of chunks that rebuild it.
// Stored as a blob of kind manifest, so a flipped or truncated manifest fails its digest.
#pragma once

#include <evos/backup/digest.hpp>
#include <evos/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::backup {

inline constexpr int manifest_version = 1;

// How the disks were read: a running VM through libvirt's backup API (snapshot), a paused one
// (suspend), a stopped one (stop), or a disk image file outside any VM (image).
enum class Mode { snapshot, suspend, stop, image };
std::string_view to_string(Mode m) noexcept;
Result<Mode> parse_mode(std::string_view text);

// How consistent the point in time is, as the output and `backup show` say it.
enum class Consistency {
  frozen,            // guest file systems frozen through the QEMU guest agent
  crash_consistent,  // a live point in time without the guest's help (as after a power loss)
  offline,           // the VM was not running, or was paused (nothing in flight)
};
std::string_view to_string(Consistency c) noexcept;

// How a disk's chunks were found: every block read (full), only the blocks QEMU's dirty bitmap
// marked since the base backup (dirty-bitmap), or every block read and hashed, new chunks stored.
enum class ReadMethod { full, dirty_bitmap };
std::string_view to_string(ReadMethod m) noexcept;

struct DiskRecord {
  std::string target;  // "vda", or "image" for an image backup
  std::string source;  // the path it was read from, for the operator
  std::string format;  // the format restored: "raw" (evos restores the guest-visible bytes)
  std::uint64_t size = 0;
  std::vector<std::optional<Digest>> chunks;  // nullopt: an all-zero chunk, never stored
  ReadMethod method = ReadMethod::full;
  std::uint64_t bytes_read = 0;     // bytes read from the disk for this backup
  std::uint64_t bytes_stored = 0;   // bytes of new chunk files (after compression)
  std::uint64_t chunks_new = 0;     // chunks not in the store before
};

struct Manifest {
  std::string vm;    // [A-Za-z0-9._+-], what backups are grouped by
  std::string time;  // UTC, ISO 8601 basic with milliseconds: 20261206T221005.123Z
  Mode mode = Mode::image;
  Consistency consistency = Consistency::offline;
  std::string node;          // the node that took it
  std::string evos_version;
  std::string domain_xml;    // the VM's libvirt definition (empty for an image backup)
  std::optional<std::string> base;  // the backup whose chunks an incremental read started from
  // Snapshot/suspend modes: the libvirt checkpoint this backup made (its bitmaps mark what the
  // guest writes after it), that checkpoint's XML (to redefine it on a host that does not know it:
  // libvirt keeps checkpoint metadata per host), and the run token of the domain's live XML.
  std::optional<std::string> checkpoint;
  std::string checkpoint_xml;
  std::optional<std::string> run_token;
  std::string plan;  // why the disks were read as they were ("dirty bitmap since …", "… full read")
  std::uint64_t chunk_size = 0;
  std::uint64_t duration_ms = 0;
  std::vector<DiskRecord> disks;

  // "web1/20261206T221005.123Z": how every command names a backup.
  [[nodiscard]] std::string id() const { return vm + "/" + time; }
};

// Strict JSON both ways: unknown versions, missing fields, a chunk count that does not cover the
// disk's size, or a malformed digest are errors naming the field (Errc::invalid_config).
std::string format_manifest(const Manifest& m);
Result<Manifest> parse_manifest(std::string_view text, std::string_view what);

// A backup id as given on a command line: "VM/TIME", both parts checked.
struct BackupId {
  std::string vm;
  std::string time;
};
Result<BackupId> parse_backup_id(std::string_view text);

// The backup time for a moment (milliseconds since the epoch), and back.
std::string format_backup_time(std::int64_t unix_ms);
Result<std::int64_t> parse_backup_time(std::string_view text);

}  // namespace evos::backup
