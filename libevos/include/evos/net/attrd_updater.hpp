// Node attributes through Pacemaker's attrd_updater(8), found on PATH and run by argv with a
// deadline (evos::proc::run):
//   update:         attrd_updater -n NAME -B VALUE -d DAMPEN   (value and dampening together; -v
//                   would leave a changed dampening unapplied, as in ocf:pacemaker:ping before 2023)
//   update_private: attrd_updater -p -n NAME -U VALUE          (kept in attrd, never in the CIB)
//   remove:         attrd_updater -D -n NAME
#pragma once

#include <evos/net/ping_service.hpp>

#include <string>

namespace evos::net {

class AttrdUpdater final : public AttributeWriter {
 public:
  explicit AttrdUpdater(std::string program = "attrd_updater") : program_(std::move(program)) {}

  Result<void> update(const std::string& name, const std::string& value, Millis dampen, Deadline deadline) override;
  Result<void> update_private(const std::string& name, const std::string& value, Deadline deadline) override;
  Result<void> remove(const std::string& name, Deadline deadline) override;

 private:
  Result<void> call(std::vector<std::string> argv, Deadline deadline);
  std::string program_;
};

}  // namespace evos::net
