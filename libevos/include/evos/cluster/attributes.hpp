// Pacemaker node attributes: the one adapter over attrd_updater(8) and crm_attribute(8) that
// agents and evosctl use. Tools are found on PATH and run by argv with a deadline
// (evos::proc::run); a non-zero exit is Errc::backend naming the command and the first line of
// its stderr. Nothing is parsed from human-readable output (queries use --output-as=xml).
//   update:          attrd_updater -n NAME -B VALUE -d DAMPEN  (value and dampening together; -v
//                    would leave a changed dampening unapplied, as in ocf:pacemaker:ping before 2023)
//   update_private:  attrd_updater -p -n NAME -U VALUE        (kept in attrd, never in the CIB)
//   update_on:       attrd_updater -n NAME -U VALUE -N NODE   (a transient attribute of another node)
//   remove:          attrd_updater -D -n NAME [-N NODE]
//   query:           attrd_updater --query --all --name NAME --output-as=xml
//   set_promotion:   crm_attribute --promotion -v SCORE       (named after OCF_RESOURCE_INSTANCE,
//   remove_promotion: crm_attribute --promotion -D             reboot lifetime, as crm_master did)
//   set_permanent:   crm_attribute --node NODE --name NAME --update VALUE --lifetime forever
//   set_cluster_option: crm_attribute --type crm_config --name NAME --update VALUE | --delete
#pragma once

#include <evos/deadline.hpp>
#include <evos/error.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace evos::cluster {

struct AttributeTools {
  std::string attrd_updater = "attrd_updater";
  std::string crm_attribute = "crm_attribute";
};

class Attributes {
 public:
  explicit Attributes(AttributeTools tools = {}) : tools_(std::move(tools)) {}

  // `dampen` as attrd_updater's -d takes it ("5s", "1500ms"; evos::net::format_dampen).
  Result<void> update(const std::string& name, const std::string& value, const std::string& dampen, Deadline deadline) const;
  Result<void> update_private(const std::string& name, const std::string& value, Deadline deadline) const;
  Result<void> update_on(const std::string& node, const std::string& name, const std::string& value, Deadline deadline) const;
  Result<void> remove(const std::string& name, Deadline deadline, const std::optional<std::string>& node = std::nullopt) const;
  // The value on every node; no attribute yet: an empty map.
  Result<std::map<std::string, std::string>> query(const std::string& name, Deadline deadline) const;

  Result<void> set_promotion(int score, Deadline deadline) const;
  Result<void> remove_promotion(Deadline deadline) const;
  Result<void> set_permanent(const std::string& node, const std::string& name, const std::string& value, Deadline deadline) const;
  // A cluster option in cib-bootstrap-options; nullopt deletes it (Pacemaker's default applies).
  Result<void> set_cluster_option(const std::string& name, const std::optional<std::string>& value, Deadline deadline) const;

 private:
  static Result<void> call(const std::vector<std::string>& argv, Deadline deadline);
  AttributeTools tools_;
};

}  // namespace evos::cluster
