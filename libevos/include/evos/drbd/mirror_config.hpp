// A two-node DRBD 9 mirror as evos configures it, its validation, and the .res file that
// drbdadm reads (drbd.conf(5), DRBD 9 section). Pure: no file is written here.
//
// The rendered resource always has:
//   net      protocol C; fencing resource-and-stonith; allow-two-primaries no (yes only while a
//            live migration needs both sides Primary); after-sb-* policies for VM images;
//            verify-alg (online verify, `drbdadm verify`; sha256 unless configured)
//   options  auto-promote no (Pacemaker, not an open(2), decides who is Primary)
//   disk     on-io-error detach (a failing disk turns the node Diskless; I/O goes to the peer)
//   handlers fence-peer and unfence-peer (the Pacemaker constraint handlers by default)
#pragma once

#include <evos/error.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::drbd {

// DRBD_PEERS_MAX in linux/drbd.h: node ids are 0..31.
inline constexpr int max_node_id = 31;
// DRBD minors are 20 bits (MINORMASK in drbd_int.h).
inline constexpr int max_minor = (1 << 20) - 1;

// A replication endpoint: "198.18.0.1:7789" or "[fd00::1]:7789".
struct Address {
  std::string ip;  // without brackets
  std::uint16_t port = 0;
  bool ipv6 = false;

  bool operator==(const Address&) const = default;
};

// Errors are invalid_config and name the problem.
Result<Address> parse_address(std::string_view text);
// drbd.conf spelling: "ipv4 198.18.0.1:7789" / "ipv6 [fd00::1]:7789".
std::string render_address(const Address& address);

// One side of the mirror: an `on <name>` section.
struct Host {
  std::string name;     // DRBD matches this against `uname -n`; it must equal the node's host name
  int node_id = -1;     // 0..31, unique in the mirror
  std::string address;  // "ip:port" / "[ipv6]:port" the peer connects to
  std::string disk;     // backing block device, an absolute path
  std::string meta_disk = "internal";  // "internal" or an absolute path
};

// A handler command: DRBD runs it through /bin/sh with the resource name appended, so the path and
// each argument are restricted to characters no shell treats specially.
struct Handler {
  std::string path;
  std::vector<std::string> args;
};

// What DRBD does when it finds diverged data on connect (drbd.conf(5) after-sb-*pri). The
// defaults are the DRBD user's guide's for a Pacemaker cluster: with no Primary, keep the side
// that wrote (if only one did); with one Primary, keep the Primary's data; with two, disconnect
// and wait for a person.
struct SplitBrainPolicy {
  std::string after_sb_0pri = "discard-zero-changes";
  std::string after_sb_1pri = "discard-secondary";
  std::string after_sb_2pri = "disconnect";
};

struct Mirror {
  std::string resource;  // [A-Za-z0-9][A-Za-z0-9_.-]*, at most 63 bytes, not "all"
  int minor = -1;        // /dev/drbd<minor> on both hosts, 0..max_minor
  std::array<Host, 2> hosts;
  bool allow_two_primaries = false;  // only for a live-migration window
  SplitBrainPolicy split_brain_policy;
  // The kernel crypto hash online verify compares blocks with (drbd.conf(5) verify-alg). Without
  // one, `drbdadm verify` fails. sha256: in every kernel (also FIPS ones), and a block that differs
  // is never missed by a collision, unlike a 32-bit crc32c.
  std::string verify_alg = "sha256";
  Handler fence_peer{"/usr/lib/drbd/crm-fence-peer.9.sh", {}};
  Handler unfence_peer{"/usr/lib/drbd/crm-unfence-peer.9.sh", {}};
  std::optional<Handler> split_brain_notify;  // e.g. /usr/lib/drbd/notify-split-brain.sh root
};

// The first problem with the mirror as a whole, as invalid_config naming the field.
Result<void> validate(const Mirror& mirror);

// The .res text for `include`; validates first (nothing unvalidated reaches the file).
Result<std::string> render_res(const Mirror& mirror);

}  // namespace evos::drbd
