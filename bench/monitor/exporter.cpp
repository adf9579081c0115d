// bench/monitor's evos exporter: /metrics with the libvirt source only (what
// prometheus-libvirt-exporter exports), on the URI and port given, until SIGTERM or SIGINT.
//   exporter URI PORT
#include <evos/metrics/http_exporter.hpp>
#include <evos/metrics/sources.hpp>

#include <fmt/core.h>

#include <csignal>
#include <cstdlib>
#include <memory>

int main(int argc, char** argv) {
  if (argc != 3) {
    fmt::print(stderr, "usage: exporter URI PORT\n");
    return 2;
  }
  auto listen = evos::metrics::parse_listen_address(fmt::format("127.0.0.1:{}", argv[2]));
  if (!listen) {
    fmt::print(stderr, "exporter: {}\n", listen.error().message());
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts: they inherit it
  auto facts = std::make_shared<evos::metrics::SharedFacts>();
  evos::metrics::Scraper scraper(
      {evos::metrics::libvirt_source(std::make_shared<evos::metrics::LibvirtStatsReader>(argv[1]), "bench", facts)},
      evos::Millis(10000));
  auto ex = evos::metrics::HttpExporter::start(*listen, [&scraper] { return scraper.scrape_text(); });
  if (!ex) {
    fmt::print(stderr, "exporter: {}\n", ex.error().message());
    return 1;
  }
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}
