// evosd's Unix socket: newline-delimited JSON requests and answers (evos/daemon/protocol.hpp),
// root-only (the socket 0600 in a directory 0700 owned by root), served by one thread with
// poll(2). Nothing a client does can block it: reads and writes are non-blocking, a request
// line is bounded, and a client whose answers stay unread past the write deadline is dropped.
// And the client side, which the VM agent's monitor uses with a short deadline.
#pragma once

#include <evos/deadline.hpp>
#include <evos/error.hpp>
#include <evos/log.hpp>

#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace evos::daemon {

// What answers a request line; called on the server's thread.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual std::string answer(std::string_view line) = 0;
  virtual void client_dropped(std::string_view why) = 0;
};

struct SocketOptions {
  std::string path;
  Millis write_deadline{1000};   // an answer not taken by the client within this drops it
  Millis idle_timeout{30000};    // a client that sends nothing for this long is closed
  std::size_t max_clients = 64;  // more are accepted and closed at once
  std::size_t max_pending = 1u << 20;  // unread answer bytes per client
};

// The server's poll(2) timeout: until the earliest client deadline (write deadline, idle timeout),
// rounded up to whole milliseconds so the poll does not end just before it; -1 (wait for input or
// the stop) when there is none: an idle server with no clients never wakes up by itself.
inline int poll_timeout_ms(std::optional<Clock::time_point> earliest, Clock::time_point now) {
  if (!earliest) return -1;
  if (*earliest <= now) return 0;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(*earliest - now).count();
  const long long ms = ns / 1'000'000 + (ns % 1'000'000 != 0 ? 1 : 0);
  return ms > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max() : static_cast<int>(ms);
}

// Creates the socket's directory (0700) if missing and refuses one that is not a directory, not
// owned by this user, or open to group or others; removes a stale socket file (nobody answers on
// it) and refuses a path where another server answers. Errors name the path and the problem.
class SocketServer {
 public:
  SocketServer(SocketOptions options, Responder& responder, Log& log);
  ~SocketServer();
  SocketServer(const SocketServer&) = delete;
  SocketServer& operator=(const SocketServer&) = delete;

  Result<void> start();
  void stop();  // closes every client and removes the socket file

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sends one request line and reads one answer line, all within `deadline`. Errc::not_found when
// no server listens at `path` (no socket, connection refused), Errc::timeout past the deadline,
// Errc::backend for any other failure.
Result<std::string> ask(const std::string& path, std::string_view request, Deadline deadline);

// What the VM agent's monitor may take from evosd: whether it vouches that a domain runs.
struct Vouch {
  bool running = false;  // true: answer "running" without asking libvirt
  std::string why;       // otherwise, why libvirt must be asked (for a debug line)
};

// How long a monitor waits for evosd, and the oldest sign of life from libvirt it accepts. Short:
// a missing, hung or slow evosd costs the monitor at most this before it asks libvirt itself.
inline constexpr Millis monitor_ask_budget{300};
inline constexpr Millis monitor_max_silence{3000};

// Asks evosd at `socket` for the domain (op "vm") and applies the freshness rule
// (protocol.hpp, distrust); any failure to ask or read is "not vouched", never an error.
Vouch ask_running(const std::string& socket, const std::string& domain, const std::string& uuid,
                  const std::string& uri, Deadline deadline);

}  // namespace evos::daemon
