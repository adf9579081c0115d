// Which images a disk image reads through: its backing chain as `qemu-img info --backing-chain
// -U --output=json FILE` reports it (qemu-img(1); -U: also while QEMU has the image open). Used
// so that `evosctl vm delete` never removes an image another VM's disk still reads (a linked
// clone's overlay on a template, an external snapshot's overlay). Pure.
#pragma once

#include <evos/error.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace evos::vm {

// The backing files of the image, nearest first, as absolute paths (each element's
// "full-backing-filename"; the image itself is not listed). Also takes the single object that
// qemu-img prints without --backing-chain. invalid_config for output that is not qemu-img's.
Result<std::vector<std::string>> parse_backing_chain(std::string_view qemu_img_json);

// An image that reads through one of the images a delete would remove.
struct BackingUse {
  std::string user;     // the other VM's image
  std::string backing;  // which of ours it reads through
  bool operator==(const BackingUse&) const = default;
};

// Every image of `chains` (image -> its backing files) whose chain holds one of `ours`, sorted
// by user. Paths are compared as given: the caller passes canonical paths.
std::vector<BackingUse> backing_uses(const std::vector<std::string>& ours,
                                     const std::map<std::string, std::vector<std::string>>& chains);

}  // namespace evos::vm
