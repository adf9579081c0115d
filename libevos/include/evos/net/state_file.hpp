// The state file of one ocf:evos:ping instance: $HA_RSCTMP/evos-ping-<instance>.state
// (HA_RSCTMP defaults to /run/resource-agents: a tmpfs, so a rebooted node starts stopped).
#pragma once

#include <evos/net/ping_service.hpp>

#include <string>

namespace evos::net {

class StateFile final : public StateStore {
 public:
  explicit StateFile(std::string path) : path_(std::move(path)) {}

  // Errc::invalid_argument if the instance name cannot be part of a file name.
  static Result<std::string> default_path(const std::string& instance);

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] bool exists() const override;
  [[nodiscard]] std::optional<PingState> load() const override;
  // Atomically: a temporary file, then rename(2).
  Result<void> save(const PingState& state) override;
  // A missing file is fine.
  Result<void> remove() override;

 private:
  std::string path_;
};

}  // namespace evos::net
