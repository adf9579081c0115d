// ICMP echo to many hosts at once, IPv4 and IPv6 in one round (one socket per family).
//
// Sockets: first the unprivileged ICMP datagram socket (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP),
// and IPPROTO_ICMPV6), which the kernel allows to the groups in net.ipv4.ping_group_range (it
// covers IPv6 too). That range is per network namespace and defaults to "1 0" (nobody), even
// for root, so root inside a fresh namespace, and pacemaker-execd on most distributions, get
// EACCES there; the prober then opens a raw ICMP socket, which needs CAP_NET_RAW (root has it).
// Raw sockets see every ICMP packet of the node: a kernel filter (ICMP_FILTER, ICMP6_FILTER)
// passes only echo replies, and replies are matched by identifier, a random per-round cookie in
// the payload, sequence number and source address, so concurrent probers (another agent, fping)
// never count each other's replies.
#pragma once

#include <evos/net/ping_service.hpp>

#include <string>

namespace evos::net {

class IcmpProber final : public Prober {
 public:
  Result<std::vector<HostResult>> probe(std::span<const Target> targets, const ProbeOptions& options,
                                        Deadline deadline) override;

  // "ipv4: datagram, ipv6: raw" after a round (for logs); "" before.
  [[nodiscard]] const std::string& socket_kinds() const { return kinds_; }

 private:
  std::string kinds_;
};

}  // namespace evos::net
