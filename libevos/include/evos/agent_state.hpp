// evos::agent_state: the small files an agent keeps between its invocations (the ping agent's
// last round, the mirror agent's published score, the VM agent's remembered domain name) in the
// OCF state directory. One place for where they live and how they are written: atomically
// (evos::file::write_atomically: an exclusive temporary file beside the target, fsync, rename,
// fsync of the directory), so a crash or a concurrent reader never sees half a file.
#pragma once

#include <evos/error.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace evos::agent_state {

// $HA_RSCTMP if it is an absolute path, else /run/resource-agents (OCF resource-agents'
// ocf-directories: HA_RSCTMP, "where resource agents keep state that must not survive a reboot").
std::string directory();

// DIR/PREFIX-INSTANCE.state for an OCF_RESOURCE_INSTANCE ("default" when empty). The instance
// must be a plain token (text::Syntax::token, at most 200 bytes): it becomes part of a file name.
Result<std::string> instance_path(std::string_view prefix, const std::string& instance);

// The whole file, or nullopt if it cannot be read.
std::optional<std::string> read(const std::string& path);

// Writes `content` to `path` atomically, creating the parent directory (mode `dir_mode`) if it
// is missing. Errors name the file and the reason.
Result<void> write(const std::string& path, std::string_view content, unsigned dir_mode = 0755);

// Removes the file; a missing file is not an error.
Result<void> remove(const std::string& path);

}  // namespace evos::agent_state
