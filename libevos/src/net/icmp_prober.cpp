#include <evos/activity.hpp>
#include <evos/net/icmp_prober.hpp>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <random>

namespace evos::net {
namespace {

constexpr std::uint8_t icmp4_echo_request = 8, icmp4_echo_reply = 0;
constexpr std::uint8_t icmp6_echo_request = 128, icmp6_echo_reply = 129;
constexpr int icmp4_filter_option = 1;  // ICMP_FILTER (SOL_RAW) from <linux/icmp.h>, which clashes with glibc's headers
constexpr std::size_t header_bytes = 8;
constexpr std::size_t payload_bytes = 16;  // cookie (8), probe index (4), zero (4)

// A socket that closes itself.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() { reset(); }
  [[nodiscard]] int fd() const { return fd_; }

 private:
  void reset() {
    if (fd_ >= 0) ::close(fd_);  // no retry on EINTR: the descriptor is gone either way on Linux
    fd_ = -1;
  }
  int fd_ = -1;
};

struct IcmpSocket {
  Socket socket;
  bool raw = false;
};

int address_family(Family f) { return f == Family::ipv6 ? AF_INET6 : AF_INET; }
int icmp_protocol(Family f) { return f == Family::ipv6 ? static_cast<int>(IPPROTO_ICMPV6) : static_cast<int>(IPPROTO_ICMP); }

Result<IcmpSocket> open_icmp(Family family, const std::string& interface) {
  const int af = address_family(family), proto = icmp_protocol(family);
  const std::string_view fam = family == Family::ipv6 ? "ICMPv6" : "ICMP";
  IcmpSocket s;
  int fd = ::socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  const int dgram_errno = fd < 0 ? errno : 0;
  if (fd < 0) {
    fd = ::socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    s.raw = true;
  }
  if (fd < 0) {
    const int raw_errno = errno;
    if (raw_errno == EAFNOSUPPORT || dgram_errno == EAFNOSUPPORT)
      return make_error(Errc::not_installed, "cannot open an {} socket: {} is not available on this node", fam,
                        family == Family::ipv6 ? "IPv6" : "IPv4");
    return make_error(raw_errno == EPERM || raw_errno == EACCES ? Errc::permission_denied : Errc::backend,
                      "cannot open an {} socket: unprivileged ({}; see net.ipv4.ping_group_range): {}; raw (needs "
                      "CAP_NET_RAW): {}",
                      fam, "SOCK_DGRAM", std::strerror(dgram_errno), std::strerror(raw_errno));
  }
  s.socket = Socket(fd);
  if (s.raw) {
    // Let the kernel drop every ICMP type but echo replies before they reach us.
    if (family == Family::ipv4) {
      const std::uint32_t blocked = ~(1u << icmp4_echo_reply);
      if (::setsockopt(fd, SOL_RAW, icmp4_filter_option, &blocked, sizeof blocked) != 0)
        return make_error(Errc::backend, "cannot filter the raw ICMP socket: {}", std::strerror(errno));
    } else {
      icmp6_filter filter{};
      std::memset(&filter, 0xff, sizeof filter);  // block all (RFC 3542: a set bit blocks)
      filter.icmp6_filt[icmp6_echo_reply >> 5] &= ~(1u << (icmp6_echo_reply & 31));
      if (::setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) != 0)
        return make_error(Errc::backend, "cannot filter the raw ICMPv6 socket: {}", std::strerror(errno));
    }
  }
  if (!interface.empty() &&
      ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, interface.c_str(), static_cast<socklen_t>(interface.size())) != 0)
    return make_error(errno == ENODEV ? Errc::invalid_config : Errc::backend, "cannot bind the {} socket to interface '{}': {}",
                      fam, interface, std::strerror(errno));
  return s;
}

// RFC 1071 Internet checksum. ICMPv6 checksums (which include a pseudo-header) are the kernel's
// job on both socket kinds (RFC 3542 section 3.1), as are ICMPv4 ones on datagram sockets.
std::uint16_t checksum(const std::uint8_t* data, std::size_t size) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < size; i += 2) sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
  if (size % 2) sum += static_cast<std::uint32_t>(data[size - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v & 0xff);
}
std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
void put32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
std::uint32_t get32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}

