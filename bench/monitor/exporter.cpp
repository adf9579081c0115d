// bench/monitor's evos exporter: /metrics with the libvirt source only (what
// prometheus-libvirt-exporter exports), on the URI and port given, until SIGTERM or SIGINT.
//   exporter URI PORT [QEMU_PID_DIR PROC_DIR [MAX_AGE_MS]]
// QEMU_PID_DIR and PROC_DIR: where that libvirtd's <domain>.pid files are and the /proc of its PID
// namespace (metrics::LibvirtReadOptions; the default for URI otherwise, as evosd has it).
// MAX_AGE_MS: block counters read in the background, as evosd's metrics_max_age (0: live).
#include <evos/metrics/http_exporter.hpp>
#include <evos/metrics/sources.hpp>

#include <fmt/core.h>

#include <csignal>
#include <cstdlib>
#include <memory>

int main(int argc, char** argv) {
  if (argc != 3 && argc != 5 && argc != 6) {
    fmt::print(stderr, "usage: exporter URI PORT [QEMU_PID_DIR PROC_DIR [MAX_AGE_MS]]\n");
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
  evos::metrics::LibvirtReadOptions read{.uri = argv[1], .qemu_pid_dir = evos::metrics::local_qemu_pid_dir(argv[1])};
  if (argc >= 5) {
    read.qemu_pid_dir = argv[3];
    read.proc_dir = argv[4];
  }
  if (argc == 6) read.max_age = evos::Millis(std::strtol(argv[5], nullptr, 10));
  evos::metrics::Scraper scraper(
      {evos::metrics::libvirt_source(std::make_shared<evos::metrics::LibvirtStatsReader>(read), "bench", facts)},
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
