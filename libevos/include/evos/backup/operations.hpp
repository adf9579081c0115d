// evos::backup operations on a store that are more than one call: what `evosctl backup` runs,
// kept here so the tool only parses, calls and prints. Each takes the VM's lock where it writes
// backups of that VM (two backups of one VM at once are refused, naming the holder).
#pragma once

#include <evos/backup/disk_backup.hpp>
#include <evos/backup/restore.hpp>
#include <evos/backup/retention.hpp>

namespace evos::backup {

// A disk image (file or block device) backed up under a name of its own, outside any VM: every
// block is read and hashed; chunks the store holds are only referenced.
struct ImageBackupRequest {
  std::string name;  // the group its backups are listed under (a VM name's syntax)
  std::string path;
};
Result<Manifest> back_up_image(const Store& store, const ImageBackupRequest& request, const RunOptions& options);

// Writes a manifest for disks already in the store: sync first, so the manifest never names a chunk
// that a power loss could take away.
Result<void> commit_backup(const Store& store, const Manifest& manifest);

// The newest backup of `vm`, if any (for incrementals and `backup list --latest`).
Result<std::optional<Manifest>> latest_backup(const Store& store, const std::string& vm);

// Restores one disk of a backup (`disk` empty: the backup's only disk; an error naming its disks
// if it has several).
struct DiskRestoreRequest {
  BackupId backup;
  std::string disk;
  RestoreTarget target;
};
Result<DiskRecord> restore_backup_disk(const Store& store, const DiskRestoreRequest& request, const RunOptions& options);

// Applies a retention policy to each VM's backups (or one VM's); removes the manifests of those it
// does not keep unless `dry_run`. Chunks are freed by collect_garbage().
struct PruneResult {
  std::string vm;
  std::vector<PruneDecision> decisions;
};
Result<std::vector<PruneResult>> prune_backups(const Store& store, const std::optional<std::string>& vm,
                                               const RetentionPolicy& policy, bool dry_run);

// Removes one backup's manifest, even one that cannot be read (GC then frees what only it used).
Result<void> forget_backup(const Store& store, const BackupId& id);

// Reads a key file: a regular file, not a symlink, not readable by group or others.
Result<Key> load_key_file(const std::string& path);
// Writes a new key file (mode 0600, never over an existing file).
Result<Key> create_key_file(const std::string& path);

}  // namespace evos::backup
