// The decisions of `evosctl net create|list|delete` over every node's NetworkHost (pure: the
// ports in, outcomes out; evosctl only connects and prints):
//  - create: checked against every node before any node is changed, so a create that cannot be
//    done everywhere changes nothing. Per node: absent -> defined, started, autostarted; an
//    identical definition -> "already exists" (started and autostarted if it was not); a
//    different one -> Errc::invalid_argument naming every difference; a nat subnet that
//    overlaps another network's on that node, or a bridge network's host bridge missing on a
//    node that can list its bridges -> Errc::invalid_argument.
//  - delete: refused (Errc::invalid_argument) while a domain on any node, defined or running,
//    has an interface on the network; then stopped and undefined on every node that has it.
//  - list: every network on every node, with whether it is defined identically everywhere.
#pragma once

#include <evos/network/host.hpp>
#include <evos/network/spec.hpp>

#include <optional>
#include <string>
#include <vector>

namespace evos::network {

// One node as the commands see it: a label for messages (its URI) and its port.
struct Node {
  std::string label;
  NetworkHost* host = nullptr;
};

enum class CreateAction { created, already_exists, started };  // started: existed identically, was not running

struct NodeCreate {
  std::string node;
  CreateAction action = CreateAction::created;
};
Result<std::vector<NodeCreate>> create_network(const NetworkSpec& spec, const std::vector<Node>& nodes);

struct NodeDelete {
  std::string node;
  bool existed = false;
};
// Errc::not_found when no node has the network.
Result<std::vector<NodeDelete>> delete_network(const std::string& name, const std::vector<Node>& nodes);

// The networks a domain's interfaces use (formatdomain.html "Network interfaces"):
// <interface type='network'><source network='N'/> and <interface type='bridge'><source bridge='B'/>.
struct InterfaceUse {
  enum class Type { network, bridge } type = Type::network;
  std::string source;  // the network's or the bridge's name
  std::string mac;     // "" when the XML has none
  bool operator==(const InterfaceUse&) const = default;
};
Result<std::vector<InterfaceUse>> domain_interfaces(std::string_view domain_xml);
std::string domain_name(std::string_view domain_xml);  // "" if none
// The bridge a libvirt host interface XML (virInterfaceGetXMLDesc) describes, if it is one:
// <interface type='bridge' name='br0'>.
std::optional<std::string> bridge_of_interface(std::string_view interface_xml);

// One network across nodes, for `net list`.
struct NodeNetwork {
  std::string node;
  bool defined = false;
  bool active = false;
  bool autostart = false;
  std::optional<NetworkSpec> spec;  // nullopt: not defined there, or its XML unreadable
};
struct NetworkAcross {
  std::string name;
  std::vector<NodeNetwork> nodes;   // in the order of the nodes given
  bool identical = false;           // defined on every node, same definition, active everywhere
  std::vector<std::string> problems;  // "missing on X", "inactive on X", "differs on X: ..."
};
struct NodeListing {
  std::string node;
  std::vector<NetworkInfo> networks;
};
// Networks by name; a node whose listing failed is left out by the caller (it says so).
std::vector<NetworkAcross> list_across(const std::vector<NodeListing>& listings);

}  // namespace evos::network
