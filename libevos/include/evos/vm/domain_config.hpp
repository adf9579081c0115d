// The identity of a domain read from its libvirt domain XML (formatdomain.html: <name>, <uuid>).
#pragma once

#include <evos/error.hpp>

#include <string>
#include <string_view>

namespace evos::vm {

struct DomainIdentity {
  std::string name;
  std::string uuid;  // "" when the XML has none (libvirt then generates one)

  bool operator==(const DomainIdentity&) const = default;
};

// Parses with a real XML parser (VirtualDomain greps one line and breaks on a multi-line
// <name>). Errors are invalid_config and say what is wrong with the document.
Result<DomainIdentity> parse_domain_identity(std::string_view xml);

}  // namespace evos::vm
