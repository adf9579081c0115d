// ocf:evos:ping's AttributeWriter: node attributes through evos::cluster::Attributes
// (attrd_updater -B with dampening, -p -U, -D; see evos/cluster/attributes.hpp).
#pragma once

#include <evos/cluster/attributes.hpp>
#include <evos/net/ping_service.hpp>

#include <string>

namespace evos::net {

class AttrdUpdater final : public AttributeWriter {
 public:
  explicit AttrdUpdater(std::string program = "attrd_updater") : attributes_(cluster::AttributeTools{std::move(program)}) {}

  Result<void> update(const std::string& name, const std::string& value, Millis dampen, Deadline deadline) override;
  Result<void> update_private(const std::string& name, const std::string& value, Deadline deadline) override;
  Result<void> remove(const std::string& name, Deadline deadline) override;

 private:
  cluster::Attributes attributes_;
};

}  // namespace evos::net