// The numeric address as a socket address (AI_NUMERICHOST never blocks; it also applies a %zone).
Result<sockaddr_storage> to_sockaddr(const Target& t, socklen_t& length) {
  addrinfo hints{};
  hints.ai_family = address_family(t.family);
  hints.ai_flags = AI_NUMERICHOST;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(t.address.c_str(), nullptr, &hints, &res);
  if (rc != 0 || !res)
    return make_error(Errc::invalid_config, "host '{}': {} is not a usable address: {}", t.spec.host, t.address,
                      ::gai_strerror(rc));
  sockaddr_storage ss{};
  std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
  length = res->ai_addrlen;
  ::freeaddrinfo(res);
  return ss;
}

bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    sockaddr_in x{}, y{};
    std::memcpy(&x, &a, sizeof x);
    std::memcpy(&y, &b, sizeof y);
    return x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  sockaddr_in6 x{}, y{};
  std::memcpy(&x, &a, sizeof x);
  std::memcpy(&y, &b, sizeof y);
  return std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
}

ProbeState state_of_send_error(int error) {
  switch (error) {
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
    case EADDRNOTAVAIL: return ProbeState::noroute;
    default: return ProbeState::error;
  }
}

struct HostTrack {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  bool replied = false;
  std::int64_t rtt_sum_us = 0;
  std::optional<ProbeState> last_send_failure;  // of the latest attempt, if it failed
};

struct Probe {
  std::size_t host;
  Clock::time_point sent_at;
  bool answered = false;
};

}  // namespace

