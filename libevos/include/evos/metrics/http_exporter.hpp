// evos::metrics::HttpExporter: /metrics over HTTP/1.1 with GNU libmicrohttpd (Debian's
// libmicrohttpd12): a thread per connection, a cap on connections and an idle timeout per
// connection, so a client that sends half a request or never reads the answer holds one thread
// until its timeout and blocks nobody else. Bound to 127.0.0.1:9764 by default (9177 is the
// libvirt exporters' port, 9664 ha_cluster_exporter's, 9942 drbd-reactor's).
#pragma once

#include <evos/error.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace evos::metrics {

inline constexpr char default_listen_address[] = "127.0.0.1";
inline constexpr std::uint16_t default_port = 9764;

struct ExporterOptions {
  std::string address = default_listen_address;  // an IPv4 or IPv6 literal
  std::uint16_t port = default_port;             // 0: any free port (tests)
  unsigned max_connections = 16;
  unsigned connection_timeout_s = 10;
};

// "127.0.0.1:9764", "[::1]:9764" → address and port; Errc::invalid_argument naming the text.
Result<ExporterOptions> parse_listen_address(const std::string& text);

class HttpExporter {
 public:
  using Render = std::function<Result<std::string>()>;
  // Errc::invalid_argument for an address that is no IP literal; "ADDRESS:PORT is in use" for a
  // taken port (Errc::backend); the port itself otherwise.
  static Result<std::unique_ptr<HttpExporter>> start(const ExporterOptions& options, Render render);
  ~HttpExporter();
  HttpExporter(const HttpExporter&) = delete;
  HttpExporter& operator=(const HttpExporter&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }

  struct Impl;

 private:
  HttpExporter() = default;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
};

}  // namespace evos::metrics
