// What `evosctl vm create` makes, as data: a VmSpec checked before anything is created, and the
// libvirt domain XML generated from it (formatdomain.html). The XML names only files in the VM's
// directory on the shared storage (vm::layout) and nothing of the host that wrote it (no emulator
// path, no channel socket path: libvirt fills those in on each node), and carries its own UUID
// and MACs, so both nodes define and start the very same VM from the very same file. Pure.
#pragma once

#include <evos/error.hpp>
#include <evos/vm/layout.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::vm {

// "20G", "512M", "1T", "64K" (also "20GiB", "20GB": powers of 1024, as qemu-img and virsh take
// them) in bytes. A whole number and a unit are required: a bare "512" is ambiguous (bytes for
// qemu-img, MiB for virt-install), so it is refused. 0, negatives, fractions, garbage and values
// above 2^63 are Errc::invalid_argument naming `what` ("--memory") and the text.
Result<std::uint64_t> parse_size(std::string_view text, std::string_view what);
// 2147483648 -> "2 GiB", 1536 -> "1536 B"... the largest unit that divides it exactly.
std::string format_size(std::uint64_t bytes);

enum class BootKind { import_image, cdrom, kernel };
enum class NetKind { none, network, bridge };

// What the administrator asked for, as given on the command line (sizes as text).
struct VmRequest {
  std::string name;
  std::string storage = default_storage_dir;
  unsigned vcpus = 1;
  std::string memory;              // "512M"
  std::vector<std::string> disks;  // "2G" each: vda, vdb... (vdb... when --import gives vda)
  std::string format = "qcow2";    // of every created disk: qcow2 or raw
  std::string network;             // a libvirt network's name
  std::string bridge;              // a host bridge
  std::string import_image;        // an existing disk image, copied (converted) as the first disk
  std::string cdrom;               // an installation ISO
  std::string kernel, initrd, cmdline;
  std::string virt_type = "kvm";   // kvm, or qemu (TCG: no hardware virtualization)
};

struct DiskSpec {
  std::string target;        // vda, vdb, ...
  std::string file;          // in the VM's directory (layout.disk)
  std::string format;        // qcow2, raw
  std::uint64_t bytes = 0;   // 0 for the imported disk: its size is the image's
  std::string import_from;   // the image it is converted from, or ""
};

// The identity a new VM keeps for life: written once into its definition, never regenerated
// (both nodes must agree on it: libvirt makes a new UUID and new MACs for a definition without
// them, per define, so a VM would change identity - and DHCP address - with each node).
struct VmIdentity {
  std::string uuid;  // RFC 4122 version 4, lower case
  std::string mac;   // 52:54:00:xx:xx:xx (QEMU's locally administered prefix)
};
// From 19 random bytes (16 for the UUID, 3 for the MAC): the caller owns the randomness.
VmIdentity make_identity(const std::array<std::uint8_t, 19>& random);

struct VmSpec {
  VmLayout layout;
  unsigned vcpus = 1;
  std::uint64_t memory_bytes = 0;
  std::vector<DiskSpec> disks;
  NetKind net = NetKind::none;
  std::string net_source;  // the network or bridge name
  BootKind boot = BootKind::kernel;
  std::string cdrom;                   // the ISO, referenced where it is (absolute path)
  std::string kernel_source, initrd_source;  // copied into the VM's directory ...
  std::string kernel, initrd;          // ... as these files, which the definition names
  std::string cmdline;
  std::string virt_type = "kvm";
};

inline constexpr unsigned max_vcpus = 256;
inline constexpr unsigned max_disks = 16;
inline constexpr std::uint64_t min_memory = 16ull << 20;
inline constexpr std::uint64_t max_memory = 16ull << 40;
inline constexpr std::uint64_t min_disk = 1ull << 20;
inline constexpr std::uint64_t max_disk = 64ull << 40;

// Every check before anything exists: the name (vm::name_problem), the storage path, vcpus
// 1..256, memory 16 MiB..16 TiB, disks 1 MiB..64 TiB (at least one unless --import gives it;
// at most 16), format qcow2|raw, exactly one boot source (an --initrd or --cmdline needs
// --kernel), at most one of --network/--bridge with a name libvirt and ip(8) accept, absolute
// paths without newlines for the files given, virt type kvm|qemu. Errc::invalid_argument
// naming the option and the value.
Result<VmSpec> plan_vm(const VmRequest& request);

// The domain XML of `spec` with identity `id`: q35 machine, virtio disks (cache='none', which
// live migration on shared storage needs), the serial port as a pty (for `vm console`) logged
// to layout.serial_log() (append: the log survives restarts, migration and failover), the QEMU
// guest agent channel org.qemu.guest_agent.0 (for snapshots' file system freeze), an ISO on
// SATA with boot order cdrom, hd; kernel boot from the copies in the VM's directory. Its
// <metadata> records what was asked (disk sizes, import source) so a second create can tell an
// identical request from a different one.
std::string domain_xml(const VmSpec& spec, const VmIdentity& id);

// The identity in an existing definition (its <uuid> and first <interface>'s <mac>), to
// regenerate the XML a repeated create would have written. invalid_config for a document that
// is not a domain.
Result<VmIdentity> read_identity(std::string_view domain_xml);

// One disk of a definition (device='disk', type='file').
struct DefinedDisk {
  std::string target;
  std::string file;
  std::string format;
};
// The file disks of a domain definition, in document order. invalid_config for a document that
// is not a domain.
Result<std::vector<DefinedDisk>> defined_disks(std::string_view domain_xml);

}  // namespace evos::vm
