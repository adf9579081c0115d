// The disks of a libvirt domain definition (formatdomain.html, "Hard drives, floppy disks,
// CDROMs"), read once for every module that works on a VM's disks (backups, clones, snapshots),
// each of which then says what it can work with.
#pragma once

#include <evos/error.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace evos::vm {

struct DiskDevice {
  std::string target;  // <target dev>: "vda"
  std::string type;    // <disk type>: "file" (libvirt's default), "block", "network", "volume", ...
  std::string source;  // <source file> of a file disk, <source dev> of a block disk; "" otherwise
  std::string format;  // <driver type> as written ("qcow2", "raw"); "" when the definition has none
};

// Every <disk device='disk'> in document order (CD-ROMs and floppies are not disks here).
// Errc::invalid_config for a document that is not XML or not a domain, a disk without
// <target dev>, and two disks with one target.
Result<std::vector<DiskDevice>> domain_disks(std::string_view domain_xml);

}  // namespace evos::vm
