#include <evos/activity.hpp>
#include <evos/virt/libvirt_hypervisor.hpp>

#include "libvirt_internal.hpp"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace evos::virt {

namespace detail {

Errc errc_of(int code) {
  switch (code) {
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_NO_DOMAIN_SNAPSHOT:
    case VIR_ERR_NO_NETWORK:
      return Errc::not_found;
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_XML_DETAIL:
    case VIR_ERR_CONFIG_UNSUPPORTED:
    case VIR_ERR_INVALID_ARG:
      return Errc::invalid_config;
    case VIR_ERR_NO_SUPPORT:
      return Errc::unimplemented;
    case VIR_ERR_AUTH_FAILED:
    case VIR_ERR_ACCESS_DENIED:
      return Errc::permission_denied;
    case VIR_ERR_OPERATION_TIMEOUT:
    case VIR_ERR_AGENT_UNRESPONSIVE:
      return Errc::timeout;
    default:
      return Errc::backend;
  }
}

// The calling thread's last libvirt error, as an evos error with what was being done.
Error last_error(std::string_view doing) {
  virErrorPtr e = virGetLastError();
  if (!e) return make_error(Errc::backend, "{}: libvirt failed without an error message", doing);
  return make_error(errc_of(e->code), "{}: {}", doing, e->message ? e->message : "unknown libvirt error");
}

int last_error_code() {
  virErrorPtr e = virGetLastError();
  return e ? e->code : VIR_ERR_OK;
}

}  // namespace detail

namespace {

using detail::last_error;
using detail::last_error_code;

using namespace std::chrono_literals;
using vm::DomainState;
using vm::Power;
using vm::Reason;

struct SnapshotFree {
  void operator()(virDomainSnapshotPtr s) const noexcept { virDomainSnapshotFree(s); }
};
using SnapshotPtr = std::unique_ptr<virDomainSnapshot, SnapshotFree>;

// Typed parameters (virTypedParams*) freed with their count.
class TypedParams {
 public:
  TypedParams() = default;
  ~TypedParams() { virTypedParamsFree(params_, count_); }
  TypedParams(const TypedParams&) = delete;
  TypedParams& operator=(const TypedParams&) = delete;
  virTypedParameterPtr* ptr() { return &params_; }
  int* count_ptr() { return &count_; }
  int* max_ptr() { return &max_; }
  virTypedParameterPtr get() const { return params_; }
  int count() const { return count_; }
  unsigned long long ull(const char* name) const {
    unsigned long long v = 0;
    return virTypedParamsGetULLong(params_, count_, name, &v) == 1 ? v : 0;
  }

 private:
  virTypedParameterPtr params_ = nullptr;
  int count_ = 0;
  int max_ = 0;
};

}  // namespace

// libvirt prints every error to stderr by default; evos reports errors itself, with context.
void detail::silence_default_error_printing() {
  static const bool once = [] {
    virInitialize();
    virSetErrorFunc(nullptr, [](void*, virErrorPtr) {});
    return true;
  }();
  (void)once;
}

