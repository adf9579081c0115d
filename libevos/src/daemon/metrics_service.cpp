// evosd's metrics: the exporter and the history sampler of evos/metrics and evos/stats, run as one
// of evosd's services (docs/metrics.md, docs/evosd.md "Metrics").
#include <evos/daemon/daemon.hpp>
#include <evos/daemon/own_metrics.hpp>
#include <evos/metrics/http_exporter.hpp>
#include <evos/metrics/scraper.hpp>
#include <evos/metrics/sources.hpp>
#include <evos/stats/history_db.hpp>
#include <evos/stats/sampler.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <optional>
#include <thread>

namespace evos::daemon {
namespace {

class MetricsService final : public Service {
 public:
  MetricsService(Core& core, Log& log) : core_(core), log_(log) {}
  ~MetricsService() override { stop(); }

  [[nodiscard]] std::string name() const override { return "metrics"; }

  Result<void> start() override {
    const Config& c = core_.config();
    std::optional<metrics::ExporterOptions> listen;
    if (!c.metrics_listen.empty()) {
      auto l = metrics::parse_listen_address(c.metrics_listen);
      if (!l) return std::move(l).error().context("metrics_listen");
      listen = *l;
    }
    metrics::SourceOptions so;
    so.libvirt_uri = c.libvirt_uri;
    so.libvirt_max_age = c.metrics_max_age;
    so.node = c.node;
    Core* core = &core_;
    if (auto d = drbdsetup_path(c); !d.empty()) so.drbdsetup = d;
    so.followed_mirrors = [core] { return core->drbd_current(); };
    so.followed_membership = [core] { return core->corosync_current(); };
    auto own = metrics::daemon_source("evosd", [core] {
      const NodeState s = core->snapshot();
      const std::optional<bool> drbd = s.drbd_followed ? std::optional<bool>(s.drbd_fresh()) : std::nullopt;
      const std::optional<bool> corosync = s.corosync_followed ? std::optional<bool>(s.corosync.synced()) : std::nullopt;
      return own_families(s.counters, s.source(Source::libvirt).synced, drbd, corosync);
    });
    scraper_.emplace(metrics::standard_sources(so, {std::move(own)}), Millis(3000));
    if (listen) {
      auto e = metrics::HttpExporter::start(*listen, [this] { return scraper_->scrape_text(); });
      if (e) {
        exporter_ = std::move(*e);
        log_.info("metrics on http://{}/metrics", c.metrics_listen);
      } else {
        log_.error("metrics off: {}", e.error().message());  // e.g. the port is in use
      }
    }
    if (!c.history.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(c.history).parent_path(), ec);
      auto h = stats::HistoryDb::open(c.history, stats::HistoryDb::Mode::read_write);
      if (h) {
        history_.emplace(std::move(*h));
        sampler_.emplace([this] { return scraper_->scrape(); }, *history_,
                         [this](const Error& e) { log_.warning("history: {}", e.message()); });
        sampling_ = std::thread([this] { sampler_->run(); });
        log_.info("history in {}", c.history);
      } else {
        log_.error("history off: {}", h.error().message());
      }
    }
    return {};
  }

  void stop() override {
    if (sampler_) sampler_->stop();
    if (sampling_.joinable()) sampling_.join();
    exporter_.reset();  // joins its connections before the scraper goes
    sampler_.reset();
    history_.reset();
    scraper_.reset();
  }

 private:
  Core& core_;
  Log& log_;
  std::optional<metrics::Scraper> scraper_;
  std::unique_ptr<metrics::HttpExporter> exporter_;
  std::optional<stats::HistoryDb> history_;
  std::optional<stats::Sampler> sampler_;
  std::thread sampling_;
};

}  // namespace

std::unique_ptr<Service> make_metrics_service(Core& core, Log& log) {
  if (core.config().metrics_listen.empty() && core.config().history.empty()) return nullptr;
  return std::make_unique<MetricsService>(core, log);
}

}  // namespace evos::daemon
