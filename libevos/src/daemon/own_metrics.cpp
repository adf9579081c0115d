#include <evos/daemon/own_metrics.hpp>

#include <chrono>

namespace evos::daemon {

std::vector<metrics::Family> own_families(const Counters& c, bool libvirt_connected, std::optional<bool> drbd_synced,
                                          std::optional<bool> corosync_synced) {
  using metrics::Family;
  using metrics::Type;
  auto counter = [](const char* name, const char* help, std::uint64_t v) {
    Family f{.name = name, .help = help, .type = Type::counter, .samples = {}};
    f.add({}, static_cast<double>(v));
    return f;
  };
  std::vector<Family> out;
  out.push_back(counter("evos_daemon_libvirt_events_total", "libvirt lifecycle events evosd received", c.libvirt_events));
  out.push_back(counter("evos_daemon_libvirt_reconnects_total", "connections to libvirt opened again after one closed", c.libvirt_reconnects));
  out.push_back(counter("evos_daemon_libvirt_resyncs_total", "full domain listings applied (after each connect)", c.libvirt_resyncs));
  out.push_back(counter("evos_daemon_testip_rounds_total", "rounds of continuous test-IP probing", c.testip_rounds));
  out.push_back(counter("evos_daemon_testip_changes_total", "test-IP score changes written at once", c.testip_changes));
  out.push_back(counter("evos_daemon_failures_reported_total", "VMs stopped behind Pacemaker's back reported with crm_resource --fail", c.failures_reported));
  out.push_back(counter("evos_daemon_report_errors_total", "crm_resource --fail calls that failed", c.report_errors));
  out.push_back(counter("evos_daemon_socket_requests_total", "requests answered on evosd's socket", c.socket_requests));
  out.push_back(counter("evos_daemon_socket_bad_requests_total", "malformed requests on evosd's socket", c.socket_bad_requests));
  out.push_back(counter("evos_daemon_socket_clients_dropped_total", "socket clients dropped for not reading their answers", c.socket_clients_dropped));
  out.push_back(counter("evos_daemon_drbd_events2_lines_total", "lines read from drbdsetup events2", c.drbd_events2_lines));
  out.push_back(counter("evos_daemon_drbd_events2_garbage_lines_total", "drbdsetup events2 lines that could not be read (skipped)", c.drbd_events2_garbage));
  out.push_back(counter("evos_daemon_drbd_events2_restarts_total", "drbdsetup events2 started again after it ended", c.drbd_events2_restarts));
  out.push_back(counter("evos_daemon_corosync_changes_total", "Corosync membership or quorum changes notified through libquorum", c.corosync_changes));
  out.push_back(counter("evos_daemon_corosync_reconnects_total", "libquorum connections opened again after one was lost", c.corosync_reconnects));
  if (corosync_synced) {
    Family synced{.name = "evos_daemon_corosync_connected", .help = "1 while evosd's libquorum connection is open and has Corosync's current membership", .type = Type::gauge, .samples = {}};
    synced.add({}, *corosync_synced ? 1 : 0);
    out.push_back(std::move(synced));
  }
  if (drbd_synced) {
    Family synced{.name = "evos_daemon_drbd_events2_synced", .help = "1 while drbdsetup events2 runs and its state is complete (the mirrors come from it)", .type = Type::gauge, .samples = {}};
    synced.add({}, *drbd_synced ? 1 : 0);
    out.push_back(std::move(synced));
  }
  Family up{.name = "evos_daemon_libvirt_connected", .help = "1 while evosd's connection to libvirt is open and synced", .type = Type::gauge, .samples = {}};
  up.add({}, libvirt_connected ? 1 : 0);
  out.push_back(std::move(up));
  if (c.last_event) {
    Family last{.name = "evos_daemon_last_event_timestamp_seconds", .help = "wall-clock time of the last event from any source",
                .type = Type::gauge, .samples = {}};
    last.add({}, std::chrono::duration<double>(c.last_event->time_since_epoch()).count());
    out.push_back(std::move(last));
  }
  return out;
}

}  // namespace evos::daemon
