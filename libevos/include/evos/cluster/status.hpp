// The cluster as Pacemaker and Corosync report it: members and quorum (Corosync's libraries),
// nodes, resources and node attributes (Pacemaker's XML status, `crm_mon --output-as=xml`; never
// its human-readable text, which changes between releases).
#pragma once

#include <evos/error.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::cluster {

struct Member {
  std::uint32_t nodeid = 0;
  std::string name;
  bool online = false;  // in the current Corosync membership
};

struct Membership {
  std::string cluster_name;
  bool quorate = false;
  std::uint32_t local_nodeid = 0;
  std::vector<Member> nodes;  // configured nodes (nodelist), online or not
};

struct NodeStatus {
  std::string name;
  bool online = false;
  bool standby = false;
  bool maintenance = false;
  bool unclean = false;
  bool is_dc = false;
  std::map<std::string, std::string> attributes;  // transient and permanent node attributes
};

struct ResourceStatus {
  std::string id;
  std::string agent;     // "ocf:evos:vm"
  std::string role;      // "Started", "Stopped", "Promoted", "Unpromoted", ...
  std::string parent;    // the clone or group it belongs to, or ""
  bool active = false;
  bool failed = false;
  bool managed = true;
  bool blocked = false;
  std::vector<std::string> nodes;  // where it runs
};

// A failed resource action Pacemaker keeps until a cleanup (crm_mon's <failures><failure>).
struct FailedAction {
  std::string op_key;  // "vm-web1_monitor_10000": resource, operation, interval
  std::string node;
  int exitcode = 0;    // the agent's OCF exit code
  std::string exitreason;
};

struct PacemakerStatus {
  std::string dc;  // "" when there is none
  bool quorate = false;
  bool stonith_enabled = false;
  std::vector<NodeStatus> nodes;
  std::vector<ResourceStatus> resources;
  std::vector<FailedAction> failures;

  [[nodiscard]] const ResourceStatus* resource(std::string_view id) const;
  [[nodiscard]] const NodeStatus* node(std::string_view name) const;
};

// Parses `attrd_updater --query --all --output-as=xml`: node name -> value of the attribute.
Result<std::map<std::string, std::string>> parse_attrd_query_xml(std::string_view xml);

// Parses `crm_mon --output-as=xml` (Pacemaker 2.1 API 2.x). Unknown elements and attributes are
// ignored; a document that is not crm_mon's XML is Errc::invalid_argument.
Result<PacemakerStatus> parse_crm_mon_xml(std::string_view xml);

}  // namespace evos::cluster
