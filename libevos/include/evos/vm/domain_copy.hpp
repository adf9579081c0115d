// A libvirt domain definition rewritten as a new, independent VM: what a clone, a restore from a
// backup and a snapshot booted as its own VM all need (formatdomain.html: <name>, <uuid>, <mac>,
// <disk><source>, <serial type='file'>).
#pragma once

#include <evos/error.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace evos::vm {

// A VM name evos accepts, or the problem with it. libvirt itself only refuses '/' and empty names
// (virDomainDefParseXML); evos also names files and directories after a VM (its disks, its backup
// directory, its snapshot catalogue), so it takes the portable set A-Z a-z 0-9 . _ - + and at most
// 128 characters, not starting with '.' or '-'.
std::optional<std::string> name_problem(std::string_view name);

// The new source of one disk of the copy.
struct CopiedDisk {
  std::string file;    // absolute path of the copy's image
  std::string format;  // libvirt <driver type>: "raw", "qcow2"
};

struct DomainCopy {
  std::string new_name;
  std::map<std::string, CopiedDisk> disks;  // by <target dev>; every one must exist in the original
  // Disks (device='disk') of the original that are not in `disks`: left out of the copy, or an
  // error (a clone must copy every disk; a restore may take only some).
  bool drop_other_disks = false;
  // Every serial, console, parallel or channel device writing to a file (type='file', or any type
  // with a <log file>, as the pty serial of `evosctl vm create`) is moved to
  // FILE_DIR/NEW_NAME.KIND-N.log, so the copy never writes into the original's logs.
  std::string file_dir;
};

// The definition of `c.new_name` made from `domain_xml`: no <uuid> (libvirt makes a new one), no
// <mac> (libvirt makes new ones), no <metadata> (evos's and others' per-VM metadata belong to the
// original), each listed disk's <source file> and <driver type> replaced (any <backingStore> is
// dropped: QEMU reads the chain from the image), CD-ROMs and floppies kept as they are.
// invalid_argument for a bad new name, invalid_config for a document that is not a domain or a
// disk map naming a target the domain does not have.
Result<std::string> copy_domain(std::string_view domain_xml, const DomainCopy& c);

}  // namespace evos::vm
