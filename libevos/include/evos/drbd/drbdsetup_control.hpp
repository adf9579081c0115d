// evos::drbd::DrbdsetupControl: the Control port over the drbdadm and drbdsetup programs, run by
// argv through evos::proc::run (never a shell) with the caller's deadline. Both are found through
// PATH (or `search_path`), so a test can put the drbd simulator first.
#pragma once

#include <evos/drbd/control.hpp>

#include <map>
#include <string>
#include <vector>

namespace evos::drbd {

struct ControlOptions {
  std::string drbdadm = "drbdadm";
  std::string drbdsetup = "drbdsetup";
  std::string config_file;  // drbdadm -c FILE; "" = drbdadm's default (/etc/drbd.conf)
  std::string search_path;  // PATH for finding both; "" = this process's PATH
  std::map<std::string, std::string> env;  // added to the children's environment
};

class DrbdsetupControl final : public Control {
 public:
  explicit DrbdsetupControl(ControlOptions options = {});

  Result<void> up(const std::string& resource, Deadline deadline) override;
  Result<void> down(const std::string& resource, Deadline deadline) override;
  Result<void> adjust(const std::string& resource, Deadline deadline) override;
  Result<void> primary(const std::string& resource, bool force, Deadline deadline) override;
  Result<void> secondary(const std::string& resource, Deadline deadline) override;
  Result<void> connect(const std::string& resource, bool discard_my_data, Deadline deadline) override;
  Result<void> disconnect(const std::string& resource, Deadline deadline) override;
  Result<void> invalidate(const std::string& resource, Deadline deadline) override;
  Result<void> outdate(const std::string& resource, Deadline deadline) override;
  Result<void> verify(const std::string& resource, Deadline deadline) override;
  Result<void> allow_two_primaries(const std::string& resource, bool allow, Deadline deadline) override;
  Result<ResourceState> state(const std::string& resource, Deadline deadline) override;
  Result<std::vector<ResourceState>> status(const std::string& resource, Deadline deadline) override;

 private:
  Result<void> drbdadm(const std::string& resource, std::vector<std::string> command, Deadline deadline);
  Result<std::string> drbdsetup_output(const std::string& resource, std::vector<std::string> args, Deadline deadline,
                                       bool& not_up);

  ControlOptions options_;
};

}  // namespace evos::drbd
