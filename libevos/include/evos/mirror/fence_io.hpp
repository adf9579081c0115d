// The DRBD fence handler's FenceCluster (fence_handler.hpp) over Pacemaker's tools: cibadmin (XML
// in, XML out) and crm_mon's XML status, found through PATH and run by argv with the deadline
// (evos::proc::run). CIB_file in the environment makes them work on a CIB file (tests).
#pragma once

#include <evos/mirror/fence_handler.hpp>

namespace evos::mirror {

class CibadminFenceCluster final : public FenceCluster {
 public:
  Result<std::string> resources(Deadline deadline) override;
  Result<CibWrite> replace_constraint(const std::string& xml, Deadline deadline) override;
  Result<CibWrite> create_constraint(const std::string& xml, Deadline deadline) override;
  Result<void> delete_constraint(const std::string& id, Deadline deadline) override;
  Result<cluster::PacemakerStatus> status(Deadline deadline) override;
};

}  // namespace evos::mirror
