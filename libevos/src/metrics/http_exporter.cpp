#include <evos/metrics/http_exporter.hpp>

#include <microhttpd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace evos::metrics {

struct HttpExporter::Impl {
  Render render;
  MHD_Daemon* daemon = nullptr;
  ~Impl() {
    if (daemon) MHD_stop_daemon(daemon);  // also closes the listening socket it was given
  }
};

namespace {

MHD_Result reply(MHD_Connection* c, unsigned status, const std::string& body, const char* type) {
  MHD_Response* r = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  const MHD_Result ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

MHD_Result handle(void* cls, MHD_Connection* c, const char* url, const char* method, const char*, const char*,
                  size_t* upload_size, void** con_cls) {
  auto* impl = static_cast<HttpExporter::Impl*>(cls);
  // The first call for a request only announces its headers (libmicrohttpd's protocol).
  if (!*con_cls) {
    static int marker;
    *con_cls = &marker;
    return MHD_YES;
  }
  if (*upload_size) {  // a body nobody asked for: discarded
    *upload_size = 0;
    return MHD_YES;
  }
  const std::string_view m(method), u(url);
  if (m != MHD_HTTP_METHOD_GET && m != MHD_HTTP_METHOD_HEAD) return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n", "text/plain");
  if (u == "/") return reply(c, MHD_HTTP_OK, "<html><body><a href=\"/metrics\">/metrics</a></body></html>\n", "text/html");
  if (u != "/metrics") return reply(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n", "text/plain");
  auto text = impl->render();
  if (!text) return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, text.error().message() + "\n", "text/plain");
  // prometheus.io/docs/instrumenting/exposition_formats: the text format's content type.
  return reply(c, MHD_HTTP_OK, *text, "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace

Result<ExporterOptions> parse_listen_address(const std::string& text) {
  auto bad = [&] { return make_error(Errc::invalid_argument, "listen address '{}' is not ADDRESS:PORT (127.0.0.1:9764, [::1]:9764)", text); };
  ExporterOptions o;
  std::string host;
  std::string_view port;
  if (!text.empty() && text[0] == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return bad();
    host = text.substr(1, close - 1);
    port = std::string_view(text).substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return bad();
    host = text.substr(0, colon);
    port = std::string_view(text).substr(colon + 1);
  }
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || end != port.data() + port.size() || port.empty() || p > 65535) return bad();
  in6_addr a6{};
  in_addr a4{};
  if (inet_pton(AF_INET, host.c_str(), &a4) != 1 && inet_pton(AF_INET6, host.c_str(), &a6) != 1) return bad();
  o.address = host;
  o.port = static_cast<std::uint16_t>(p);
  return o;
}

Result<std::unique_ptr<HttpExporter>> HttpExporter::start(const ExporterOptions& options, Render render) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET;
  if (in_addr a4{}; inet_pton(AF_INET, options.address.c_str(), &a4) == 1) {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(options.port);
    s4->sin_addr = a4;
    len = sizeof(sockaddr_in);
  } else if (in6_addr a6{}; inet_pton(AF_INET6, options.address.c_str(), &a6) == 1) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(options.port);
    s6->sin6_addr = a6;
    len = sizeof(sockaddr_in6);
    family = AF_INET6;
  } else {
    return make_error(Errc::invalid_argument, "metrics address '{}' is not an IP address", options.address);
  }
  const std::string where = family == AF_INET6 ? fmt::format("[{}]:{}", options.address, options.port)
                                               : fmt::format("{}:{}", options.address, options.port);
  // The socket is bound here, not by libmicrohttpd, so a taken port is reported with its errno.
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(Errc::backend, "metrics listener {}: socket: {}", where, std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    const int e = errno;
    ::close(fd);
    if (e == EADDRINUSE) return make_error(Errc::backend, "metrics listener {}: the port is in use by another program", where);
    return make_error(e == EACCES ? Errc::permission_denied : Errc::backend, "metrics listener {}: bind: {}", where, std::strerror(e));
  }
  if (::listen(fd, 64) != 0) {
    const int e = errno;
    ::close(fd);
    return make_error(Errc::backend, "metrics listener {}: listen: {}", where, std::strerror(e));
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
  const std::uint16_t port = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                      : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  std::unique_ptr<HttpExporter> ex(new HttpExporter());
  ex->impl_ = std::make_unique<Impl>();
  ex->impl_->render = std::move(render);
  ex->port_ = port;
  // A thread per connection: a scrape that waits for its sources (up to the scrape deadline)
  // delays only its own client; the idle timeout ends a client that stops sending or reading.
  ex->impl_->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL,
                                       0, nullptr, nullptr, &handle, ex->impl_.get(),
                                       MHD_OPTION_LISTEN_SOCKET, fd,
                                       MHD_OPTION_CONNECTION_LIMIT, options.max_connections,
                                       MHD_OPTION_CONNECTION_TIMEOUT, options.connection_timeout_s,
                                       MHD_OPTION_END);
  if (!ex->impl_->daemon) {
    ::close(fd);
    return make_error(Errc::backend, "metrics listener {}: libmicrohttpd did not start", where);
  }
  return ex;
}

HttpExporter::~HttpExporter() = default;

}  // namespace evos::metrics
