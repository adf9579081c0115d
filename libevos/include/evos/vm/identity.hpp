// Which domain a resource is: decided from the `domain` parameter, the config file and the name
// remembered from an earlier action. Pure.
#pragma once

#include <evos/error.hpp>
#include <evos/vm/domain_config.hpp>

#include <optional>
#include <string>

namespace evos::vm {

struct IdentitySources {
  std::string domain_param;                   // "" if unset
  Result<DomainIdentity> from_config;         // the config file read and parsed, or why not
  std::optional<DomainIdentity> remembered;   // from the agent's state directory
};

// The config decides when it is readable (and must agree with `domain`). When it is not, the
// `domain` parameter or the remembered name still identifies the domain, so an unreadable
// config never turns a running domain into "not running" (VirtualDomain issues #856, #1231).
// With neither, the answer is an error: "in doubt" is never "stopped".
Result<DomainIdentity> resolve_identity(const IdentitySources& sources);

}  // namespace evos::vm
