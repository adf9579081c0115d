// Files the VM agent reads and keeps: the domain XML, and the identity of the domain each
// resource instance manages, remembered in the agent's state directory ($HA_RSCTMP).
#pragma once

#include <evos/error.hpp>
#include <evos/log.hpp>
#include <evos/vm/domain_config.hpp>

#include <optional>
#include <string>

namespace evos::vm {

// Reads the domain XML: a missing or unreadable file is Errc::not_installed (a problem of this
// host), a file over 4 MiB is Errc::invalid_config.
Result<std::string> read_domain_xml(const std::string& path);

class IdentityStore {
 public:
  // `instance` is OCF_RESOURCE_INSTANCE; without one (a manual run) nothing is remembered.
  IdentityStore(std::string directory, std::string instance);

  // $HA_RSCTMP/evos-vm, or /run/resource-agents/evos-vm.
  static std::string default_directory();

  [[nodiscard]] std::optional<DomainIdentity> load() const;
  // Writes only when the identity changed (atomically: temporary file, rename).
  void remember(const DomainIdentity& id, Log& log) const;

 private:
  std::string path_;
};

}  // namespace evos::vm
