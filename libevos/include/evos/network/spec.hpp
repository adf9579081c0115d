// evos::network: libvirt networks that evos defines identically on both nodes (formatnetwork.html).
// A libvirt network is per host: a VM whose interface names network "lan" finds on the node it
// fails over to only what that node's libvirtd calls "lan". So evos writes the same definition
// everywhere and names every difference it finds (compare()).
//  - bridge: <forward mode='bridge'/><bridge name='br0'/>: guests go straight onto a host bridge
//    that the administrator set up (with a NIC in it) on every node;
//  - nat: <forward mode='nat'/> and an <ip> with libvirt's dnsmasq for DHCP: a private subnet
//    behind the node's address that reaches out but is not reachable from outside.
// Pure: parsing, validation, XML both ways; no libvirt here (evos/network/host.hpp is the port).
#pragma once

#include <evos/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::network {

// nat, bridge: what evos creates. other: any other libvirt network (isolated, route, open,
// passthrough...), listed and compared but never created by evos.
enum class Kind { nat, bridge, other };
std::string_view to_string(Kind k);

struct DhcpHost {
  std::string mac;  // canonical: lower case, colon separated
  std::string ip;   // dotted quad
  bool operator==(const DhcpHost&) const = default;
};

struct NetworkSpec {
  std::string name;
  Kind kind = Kind::nat;
  std::string forward_mode;  // as libvirt says it: "nat", "bridge", "" (isolated), "route", ...
  // bridge: the host bridge guests join. nat: left to libvirt (virbrN, chosen per host, never
  // seen by a guest), so not part of the definition evos compares.
  std::string bridge;
  // nat: the MAC of the gateway (the bridge libvirt makes). The same on every node: a guest that
  // migrates keeps the gateway's MAC in its ARP cache, and a bridge with another MAC would drop
  // its frames until that entry expired (tens of seconds). Default: derived from the name.
  std::string mac;
  // nat: the gateway's address on the network's bridge and the prefix length of its subnet.
  std::string address;
  int prefix = 0;
  // DHCP (libvirt's dnsmasq): the dynamic range, empty when there is no DHCP; static hosts.
  std::string dhcp_start;
  std::string dhcp_end;
  std::vector<DhcpHost> hosts;  // sorted by MAC
  bool operator==(const NetworkSpec&) const = default;
};

// IPv4 in dotted quad, each part 0-255 without leading zeros. nullopt if it is not one.
std::optional<std::uint32_t> parse_ipv4(std::string_view text);
std::string format_ipv4(std::uint32_t address);

// Network names: 1-64 characters, A-Z a-z 0-9 . _ -, not starting with '.' or '-' (they name
// files and dnsmasq configurations under /var/lib/libvirt and /run/libvirt on every node).
Result<void> check_name(std::string_view name);
// Linux interface names: 1-15 characters (IFNAMSIZ 16), A-Z a-z 0-9 . _ -, not "." or "..".
Result<void> check_bridge_name(std::string_view name);
// A MAC address "52:54:00:AB:cd:01" -> "52:54:00:ab:cd:01"; unicast only (a guest's NIC).
Result<std::string> canonical_mac(std::string_view text);
// The gateway MAC evos gives a nat network: 52:54:00 (QEMU/libvirt's prefix) and three bytes of
// a hash of the name, so every node computes the same one.
std::string gateway_mac(std::string_view name);

// What `evosctl net create` takes, turned into a spec and checked.
struct NatRequest {
  std::string name;
  std::string cidr;                // the gateway's address with prefix: "192.168.100.1/24"
  std::optional<std::string> dhcp_range;  // "A-B"; "none": no DHCP; unset: the upper half of the subnet
  std::vector<std::string> hosts;  // "MAC=IP"
};
Result<NetworkSpec> nat_spec(const NatRequest& request);
Result<NetworkSpec> bridge_spec(std::string_view name, std::string_view bridge);

// Every rule a definition evos writes must meet: the name; for bridge a bridge name; for nat a
// gateway that is neither the subnet's network nor broadcast address (prefix 8-30), a DHCP
// range inside the subnet with start <= end that leaves out the gateway, static hosts with
// unique MACs and addresses inside the subnet, outside the dynamic range, not the gateway.
// Errc::invalid_argument naming the value.
Result<void> validate(const NetworkSpec& spec);

// Whether two nat subnets share an address (two networks on one node must not: the node would
// route one subnet to two bridges).
bool subnets_overlap(const NetworkSpec& a, const NetworkSpec& b);

// libvirt network XML for virNetworkDefineXML (no UUID: libvirt makes one per host).
std::string to_xml(const NetworkSpec& spec);
// A libvirt network XML (virNetworkGetXMLDesc) back into a spec; what evos does not manage (UUID,
// MAC, STP, NAT port ranges, DNS) is left out. Errc::invalid_config for a document that is not
// a <network>.
Result<NetworkSpec> parse_xml(std::string_view xml);

// One difference between two definitions of a network, for messages: "DHCP range: 10.0.0.100-
// 10.0.0.200 on node1, 10.0.0.50-10.0.0.200 on node2".
struct Difference {
  std::string what;  // "name", "forward mode", "bridge", "address", "DHCP range", "static host 52:54:..."
  std::string a;     // "" = none
  std::string b;
  bool operator==(const Difference&) const = default;
};
std::vector<Difference> compare(const NetworkSpec& a, const NetworkSpec& b);
// "DHCP range: X on A, Y on B; ..." (labels say where each side comes from).
std::string describe(const std::vector<Difference>& diffs, std::string_view label_a, std::string_view label_b);

// "nat 192.168.100.1/24 dhcp 192.168.100.128-192.168.100.254, 1 static host" / "bridge br0".
std::string summary(const NetworkSpec& spec);

}  // namespace evos::network