Result<std::vector<HostResult>> IcmpProber::probe(std::span<const Target> targets, const ProbeOptions& options,
                                                  Deadline deadline) {
  std::vector<HostResult> results(targets.size());
  std::vector<HostTrack> track(targets.size());
  if (targets.empty()) return results;
  Activity activity(fmt::format("ICMP echo to {} test IPs", targets.size()));

  // Sockets, one per family in use.
  std::optional<IcmpSocket> v4, v6;
  kinds_.clear();
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const auto& t = targets[i];
    results[i].host = t.spec.host;
    results[i].address = t.address;
    results[i].weight = t.spec.weight;
    auto addr = to_sockaddr(t, track[i].addr_len);
    if (!addr) return std::move(addr).error();
    track[i].addr = *addr;
    auto& slot = t.family == Family::ipv6 ? v6 : v4;
    if (!slot) {
      auto s = open_icmp(t.family, options.interface);
      if (!s) return std::move(s).error();
      kinds_ += fmt::format("{}{}: {}", kinds_.empty() ? "" : ", ", to_string(t.family), s->raw ? "raw" : "datagram");
      slot = std::move(*s);
    }
  }

  // Identifies this round's packets: the identifier (raw sockets only; the kernel chooses it for
  // datagram sockets), a random cookie in the payload and the sequence numbers from `seq_base`.
  std::random_device entropy;
  std::mt19937_64 rng((static_cast<std::uint64_t>(entropy()) << 32) ^ entropy() ^
                      static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()));
  const auto ident = static_cast<std::uint16_t>(rng() & 0xffff);
  const std::uint64_t cookie = rng();
  const auto seq_base = static_cast<std::uint16_t>(rng() & 0xffff);
  std::vector<Probe> probes;
  probes.reserve(targets.size() * options.plan.send_at.size());

  const auto start = Clock::now();
  const auto end = std::min(start + options.plan.window, deadline.when());
  std::size_t next_attempt = 0;
  std::size_t answered_hosts = 0;

  auto send_round = [&](Clock::time_point now) {
    for (std::size_t i = 0; i < targets.size(); ++i) {
      if (track[i].replied) continue;
      const bool is6 = targets[i].family == Family::ipv6;
      IcmpSocket& s = is6 ? *v6 : *v4;
      const auto index = static_cast<std::uint32_t>(probes.size());
      if (index >= 0xffff) break;  // at most 64 hosts x 10 attempts in practice
      std::array<std::uint8_t, header_bytes + payload_bytes> pkt{};
      pkt[0] = is6 ? icmp6_echo_request : icmp4_echo_request;
      put16(&pkt[4], ident);
      put16(&pkt[6], static_cast<std::uint16_t>(seq_base + index));
      for (int b = 0; b < 8; ++b) pkt[header_bytes + static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(cookie >> (56 - 8 * b));
      put32(&pkt[header_bytes + 8], index);
      if (!is6) put16(&pkt[2], checksum(pkt.data(), pkt.size()));
      probes.push_back({i, now, false});
      ++results[i].sent;
      const ssize_t n = ::sendto(s.socket.fd(), pkt.data(), pkt.size(), 0, reinterpret_cast<const sockaddr*>(&track[i].addr),
                                 track[i].addr_len);
      if (n < 0) {
        track[i].last_send_failure = state_of_send_error(errno);
        results[i].error = std::strerror(errno);
      } else {
        track[i].last_send_failure.reset();
      }
    }
  };

  auto receive = [&](IcmpSocket& s, Family family) {
    for (;;) {
      std::array<std::uint8_t, 1500> buf{};
      sockaddr_storage from{};
      socklen_t from_len = sizeof from;
      const ssize_t n = ::recvfrom(s.socket.fd(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      const auto now = Clock::now();
      if (n < 0) return;  // EAGAIN: drained (errors queued by ICMP are not enabled: no IP_RECVERR)
      std::size_t off = 0;
      const auto len = static_cast<std::size_t>(n);
      if (s.raw && family == Family::ipv4) {
        if (len < 20) continue;
        off = static_cast<std::size_t>(buf[0] & 0x0f) * 4;  // raw IPv4 sockets deliver the IP header too
      }
      if (len < off + header_bytes + payload_bytes) continue;
      const std::uint8_t* icmp = buf.data() + off;
      if (icmp[0] != (family == Family::ipv6 ? icmp6_echo_reply : icmp4_echo_reply) || icmp[1] != 0) continue;
      if (s.raw && get16(icmp + 4) != ident) continue;
      std::uint64_t got_cookie = 0;
      for (int b = 0; b < 8; ++b) got_cookie = got_cookie << 8 | icmp[header_bytes + static_cast<std::size_t>(b)];
      if (got_cookie != cookie) continue;
      const std::uint32_t index = get32(icmp + header_bytes + 8);
      if (index >= probes.size() || static_cast<std::uint16_t>(seq_base + index) != get16(icmp + 6)) continue;
      Probe& p = probes[index];
      if (p.answered || !same_address(from, track[p.host].addr)) continue;
      p.answered = true;
      auto& r = results[p.host];
      const auto rtt = std::chrono::duration_cast<Micros>(now - p.sent_at);
      ++r.received;
      track[p.host].rtt_sum_us += rtt.count();
      r.min_rtt = r.min_rtt ? std::min(*r.min_rtt, rtt) : rtt;
      r.avg_rtt = Micros(track[p.host].rtt_sum_us / r.received);
      if (!track[p.host].replied) {
        track[p.host].replied = true;
        ++answered_hosts;
      }
    }
  };

  for (;;) {
    auto now = Clock::now();
    while (next_attempt < options.plan.send_at.size() && now >= start + options.plan.send_at[next_attempt] && now < end) {
      send_round(now);
      ++next_attempt;
    }
    if (answered_hosts == targets.size() || now >= end) break;
    // Every host has answered or was refused by the kernel at its latest attempt (no route, link
    // down): no reply can come, so waiting out the window would only delay the news that this
    // node is cut off.
    bool settled = true;
    for (std::size_t i = 0; i < targets.size() && settled; ++i)
      settled = track[i].replied || track[i].last_send_failure.has_value();
    if (settled) break;
    auto wake = end;
    if (next_attempt < options.plan.send_at.size()) wake = std::min(wake, start + options.plan.send_at[next_attempt]);
    const auto wait = std::max(std::chrono::nanoseconds(0), std::chrono::duration_cast<std::chrono::nanoseconds>(wake - now));
    std::array<pollfd, 2> fds{};
    nfds_t nfds = 0;
    if (v4) fds[nfds++] = {v4->socket.fd(), POLLIN, 0};
    if (v6) fds[nfds++] = {v6->socket.fd(), POLLIN, 0};
    const timespec ts{static_cast<time_t>(wait.count() / 1000000000), static_cast<long>(wait.count() % 1000000000)};
    const int ready = ::ppoll(fds.data(), nfds, &ts, nullptr);
    if (ready < 0 && errno != EINTR) return make_error(Errc::backend, "waiting for echo replies: {}", std::strerror(errno));
    if (ready > 0) {
      if (v4) receive(*v4, Family::ipv4);
      if (v6) receive(*v6, Family::ipv6);
    }
  }

  for (std::size_t i = 0; i < targets.size(); ++i) {
    auto& r = results[i];
    if (r.received > 0)
      r.state = ProbeState::ok;
    else if (track[i].last_send_failure)
      r.state = *track[i].last_send_failure;
    else
      r.state = ProbeState::lost;
  }
  return results;
}

}  // namespace evos::net
