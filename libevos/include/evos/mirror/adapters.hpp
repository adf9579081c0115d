// ocf:evos:mirror's adapters:
//  - CrmAttributePromotion: this node's promotion score through Pacemaker's crm_attribute
//    (evos::cluster::Attributes). `crm_attribute --promotion` names the attribute after
//    OCF_RESOURCE_INSTANCE (inherited from the agent's environment) and defaults to the reboot
//    lifetime on the local node, exactly as the deprecated crm_master wrapper did:
//        set:    crm_attribute --promotion -v SCORE
//        remove: crm_attribute --promotion -D
//    Nothing is ever parsed from Pacemaker's human-readable output.
//  - MemoryFile: the agent's memory in $HA_RSCTMP/evos-mirror-<instance>.state.
#pragma once

#include <evos/cluster/attributes.hpp>
#include <evos/mirror/service.hpp>

#include <string>
#include <vector>

namespace evos::mirror {

class CrmAttributePromotion final : public PromotionAttribute {
 public:
  explicit CrmAttributePromotion(std::string program = "crm_attribute")
      : attributes_(cluster::AttributeTools{.crm_attribute = std::move(program)}) {}
  Result<void> set(int score, Deadline deadline) override;
  Result<void> remove(Deadline deadline) override;

 private:
  cluster::Attributes attributes_;
};

// The recovery request for this node through pacemaker-attrd: read with
// `attrd_updater --query --all --name NAME --output-as=xml` (XML, never text), removed with
// `attrd_updater -D -n NAME -N NODE` (evos::cluster::Attributes). `node` is this node's Pacemaker name (CRM_meta_on_node).
class AttrdResolveRequests final : public ResolveRequests {
 public:
  AttrdResolveRequests(std::string attribute, std::string node) : attribute_(std::move(attribute)), node_(std::move(node)) {}
  Result<std::optional<std::string>> pending(Deadline deadline) override;
  Result<void> done(Deadline deadline) override;

 private:
  std::string attribute_;
  std::string node_;
};

class MemoryFile final : public MemoryStore {
 public:
  explicit MemoryFile(std::string path) : path_(std::move(path)) {}
  // Errc::invalid_argument if the instance name cannot be part of a file name.
  static Result<std::string> default_path(const std::string& instance);

  [[nodiscard]] std::optional<AgentMemory> load() const override;
  Result<void> save(const AgentMemory& memory) override;  // atomically (rename)
  Result<void> remove() override;

 private:
  std::string path_;
};

}  // namespace evos::mirror
