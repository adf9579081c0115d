// Name resolution through getaddrinfo(3) (so /etc/hosts, DNS and nsswitch.conf all apply), bounded
// by a deadline: getaddrinfo cannot be interrupted, so each name is resolved on its own detached
// thread, and the caller stops waiting at the deadline (a late answer is discarded).
#pragma once

#include <evos/net/ping_service.hpp>

namespace evos::net {

class SystemResolver final : public Resolver {
 public:
  // The first address getaddrinfo returns (RFC 6724 order) for each host; literals as they are.
  Result<std::vector<Target>> resolve(std::span<const HostSpec> hosts, Deadline deadline) override;
};

}  // namespace evos::net
