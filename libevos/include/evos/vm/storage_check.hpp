// The storage part of `evosctl cluster check` (pure): for every HA VM and every node it may fail
// over to, whether that node's file system has what the VM needs to start there: its definition
// (the ocf:evos:vm `config` file) and every file its domain XML names (disk and CD-ROM images,
// kernel, initrd, firmware). A VM on a disk that is a block device is tied to the nodes that have
// it only by a colocation with a promoted mirror (crm-templates/vm-drbd.crm); without one the
// check can only say it did not look.
#pragma once

#include <evos/error.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace evos::vm {

enum class NeedKind { definition, disk, cdrom, kernel, initrd, loader };
std::string_view to_string(NeedKind k);

struct NeededFile {
  std::string path;  // absolute
  NeedKind kind = NeedKind::disk;
  std::string target;  // the disk's <target dev> ("vda"); "" for the rest
  bool operator==(const NeededFile&) const = default;
};

struct NeededDevice {
  std::string path;    // <source dev>
  std::string target;  // "vda"
  bool operator==(const NeededDevice&) const = default;
};

struct StorageNeeds {
  std::vector<NeededFile> files;
  std::vector<NeededDevice> devices;
};

// What a VM defined by `domain_xml` (read from `config_path`) needs on a node. Network and volume
// disks are left out (their storage is not a node's file system). Errc::invalid_config for a
// document that is not a domain, and for a relative or empty path (libvirt would resolve it
// against its own working directory, which no administrator means).
Result<StorageNeeds> storage_needs(std::string_view config_path, std::string_view domain_xml);

// The directories whose files a node has to be asked for, each once.
struct VmStorage {
  std::string resource;           // "vm-web1"
  std::optional<StorageNeeds> needs;  // nullopt: the definition could not be read here (the network part says so)
  bool promoted_mirror = false;   // colocated with the promoted role of a clone (a DRBD mirror)
  std::string needs_error;        // why storage_needs refused a definition that was read
};
std::set<std::string> directories_needed(const std::vector<VmStorage>& vms);

// One node's answer for one directory: the names of its regular files, or why there is none.
struct Listing {
  std::optional<std::string> error;  // e.g. "cannot open directory ...: No such file or directory"
  std::set<std::string> files;
};
struct NodeFiles {
  std::string node;
  std::optional<std::string> error;  // the node could not be asked at all
  std::map<std::string, Listing> directories;
};

// device_unchecked only warns; every other finding means the VM would not start on that node.
enum class StorageProblem { definition_invalid, node_unreachable, directory_unavailable, file_missing, directory_unlisted, device_unchecked };
std::string_view to_string(StorageProblem p);

struct StorageFinding {
  std::string resource;
  std::string node;  // "" for definition_invalid
  StorageProblem problem = StorageProblem::file_missing;
  std::string path;
  std::string detail;
  [[nodiscard]] bool blocking() const { return problem != StorageProblem::device_unchecked; }
};

std::vector<StorageFinding> check_vm_storage(const std::vector<VmStorage>& vms, const std::vector<NodeFiles>& nodes);

}  // namespace evos::vm
