// Pacemaker's command-line tools, run by argv with deadlines (evos::proc::run): the status as
// XML, configuration changes, resource moves. Tools are found through PATH; CIB_file in the
// environment makes them work on a CIB file instead of the live cluster (used by tests).
#pragma once

#include <evos/cluster/cib_plan.hpp>
#include <evos/cluster/status.hpp>
#include <evos/deadline.hpp>

#include <functional>
#include <map>
#include <string>

namespace evos::cluster {

// `crm_mon --one-shot --output-as=xml --include=attributes`, parsed.
Result<PacemakerStatus> read_pacemaker_status(Deadline deadline);

// The value of a (transient or private) node attribute on every node, from pacemaker-attrd:
// Attributes().query(name) (evos/cluster/attributes.hpp). No attribute: an empty map.
Result<std::map<std::string, std::string>> query_node_attribute(const std::string& name, Deadline deadline);

// `crm configure load update FILE` with `text` (crmsh syntax, e.g. a rendered template).
Result<void> load_crm_configuration(const std::string& text, Deadline deadline);

// Sets or deletes a resource meta attribute (`crm_resource --meta`); value "" deletes it.
Result<void> set_resource_meta(const std::string& resource, const std::string& name, const std::string& value,
                               Deadline deadline);

// Deletes a primitive from the configuration (`cibadmin --delete`).
Result<void> delete_primitive(const std::string& resource, Deadline deadline);

// The configuration section: `cibadmin --query --scope configuration`.
Result<std::string> query_configuration(Deadline deadline);
// The same, or nullopt when no Pacemaker runs on this node: cibadmin is not installed, or exits
// with CRM_EX_NOT_CONNECTED (102, "Could not connect to the CIB").
Result<std::optional<std::string>> query_configuration_if_running(Deadline deadline);

// Every element of the plan in one CIB change: `cibadmin --delete --force --delete-all --xpath`.
// (--force: cibadmin calls any XPath delete dangerous; the plan names each element by id.)
Result<void> remove_from_cib(const CibRemoval& removal, Deadline deadline);

// Replaces the fencing topology (`cibadmin --replace --scope fencing-topology`).
Result<void> replace_fencing_topology(const std::string& topology_xml, Deadline deadline);

// `crm_resource --move --node NODE` (a temporary location preference) and `--clear` (removes it).
Result<void> move_resource(const std::string& resource, const std::string& node, Deadline deadline);
Result<void> clear_resource_moves(const std::string& resource, Deadline deadline);

// `crm_resource --fail --resource R --node N`: tells Pacemaker the resource failed on that node
// (a failed operation result injected through the controller), so it recovers it at once as if
// a monitor had failed. evosd's report of a VM that stopped behind Pacemaker's back.
Result<void> fail_resource(const std::string& resource, const std::string& node, Deadline deadline);

// This node's name in the cluster: `crm_node --name`.
Result<std::string> local_node_name(Deadline deadline);

// Polls the status until `done` holds for the resource (nullptr when it is not configured).
Result<PacemakerStatus> wait_for_resource(const std::string& resource, Deadline deadline,
                                          const std::function<bool(const ResourceStatus*)>& done);

}  // namespace evos::cluster
