// evos::file::write_atomically: the one way evos writes a file a crash or a concurrent reader must
// never see half of (agent state files, DRBD .res files). A temporary file beside the target,
// created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW: a planted file or symlink is never opened or
// followed), written, fsync(2)ed, then renamed over the target, and the directory fsync(2)ed so
// the rename itself survives a power loss (rename(2) is atomic only within one file system, and
// durable only once the directory is synced).
#pragma once

#include <evos/error.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace evos::file {

struct WriteOptions {
  unsigned mode = 0600;                  // the file's permissions (set with fchmod, whatever the umask)
  bool replace = true;                   // false: an existing target is an error, checked atomically
                                         // (link(2), which never replaces)
  std::optional<unsigned> create_parent; // create a missing parent directory (one level) with this mode
  bool sync_directory = true;            // false: the caller fsyncs the directory later, once for many
                                         // files (the backup store's chunks, before their manifest)
};

// Errors name the file and the reason: Errc::invalid_argument "<path> exists" when !replace and
// the target exists, Errc::backend otherwise. The temporary file never outlives the call.
Result<void> write_atomically(const std::string& path, std::string_view content, const WriteOptions& options = {});

}  // namespace evos::file
