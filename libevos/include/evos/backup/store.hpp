// evos::backup::Store: a backup store is a plain directory, on a local disk or a mounted NAS
// (docs/backup-format.md): evos-store.json, chunks/XX/<digest>, backups/<vm>/<time>.manifest,
// locks/. Every file is written whole or not at all (temporary name, rename). A chunk's data is
// made durable (fdatasync) before it is renamed into place, so a chunk that exists is whole even
// after a power loss and a later backup may rely on it; the directories of new chunks are fsynced
// before the manifest that names them is written, the manifest itself with fsync and a directory
// fsync. (syncfs(2), Proxmox Backup Server's default, would also flush everything else on that
// file system: the VM images beside a local store, say.) Nothing relies on flock(2), which NFS
// does not carry between hosts: locks are files created with O_EXCL that say who holds them.
#pragma once

#include <evos/backup/codec.hpp>
#include <evos/backup/gc_plan.hpp>
#include <evos/backup/manifest.hpp>
#include <evos/backup/store_config.hpp>
#include <evos/error.hpp>

#include <sys/types.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace evos::backup {

// Who holds a lock: written into the lock file, read back for messages and for GC's cutoff.
struct LockOwner {
  std::string host;
  pid_t pid = 0;
  unsigned long long proc_start = 0;  // /proc/PID/stat starttime: a reused PID is not the owner
  std::int64_t since_ms = 0;
  std::string what;  // "backup web1", "gc"
};

class StoreLock {
 public:
  StoreLock(std::string path, LockOwner owner) : path_(std::move(path)), owner_(std::move(owner)) {}
  ~StoreLock();
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  StoreLock(StoreLock&& other) noexcept : path_(std::move(other.path_)), owner_(std::move(other.owner_)) { other.path_.clear(); }
  [[nodiscard]] const LockOwner& owner() const { return owner_; }

 private:
  std::string path_;
  LockOwner owner_;
};

class Store {
 public:
  // Makes `dir` (absent, or an empty directory) a store.
  static Result<void> init(const std::string& dir, const StoreConfig& config);
  // Opens a store; `key` must be given for an encrypted store and match its fingerprint, and must
  // not be given for an unencrypted one.
  static Result<Store> open(const std::string& dir, std::optional<Key> key);

  [[nodiscard]] const std::string& dir() const { return dir_; }
  [[nodiscard]] const StoreConfig& config() const { return config_; }
  [[nodiscard]] const Codec& codec() const { return codec_; }

  [[nodiscard]] std::string chunk_path(const Digest& id) const;
  // True if the chunk exists, and then its mtime is now (GC's mark for running backups).
  [[nodiscard]] Result<bool> touch_chunk(const Digest& id) const;
  // Writes an encoded chunk unless it exists; the bytes written (0 if it existed).
  [[nodiscard]] Result<std::uint64_t> put_chunk(const Digest& id, std::span<const std::uint8_t> blob) const;
  // The chunk's content, decoded and checked (Codec::decode); Errc::not_found if missing.
  [[nodiscard]] Result<std::vector<std::uint8_t>> read_chunk(const Digest& id) const;
  [[nodiscard]] Result<std::vector<ChunkFile>> list_chunks() const;
  // GC's sweep of one chunk: renamed aside, removed only if its mtime is still older than
  // `cutoff_ms` (else renamed back). A backup that touches it first keeps it; one that touches it
  // after the rename finds it missing and writes it again. True if removed.
  [[nodiscard]] Result<bool> remove_chunk_if_older(const Digest& id, std::int64_t cutoff_ms) const;
  // Leftover temporary files (a killed backup's) older than `cutoff_ms`: removed, count returned.
  [[nodiscard]] Result<std::uint64_t> remove_stale_temporaries(std::int64_t cutoff_ms) const;

  // Makes the names of every chunk written so far durable (fsync of their directories).
  [[nodiscard]] Result<void> sync() const;

  [[nodiscard]] Result<void> write_manifest(const Manifest& m) const;  // an existing one is an error
  [[nodiscard]] Result<Manifest> read_manifest(const BackupId& id) const;
  [[nodiscard]] Result<void> remove_manifest(const BackupId& id) const;
  // Every backup (or one VM's), oldest first.
  [[nodiscard]] Result<std::vector<BackupId>> list_backups(const std::optional<std::string>& vm = std::nullopt) const;

  // The lock of one VM's backups: two backups of one VM at once are refused, naming the holder.
  // A lock left by a process of this host that is gone is taken over.
  [[nodiscard]] Result<StoreLock> lock_vm(const std::string& vm, const std::string& what) const;
  [[nodiscard]] Result<StoreLock> lock_gc() const;
  // Everyone holding a VM lock now (running backups and restores).
  [[nodiscard]] Result<std::vector<LockOwner>> writers() const;

 private:
  Store(std::string dir, StoreConfig config, Codec codec);
  [[nodiscard]] Result<StoreLock> take_lock(const std::string& name, const std::string& what) const;

  std::string dir_;
  StoreConfig config_;
  Codec codec_;
  struct Pending;  // the chunk directories written to since the last sync(), shared by workers
  std::shared_ptr<Pending> pending_;
};

// Reads a whole file (at most `limit` bytes), O_NOFOLLOW; Errc::not_found when missing.
Result<std::vector<std::uint8_t>> read_file(const std::string& path, std::size_t limit);
// Milliseconds since the epoch (the wall clock: backup times, lock times, mtimes).
std::int64_t wall_clock_ms();
std::string this_host();

}  // namespace evos::backup