namespace {

// Keepalive (virConnectSetKeepAlive) needs a registered event loop that some thread runs: the
// default implementation (virEventRegisterDefaultImpl), run by one thread for the life of the
// process, registered before the first connection is opened. The caller of a blocking RPC runs
// the keepalive timer itself while it waits, so an in-flight call fails once the daemon stops
// answering pings (libvirt's "Connection keepalive" docs).
class EventLoop {
 public:
  EventLoop() {
    if (virEventRegisterDefaultImpl() < 0) {
      virResetLastError();
      return;
    }
    thread_ = std::thread([this] {
      while (!stop_.load())
        if (virEventRunDefaultImpl() < 0) break;
    });
  }
  ~EventLoop() {
    if (!thread_.joinable()) return;
    stop_.store(true);
    // A timer due at once makes virEventRunDefaultImpl return, and the thread sees stop_.
    const int timer = virEventAddTimeout(0, [](int, void*) {}, nullptr, nullptr);
    thread_.join();
    if (timer >= 0) virEventRemoveTimeout(timer);
  }
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  [[nodiscard]] bool running() const { return thread_.joinable(); }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

EventLoop& event_loop() {
  static EventLoop loop;
  return loop;
}

// A ping after 5 s of silence, the connection closed after 3 unanswered ones: about 20 s after
// the daemon stopped answering (interval * (count + 1), virConnectSetKeepAlive(3)). Drivers
// without keepalive (test:///, answering -1 with VIR_ERR_NO_SUPPORT, or 1) just go without.
constexpr int keepalive_interval_s = 5;
constexpr unsigned keepalive_count = 3;

}  // namespace

void detail::start_keepalive(virConnectPtr conn) {
  if (!event_loop().running()) return;
  if (virConnectSetKeepAlive(conn, keepalive_interval_s, keepalive_count) < 0) virResetLastError();
}

bool detail::ensure_event_loop() { return event_loop().running(); }

namespace {

Reason reason_of(int state, int reason) {
  switch (state) {
    case VIR_DOMAIN_RUNNING:
      switch (reason) {
        case VIR_DOMAIN_RUNNING_BOOTED: return Reason::booted;
        case VIR_DOMAIN_RUNNING_MIGRATED: return Reason::migration;
        case VIR_DOMAIN_RUNNING_RESTORED: return Reason::restored;
        case VIR_DOMAIN_RUNNING_UNPAUSED: return Reason::user;
        case VIR_DOMAIN_RUNNING_CRASHED: return Reason::crashed;
        case VIR_DOMAIN_RUNNING_POSTCOPY: return Reason::postcopy;
        case VIR_DOMAIN_RUNNING_POSTCOPY_FAILED: return Reason::postcopy_failed;
        default: return Reason::unknown;
      }
    case VIR_DOMAIN_PAUSED:
      switch (reason) {
        case VIR_DOMAIN_PAUSED_USER: return Reason::user;
        case VIR_DOMAIN_PAUSED_MIGRATION: return Reason::migration;
        case VIR_DOMAIN_PAUSED_SAVE: return Reason::save;
        case VIR_DOMAIN_PAUSED_DUMP: return Reason::dump;
        case VIR_DOMAIN_PAUSED_IOERROR: return Reason::io_error;
        case VIR_DOMAIN_PAUSED_WATCHDOG: return Reason::watchdog;
        case VIR_DOMAIN_PAUSED_FROM_SNAPSHOT:
        case VIR_DOMAIN_PAUSED_SNAPSHOT: return Reason::snapshot;
        case VIR_DOMAIN_PAUSED_SHUTTING_DOWN: return Reason::shutdown;
        case VIR_DOMAIN_PAUSED_CRASHED: return Reason::crashed;
        case VIR_DOMAIN_PAUSED_STARTING_UP: return Reason::starting_up;
        case VIR_DOMAIN_PAUSED_POSTCOPY: return Reason::postcopy;
        case VIR_DOMAIN_PAUSED_POSTCOPY_FAILED: return Reason::postcopy_failed;
        default: return Reason::unknown;
      }
    case VIR_DOMAIN_SHUTOFF:
      switch (reason) {
        case VIR_DOMAIN_SHUTOFF_SHUTDOWN: return Reason::shutdown;
        case VIR_DOMAIN_SHUTOFF_DESTROYED: return Reason::destroyed;
        case VIR_DOMAIN_SHUTOFF_CRASHED: return Reason::crashed;
        case VIR_DOMAIN_SHUTOFF_MIGRATED: return Reason::migration;
        case VIR_DOMAIN_SHUTOFF_SAVED: return Reason::save;
        case VIR_DOMAIN_SHUTOFF_FAILED: return Reason::failed;
        case VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT: return Reason::snapshot;
        default: return Reason::unknown;
      }
    case VIR_DOMAIN_CRASHED:
      return Reason::crashed;
    case VIR_DOMAIN_SHUTDOWN:
      return Reason::user;
    default:
      return Reason::unknown;
  }
}

Power power_of(int state) {
  switch (state) {
    case VIR_DOMAIN_RUNNING: return Power::running;
    case VIR_DOMAIN_BLOCKED: return Power::blocked;
    case VIR_DOMAIN_PAUSED: return Power::paused;
    case VIR_DOMAIN_SHUTDOWN: return Power::shutting_down;
    case VIR_DOMAIN_SHUTOFF: return Power::shut_off;
    case VIR_DOMAIN_CRASHED: return Power::crashed;
    case VIR_DOMAIN_PMSUSPENDED: return Power::pm_suspended;
    default: return Power::no_state;
  }
}

unsigned shutdown_flag(vm::ShutdownMode mode) {
  switch (mode) {
    case vm::ShutdownMode::hypervisor_default: return VIR_DOMAIN_SHUTDOWN_DEFAULT;
    case vm::ShutdownMode::acpi: return VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN;
    case vm::ShutdownMode::agent: return VIR_DOMAIN_SHUTDOWN_GUEST_AGENT;
    case vm::ShutdownMode::initctl: return VIR_DOMAIN_SHUTDOWN_INITCTL;
    case vm::ShutdownMode::signal: return VIR_DOMAIN_SHUTDOWN_SIGNAL;
    case vm::ShutdownMode::paravirt: return VIR_DOMAIN_SHUTDOWN_PARAVIRT;
  }
  return VIR_DOMAIN_SHUTDOWN_DEFAULT;
}

}  // namespace

Result<DomainState> detail::state_of(virDomainPtr dom) {
  int st = 0, reason = 0;
  if (virDomainGetState(dom, &st, &reason, 0) < 0) return last_error("get domain state");
  return DomainState{power_of(st), reason_of(st, reason)};
}

namespace {
using detail::state_of;
using detail::silence_default_error_printing;
using detail::start_keepalive;

vm::MigrationProgress progress_of(const TypedParams& p) {
  vm::MigrationProgress r;
  r.elapsed = Millis(p.ull(VIR_DOMAIN_JOB_TIME_ELAPSED));
  r.data_total = p.ull(VIR_DOMAIN_JOB_DATA_TOTAL);
  r.data_processed = p.ull(VIR_DOMAIN_JOB_DATA_PROCESSED);
  r.data_remaining = p.ull(VIR_DOMAIN_JOB_DATA_REMAINING);
  r.memory_iteration = p.ull(VIR_DOMAIN_JOB_MEMORY_ITERATION);
  r.memory_remaining = p.ull(VIR_DOMAIN_JOB_MEMORY_REMAINING);
  // QEMU's dirty-pages-rate (pages/s, from the last dirty sync) and its page size
  r.dirty_rate = p.ull(VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE) * p.ull(VIR_DOMAIN_JOB_MEMORY_PAGE_SIZE);
  r.transfer_rate = p.ull(VIR_DOMAIN_JOB_MEMORY_BPS);
  return r;
}

}  // namespace


// The daemon is not there (yet): its socket is missing or refuses (libvirt reports the socket
// error as VIR_ERR_SYSTEM_ERROR with the errno in int1, virerror.h).
static bool daemon_not_answering() {
  virErrorPtr e = virGetLastError();
  if (!e) return false;
  if (e->code != VIR_ERR_SYSTEM_ERROR && e->code != VIR_ERR_NO_CONNECT) return false;
  return e->int1 == ECONNREFUSED || e->int1 == ENOENT || e->int1 == EAGAIN || e->int1 == ECONNRESET;
}

Result<std::unique_ptr<LibvirtHypervisor>> connect_libvirt(const std::string& uri, Access access,
                                                          std::optional<Deadline> keep_trying) {
  silence_default_error_printing();
  (void)event_loop();  // before the first virConnectOpen: keepalive needs the loop registered
  const char* call = access == Access::read_only ? "virConnectOpenReadOnly" : "virConnectOpen";
  Activity a(keep_trying ? fmt::format("libvirt: connect to {} ({}, waiting for libvirtd to answer)", uri, call)
                         : fmt::format("libvirt: connect to {} ({})", uri, call));
  const auto t0 = Clock::now();
  for (int attempt = 1;; ++attempt) {
    ConnectionPtr conn(access == Access::read_only ? virConnectOpenReadOnly(uri.c_str()) : virConnectOpen(uri.c_str()));
    if (conn) {
      start_keepalive(conn.get());
      auto impl = std::make_unique<LibvirtHypervisor::Impl>();
      impl->conn = std::move(conn);
      return std::unique_ptr<LibvirtHypervisor>(new LibvirtHypervisor(uri, std::move(impl)));
    }
    const bool retry = keep_trying && daemon_not_answering() && !keep_trying->expired();
    if (!retry) {
      auto e = last_error(attempt == 1 ? fmt::format("connect to hypervisor {}", uri)
                                       : fmt::format("connect to hypervisor {} ({} attempts in {} ms)", uri, attempt,
                                                     std::chrono::duration_cast<Millis>(Clock::now() - t0).count()));
      return Error(e.code() == Errc::invalid_config ? Errc::invalid_config : Errc::backend, e.message());
    }
    // 100 ms steps: a starting libvirtd answers within a second or two; never past the deadline.
    std::this_thread::sleep_for(std::min(Millis{100}, keep_trying->remaining()));
  }
}

vm::HypervisorConnector libvirt_connector() {
  return [](const std::string& uri) -> Result<std::unique_ptr<vm::Hypervisor>> {
    auto hv = connect_libvirt(uri);
    if (!hv) return std::move(hv).error();
    return std::unique_ptr<vm::Hypervisor>(std::move(*hv));
  };
}

LibvirtHypervisor::LibvirtHypervisor(std::string uri, std::unique_ptr<Impl> impl)
    : uri_(std::move(uri)), impl_(std::move(impl)) {}
LibvirtHypervisor::~LibvirtHypervisor() = default;

Result<DomainState> LibvirtHypervisor::state(const std::string& domain) {
  Activity a(fmt::format("libvirt: state of domain '{}'", domain));
  auto dom = impl_->lookup(domain);
  if (!dom) {
    if (dom.error().code() == Errc::not_found) return DomainState{Power::absent, Reason::unknown};
    return std::move(dom).error();
  }
  auto st = state_of(dom->get());
  // The domain can vanish between lookup and query (a transient domain stopping).
  if (!st && last_error_code() == VIR_ERR_NO_DOMAIN) return DomainState{Power::absent, Reason::unknown};
  if (!st) return std::move(st).error().context(fmt::format("domain '{}'", domain));
  return st;
}

Result<vm::DeepCheck> LibvirtHypervisor::deep_check(const std::string& domain) {
  Activity a(fmt::format("libvirt: deep check of domain '{}'", domain));
  auto dom = impl_->lookup(domain);
  if (!dom) return std::move(dom).error();
  vm::DeepCheck check;
  virDomainControlInfo info{};
  if (virDomainGetControlInfo(dom->get(), &info, 0) == 0) {
    switch (info.state) {
      case VIR_DOMAIN_CONTROL_OK: check.control_state = "ok"; break;
      case VIR_DOMAIN_CONTROL_JOB: check.control_state = "job"; break;
      case VIR_DOMAIN_CONTROL_OCCUPIED: check.control_state = "occupied"; break;
      case VIR_DOMAIN_CONTROL_ERROR:
        check.control_ok = false;
        check.control_state = info.details == VIR_DOMAIN_CONTROL_ERROR_REASON_MONITOR ? "error (monitor)"
                              : info.details == VIR_DOMAIN_CONTROL_ERROR_REASON_INTERNAL ? "error (internal)"
                                                                                          : "error";
        break;
      default: check.control_state = "unknown"; break;
    }
  } else if (last_error_code() != VIR_ERR_NO_SUPPORT) {
    return last_error(fmt::format("control info of domain '{}'", domain));
  }
  const int n = virDomainGetDiskErrors(dom->get(), nullptr, 0, 0);
  if (n > 0) {
    std::vector<virDomainDiskError> errors(static_cast<std::size_t>(n));
    const int got = virDomainGetDiskErrors(dom->get(), errors.data(), static_cast<unsigned>(n), 0);
    for (int i = 0; i < got; ++i) {
      const char* what = errors[static_cast<std::size_t>(i)].error == VIR_DOMAIN_DISK_ERROR_NO_SPACE ? "no space left"
                                                                                                      : "I/O error";
      check.disk_errors.push_back(fmt::format("{}: {}", errors[static_cast<std::size_t>(i)].disk, what));
      std::free(errors[static_cast<std::size_t>(i)].disk);
    }
  } else if (n < 0 && last_error_code() != VIR_ERR_NO_SUPPORT) {
    return last_error(fmt::format("disk errors of domain '{}'", domain));
  }
  return check;
}

namespace {
Result<vm::DomainSummary> summary_of(virDomainPtr dom) {
  vm::DomainSummary s;
  if (const char* name = virDomainGetName(dom)) s.name = name;
  char uuid[VIR_UUID_STRING_BUFLEN] = {};
  if (virDomainGetUUIDString(dom, uuid) == 0) s.uuid = uuid;
  auto st = state_of(dom);
  if (!st) return std::move(st).error().context(fmt::format("domain '{}'", s.name));
  s.state = *st;
  s.persistent = virDomainIsPersistent(dom) == 1;
  int autostart = 0;
  s.autostart = virDomainGetAutostart(dom, &autostart) == 0 && autostart != 0;
  virDomainInfo info{};
  if (virDomainGetInfo(dom, &info) == 0) {
    s.vcpus = info.nrVirtCpu;
    s.memory_kib = info.maxMem;
  }
  return s;
}
}  // namespace

Result<vm::DomainSummary> LibvirtHypervisor::summary(const std::string& domain) {
  Activity a(fmt::format("libvirt: describe domain '{}'", domain));
  auto dom = impl_->lookup(domain);
  if (!dom) return std::move(dom).error();
  return summary_of(dom->get());
}

Result<std::vector<vm::DomainSummary>> LibvirtHypervisor::list() {
  Activity a(fmt::format("libvirt: list domains of {} (virConnectListAllDomains)", uri_));
  virDomainPtr* raw = nullptr;
  const int n = virConnectListAllDomains(impl_->conn.get(), &raw, 0);
  if (n < 0) return last_error(fmt::format("list domains of {}", uri_));
  std::vector<DomainPtr> doms;
  for (int i = 0; i < n; ++i) doms.emplace_back(raw[i]);
  std::free(raw);
  std::vector<vm::DomainSummary> out;
  for (const auto& d : doms) {
    auto s = summary_of(d.get());
    if (s) out.push_back(std::move(*s));  // a domain that vanished meanwhile is left out
  }
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
  return out;
}

Result<void> LibvirtHypervisor::define(const std::string& xml) {
  Activity a("libvirt: define domain");
  DomainPtr dom(virDomainDefineXMLFlags(impl_->conn.get(), xml.c_str(), VIR_DOMAIN_DEFINE_VALIDATE));
  if (!dom) return last_error("define domain from its XML");
  if (virDomainSetAutostart(dom.get(), 0) < 0 && last_error_code() != VIR_ERR_NO_SUPPORT)
    return last_error("turn off autostart");
  return {};
}

Result<void> LibvirtHypervisor::start(const std::string& domain) {
  Activity a(fmt::format("libvirt: start domain '{}'", domain));
  auto dom = impl_->lookup(domain);
  if (!dom) return std::move(dom).error();
  if (virDomainCreate(dom->get()) < 0) return last_error("start");
  return {};
}

Result<void> LibvirtHypervisor::resume(const std::string& domain) {
  Activity a(fmt::format("libvirt: resume domain '{}'", domain));
  auto dom = impl_->lookup(domain);
  if (!dom) return std::move(dom).error();
  if (virDomainResume(dom->get()) < 0) return last_error("resume");
  return {};
}

Result<void> LibvirtHypervisor::request_shutdown(const std::string& domain, vm::ShutdownMode mode) {
  Activity a(fmt::format("libvirt: shut down domain '{}'", domain));
  auto dom = impl_->lookup(domain);
  if (!dom) return std::move(dom).error();
  if (virDomainShutdownFlags(dom->get(), shutdown_flag(mode)) < 0) return last_error("request shutdown");
  return {};
}

Result<void> LibvirtHypervisor::destroy(const std::string& domain, bool graceful) {
  Activity a(fmt::format("libvirt: destroy domain '{}'", domain));
  auto dom = impl_->lookup(domain);
  if (!dom) return std::move(dom).error();
  if (virDomainDestroyFlags(dom->get(), graceful ? VIR_DOMAIN_DESTROY_GRACEFUL : 0) < 0) return last_error("destroy");
  return {};
}

Result<vm::MigrationStats> LibvirtHypervisor::migrate(const std::string& domain, const vm::MigrationRequest& request,
                                                      Deadline deadline,
                                                      const vm::MigrationSupervisor& supervise) {
  Activity a(fmt::format("libvirt: migrate domain '{}' to {}", domain, request.target.dest_uri));
  auto dom = impl_->lookup(domain);
  if (!dom) return std::move(dom).error();
  const auto& plan = request.plan;

  // What the worker needs, shared with it: if it must be abandoned (below), it keeps its own
  // reference to the domain (virDomainRef) and everything else it reads.
  struct Job {
    DomainPtr dom;
    TypedParams params;
    std::string dest_uri;
    unsigned flags = 0;
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    std::optional<Error> failure;
  };
  auto job = std::make_shared<Job>();
  if (virDomainRef(dom->get()) < 0) return last_error("reference the domain for the migration");
  job->dom.reset(dom->get());
  job->dest_uri = request.target.dest_uri;
  TypedParams& params = job->params;
  if (!request.target.migration_uri.empty() &&
      virTypedParamsAddString(params.ptr(), params.count_ptr(), params.max_ptr(), VIR_MIGRATE_PARAM_URI,
                              request.target.migration_uri.c_str()) < 0)
    return last_error("set the migration URI");
  if (plan.bandwidth_mib_s > 0 && virTypedParamsAddULLong(params.ptr(), params.count_ptr(), params.max_ptr(),
                                                          VIR_MIGRATE_PARAM_BANDWIDTH, plan.bandwidth_mib_s) < 0)
    return last_error("set the migration bandwidth");

  // Peer-to-peer: the source libvirtd drives the migration, so it survives this agent's death
  // only as long as libvirtd does; the destination keeps a persistent definition. The source
  // keeps its (now inactive) definition so the completed job's statistics can be read there.
  unsigned flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_ABORT_ON_ERROR;
  // AUTO_CONVERGE: QEMU's auto-converge capability (vCPU throttling while the guest outpaces the
  // link); POSTCOPY: the postcopy-ram capability, so virDomainMigrateStartPostCopy can switch.
  if (plan.auto_converge) flags |= VIR_MIGRATE_AUTO_CONVERGE;
  if (plan.postcopy) flags |= VIR_MIGRATE_POSTCOPY;
  if (request.tls) flags |= VIR_MIGRATE_TLS;
  if (request.unsafe) flags |= VIR_MIGRATE_UNSAFE;
  job->flags = flags;

  // The maximum downtime is a QEMU migration parameter that libvirt keeps for the next
  // migration, so set it before starting; if this libvirt only takes it during the job, the
  // supervisor below sets it once the job is running.
  Millis downtime = plan.max_downtime;
  bool downtime_set = downtime.count() == 0 ||
                      virDomainMigrateSetMaxDowntime(dom->get(), static_cast<unsigned long long>(downtime.count()), 0) == 0;

  // The job is aborted a little before the deadline, so that the abort has time to take effect
  // and the call to return by the deadline: a tenth of the budget, 1 s to 10 s, at most half.
  const Millis budget = deadline.remaining();
  const Deadline abort_at = deadline.minus(std::min(std::clamp(budget / 10, Millis(1000), Millis(10000)), budget / 2));

  // virDomainMigrateToURI3 blocks until the job ends; run it on a worker and supervise the job
  // from here (progress, post-copy switch, abort before the deadline).
  const auto started = Clock::now();
  std::thread worker([job] {
    const int rc = virDomainMigrateToURI3(job->dom.get(), job->dest_uri.c_str(), job->params.get(),
                                          static_cast<unsigned>(job->params.count()), job->flags);
    std::optional<Error> err;
    if (rc < 0) err = last_error("migrate");  // libvirt errors are per thread: read them here
    std::lock_guard lock(job->m);
    job->failure = std::move(err);
    job->done = true;
    job->cv.notify_one();
  });

  bool postcopy_started = false, aborted = false;
  std::optional<Clock::time_point> aborted_at;
  for (;;) {
    {
      std::unique_lock lock(job->m);
      if (job->cv.wait_for(lock, 200ms, [&] { return job->done; })) break;
    }
    if (aborted && deadline.expired()) {
      // libvirtd took the abort and still has not ended the call (hung, or a job it cannot
      // cancel): give up on the worker rather than wait without a bound. It holds only what
      // `job` shares with it; the process ends soon after (an agent's action is over).
      worker.detach();
      return make_error(Errc::timeout,
                        "migration aborted after {} ms, but virDomainMigrateToURI3 did not return within {} ms of the "
                        "abort (libvirtd may be hung)",
                        std::chrono::duration_cast<Millis>(*aborted_at - started).count(),
                        std::chrono::duration_cast<Millis>(Clock::now() - *aborted_at).count());
    }
    if (abort_at.expired() && !aborted) {
      aborted = true;
      aborted_at = Clock::now();
      Activity abort_activity(fmt::format("libvirt: abort migration of domain '{}' (virDomainAbortJob)", domain));
      virDomainAbortJob(dom->get());
      continue;
    }
    if (aborted) continue;
    int type = VIR_DOMAIN_JOB_NONE;
    TypedParams job_stats;
    if (virDomainGetJobStats(dom->get(), &type, job_stats.ptr(), job_stats.count_ptr(), 0) < 0 ||
        type == VIR_DOMAIN_JOB_NONE)
      continue;
    if (!downtime_set)
      downtime_set = virDomainMigrateSetMaxDowntime(dom->get(), static_cast<unsigned long long>(downtime.count()), 0) == 0;
    if (!supervise) continue;
    const auto step = supervise(progress_of(job_stats));
    // A raised limit applies to QEMU's next switch-over estimate (migrate-set-parameters
    // downtime-limit may change during the job); post-copy needs the POSTCOPY flag given above.
    if (step.max_downtime &&
        virDomainMigrateSetMaxDowntime(dom->get(), static_cast<unsigned long long>(step.max_downtime->count()), 0) == 0)
      downtime = *step.max_downtime;
    if (step.start_postcopy && plan.postcopy && !postcopy_started)
      postcopy_started = virDomainMigrateStartPostCopy(dom->get(), 0) == 0;
  }
  worker.join();

  if (job->failure) {
    if (aborted)
      return make_error(Errc::timeout, "migration aborted at the deadline after {} ms ({})",
                        std::chrono::duration_cast<Millis>(Clock::now() - started).count(), job->failure->message());
    return std::move(*job->failure);
  }
  vm::MigrationStats stats;
  stats.total = std::chrono::duration_cast<Millis>(Clock::now() - started);
  stats.postcopy = postcopy_started;
  stats.max_downtime = downtime;
  if (auto completed = completed_migration(domain); completed && *completed) {
    stats = **completed;
    stats.postcopy = postcopy_started;
    stats.max_downtime = downtime;
  }
  return stats;
}

Result<std::optional<vm::MigrationStats>> LibvirtHypervisor::completed_migration(const std::string& domain) {
  Activity a(fmt::format("libvirt: statistics of the last job of domain '{}'", domain));
  auto dom = impl_->lookup(domain);
  if (!dom) return std::move(dom).error();
  int type = VIR_DOMAIN_JOB_NONE;
  TypedParams job;
  if (virDomainGetJobStats(dom->get(), &type, job.ptr(), job.count_ptr(),
                           VIR_DOMAIN_JOB_STATS_COMPLETED | VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED) < 0) {
    if (last_error_code() == VIR_ERR_NO_SUPPORT) return std::optional<vm::MigrationStats>();
    return last_error("read completed job statistics");
  }
  if (type != VIR_DOMAIN_JOB_COMPLETED) return std::optional<vm::MigrationStats>();
  vm::MigrationStats s;
  s.total = Millis(job.ull(VIR_DOMAIN_JOB_TIME_ELAPSED));
  s.downtime = Millis(job.ull(VIR_DOMAIN_JOB_DOWNTIME));
  s.bytes = job.ull(VIR_DOMAIN_JOB_DATA_PROCESSED);
  s.memory_iterations = job.ull(VIR_DOMAIN_JOB_MEMORY_ITERATION);
  return std::optional<vm::MigrationStats>(s);
}

Result<std::vector<vm::SnapshotMetadata>> LibvirtHypervisor::snapshots(const std::string& domain) {
  Activity a(fmt::format("libvirt: snapshots of domain '{}'", domain));
  auto dom = impl_->lookup(domain);
  if (!dom) return std::move(dom).error();
  virDomainSnapshotPtr* raw = nullptr;
  const int n = virDomainListAllSnapshots(dom->get(), &raw, VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL);
  if (n < 0) {
    if (last_error_code() == VIR_ERR_NO_SUPPORT) return std::vector<vm::SnapshotMetadata>();
    return last_error("list snapshots");
  }
  std::vector<SnapshotPtr> snaps;
  for (int i = 0; i < n; ++i) snaps.emplace_back(raw[i]);
  std::free(raw);
  std::vector<vm::SnapshotMetadata> out;
  for (const auto& snap : snaps) {
    vm::SnapshotMetadata meta;
    meta.name = virDomainSnapshotGetName(snap.get());
    char* xml = virDomainSnapshotGetXMLDesc(snap.get(), VIR_DOMAIN_SNAPSHOT_XML_SECURE);
    if (!xml) return last_error(fmt::format("read snapshot '{}'", meta.name));
    meta.xml = xml;
    std::free(xml);
    meta.current = virDomainSnapshotIsCurrent(snap.get(), 0) == 1;
    out.push_back(std::move(meta));
  }
  return out;
}

Result<void> LibvirtHypervisor::drop_snapshot_metadata(const std::string& domain, const std::string& snapshot) {
  Activity a(fmt::format("libvirt: drop snapshot metadata '{}' of domain '{}'", snapshot, domain));
  auto dom = impl_->lookup(domain);
  if (!dom) return std::move(dom).error();
  SnapshotPtr snap(virDomainSnapshotLookupByName(dom->get(), snapshot.c_str(), 0));
  if (!snap) return last_error(fmt::format("look up snapshot '{}'", snapshot));
  if (virDomainSnapshotDelete(snap.get(), VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY) < 0)
    return last_error(fmt::format("drop metadata of snapshot '{}'", snapshot));
  return {};
}

Result<void> LibvirtHypervisor::redefine_snapshot(const std::string& domain, const vm::SnapshotMetadata& snapshot) {
  Activity a(fmt::format("libvirt: redefine snapshot '{}' of domain '{}'", snapshot.name, domain));
  auto dom = impl_->lookup(domain);
  if (!dom) return std::move(dom).error();
  unsigned flags = VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE;
  if (snapshot.current) flags |= VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT;
  SnapshotPtr snap(virDomainSnapshotCreateXML(dom->get(), snapshot.xml.c_str(), flags));
  if (!snap) return last_error(fmt::format("redefine snapshot '{}'", snapshot.name));
  return {};
}

}  // namespace evos::virt
