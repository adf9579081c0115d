// What `qemu-img info --backing-chain --output=json` says about a disk image and the images under
// it (qemu-img(1); the JSON is QAPI's ImageInfo, one object per image, top first). The clone
// planner reads it to tell a standalone image from an overlay, and a template's users are the
// VMs whose chain holds the template's disk.
#pragma once

#include <evos/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::clone {

struct ImageInfo {
  std::string filename;                   // as qemu-img opened it
  std::string format;                     // "qcow2", "raw"
  std::uint64_t virtual_size = 0;         // bytes the guest sees
  std::optional<std::string> backing;     // "full-backing-filename": the backing file, resolved
  std::optional<std::string> backing_format;
};

// A chain from top image to base: element i+1 is element i's backing file.
using BackingChain = std::vector<ImageInfo>;

// Parses qemu-img's output for one image. Errc::backend naming what is wrong for anything that
// is not such a chain: not JSON, not a non-empty array, an element without "filename" or
// "format", a size that is not a non-negative integer, a backing file the next element is not,
// more than 64 images, a chain that loops.
Result<BackingChain> parse_backing_chain(std::string_view json);

// True if `file` (an absolute path, compared as given: callers pass canonical paths) is one of
// the chain's backing files (any element but the top one).
bool chain_has_backing_file(const BackingChain& chain, std::string_view file);

}  // namespace evos::clone
