// evos::metrics::Scraper: one scrape over several sources, bounded by a deadline. Each source is
// read on its own thread; one that has not answered by the deadline (a hung libvirtd, a slow
// crm_mon) contributes no families and evos_scrape_source_up{source} 0, and is not asked again
// while its read is still running, so a hung source costs one thread, never a blocked scrape.
// A source's answer is kept for its TTL: scrapes closer together than that (two Prometheus
// servers, evosctl) cost it nothing.
#pragma once

#include <evos/deadline.hpp>
#include <evos/metrics/exposition.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace evos::metrics {

struct Source {
  std::string name;  // the `source` label: "libvirt", "corosync", "pacemaker", ...
  Millis ttl{0};     // an answer younger than this is served again
  // Must own what it uses (capture shared_ptrs): a read the scrape gave up on finishes later.
  std::function<Result<std::vector<Family>>(Deadline)> read;
};

// The daemon's own counters (events seen, reconnects): a source that cannot fail or block.
Source daemon_source(std::string name, std::function<std::vector<Family>()> families);

class Scraper {
 public:
  Scraper(std::vector<Source> sources, Millis budget);
  ~Scraper();
  Scraper(const Scraper&) = delete;
  Scraper& operator=(const Scraper&) = delete;

  // Every source's families that arrived by the deadline, then evos_scrape_source_up. Safe to
  // call from several threads at once.
  [[nodiscard]] std::vector<Family> scrape();
  // scrape() in the text exposition format.
  [[nodiscard]] Result<std::string> scrape_text();

  struct Slot;

 private:
  std::vector<std::shared_ptr<Slot>> slots_;
  Millis budget_;
};

}  // namespace evos::metrics
