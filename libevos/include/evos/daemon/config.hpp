// evosd's configuration: /etc/evos/evosd.conf (key = value lines, '#' comments) and its command
// line, which overrides the file. Every key is listed in docs/evosd.md, "Configuration".
#pragma once

#include <evos/deadline.hpp>
#include <evos/error.hpp>
#include <evos/net/host_list.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::daemon {

inline constexpr std::string_view default_config_path = "/etc/evos/evosd.conf";
inline constexpr std::string_view default_socket_path = "/run/evos/evosd.sock";

struct Config {
  std::string socket{default_socket_path};
  std::string libvirt_uri = "qemu:///system";
  std::string node;                // "" = crm_node -n when first needed
  bool report_failures = true;     // crm_resource --fail for a VM stopped behind Pacemaker's back
  Millis report_timeout{10000};    // bound of crm_mon plus crm_resource --fail
  std::string records;             // "" = the VM agent's default (vm::OperationRecords)
  Millis heartbeat{1000};          // a cheap libvirt call this often proves the connection alive
  Millis max_silence{3000};        // fresh only if heard from within this
  Millis reconnect_min{100};       // backoff after libvirt closed or refused: doubles up to max
  Millis reconnect_max{5000};
  // Continuous test-IP probing (off while testip_hosts is empty): the ping agent's prober every
  // testip_interval, the score (multiplier x the weights reached, as ocf:evos:ping computes it)
  // written to testip_attribute at once when it changes (docs/evosd.md, "Test IPs").
  std::vector<net::HostSpec> testip_hosts;
  // not the ping agent's evos-testip: both writing one attribute, a round of the agent that began
  // before a cut would put back the value evosd replaced (testip.crm's testip-evosd rule reads this)
  std::string testip_attribute = "evos-testip-evosd";
  std::uint32_t testip_multiplier = 1000;
  // A loss is seen within interval + timeout: 500/400 ms put the VM on the peer in 1.8 s (median)
  // after a corporate link cut in the lab, with no spurious write in 60 s of healthy links at load
  // 6-8 (bench/testip-failover, docs/measurements.md); 1 s/800 ms took 3.3 s.
  Millis testip_interval{500};
  Millis testip_timeout{400};   // the probe window of one round (at most the interval)
  unsigned testip_attempts = 2;
  Millis testip_dampen{0};
  // Metrics (docs/metrics.md): Prometheus text on http://metrics_listen/metrics ("" = off; the
  // address is checked when the exporter starts), and samples every 10 s into the history file
  // read by `evosctl stats` ("" = off).
  std::string metrics_listen = "127.0.0.1:9764";
  // 0: a scrape reads every VM figure itself. Otherwise the VM block counters (the figures that
  // cost each QEMU a monitor round trip) are read in the background every metrics_max_age / 2
  // and served up to this old (metrics::LibvirtReadOptions::max_age); state stays live.
  Millis metrics_max_age{0};
  std::string history = "/var/lib/evos/history.db";
  // DRBD (docs/evosd.md, "DRBD events"): one `drbdsetup events2 --statistics all` followed for
  // the whole run, restarted with backoff when it ends. drbdsetup "" = the first of
  // default_drbdsetup_dirs that has one (never evosd's PATH: evosd runs as root); none there and
  // no path given: not followed (the metrics poll as before).
  bool drbd_events = true;
  std::string drbdsetup;
  // Corosync (docs/evosd.md, "Corosync"): membership and quorum followed through libquorum's
  // notifications for the whole run, reconnected with backoff (corosync_reconnect_min doubling
  // to corosync_reconnect_max) while corosync is not running.
  bool corosync_events = true;
  Millis corosync_reconnect_min{500};
  Millis corosync_reconnect_max{10000};
};

inline constexpr std::string_view default_drbdsetup_dirs = "/usr/sbin:/usr/bin:/sbin:/bin";

// Parses the file's text onto `base`. Errc::invalid_config naming `origin`, the line and the
// problem: unknown key, a key given twice, a bad value.
Result<Config> parse_config(std::string_view text, std::string_view origin, Config base = {});

// One "key=value" setting (a command-line option) onto `config`, same checks.
Result<void> apply_setting(Config& config, std::string_view key, std::string_view value, std::string_view origin);

// Checks that concern more than one key (max_silence above heartbeat, reconnect_min <= max).
Result<void> validate(const Config& config);

}  // namespace evos::daemon
