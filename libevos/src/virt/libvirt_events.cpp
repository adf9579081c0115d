#include <evos/activity.hpp>
#include <evos/daemon/lifecycle.hpp>
#include <evos/virt/libvirt_events.hpp>

#include "libvirt_internal.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace evos::virt {

// lifecycle.hpp keeps libvirt's numbers so that it stays pure; they are libvirt's stable ABI.
static_assert(VIR_DOMAIN_EVENT_DEFINED == static_cast<int>(daemon::LifecycleType::defined));
static_assert(VIR_DOMAIN_EVENT_UNDEFINED == static_cast<int>(daemon::LifecycleType::undefined));
static_assert(VIR_DOMAIN_EVENT_STARTED == static_cast<int>(daemon::LifecycleType::started));
static_assert(VIR_DOMAIN_EVENT_SUSPENDED == static_cast<int>(daemon::LifecycleType::suspended));
static_assert(VIR_DOMAIN_EVENT_RESUMED == static_cast<int>(daemon::LifecycleType::resumed));
static_assert(VIR_DOMAIN_EVENT_STOPPED == static_cast<int>(daemon::LifecycleType::stopped));
static_assert(VIR_DOMAIN_EVENT_SHUTDOWN == static_cast<int>(daemon::LifecycleType::shutdown));
static_assert(VIR_DOMAIN_EVENT_PMSUSPENDED == static_cast<int>(daemon::LifecycleType::pmsuspended));
static_assert(VIR_DOMAIN_EVENT_CRASHED == static_cast<int>(daemon::LifecycleType::crashed));
static_assert(VIR_DOMAIN_EVENT_STARTED_WAKEUP == 4 && VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT == 6 &&
              VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED == 8 && VIR_DOMAIN_EVENT_RESUMED_POSTCOPY_FAILED == 4 &&
              VIR_DOMAIN_EVENT_STOPPED_CRASHED == 2 && VIR_DOMAIN_EVENT_STOPPED_MIGRATED == 3);

struct LibvirtEventSource::Impl {
  EventSourceOptions options;
  EventSink& sink;
  std::atomic<std::uint64_t> seq{0};

  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  bool finished = false;
  virConnectPtr current = nullptr;  // the connection whose close callback counts
  bool closed = false;
  std::thread thread;

  Impl(EventSourceOptions o, EventSink& s) : options(std::move(o)), sink(s) {}

  // Sleeps up to `d`; true when asked to stop (or the connection closed, if `or_closed`).
  bool wait(Millis d, bool or_closed) {
    std::unique_lock lock(mutex);
    wake.wait_for(lock, d, [&] { return stopping || (or_closed && closed); });
    return stopping;
  }
  bool should_stop() {
    std::lock_guard lock(mutex);
    return stopping;
  }

  void run(const std::shared_ptr<Impl>& self);
  // One connection's life; returns why it ended.
  std::string follow(const std::shared_ptr<Impl>& self);
  bool connected_once = false;  // only the source thread touches it
};

namespace {

using Ref = std::shared_ptr<LibvirtEventSource::Impl>;

void free_ref(void* opaque) { delete static_cast<Ref*>(opaque); }

// No exception may cross into libvirt's C code (the trampoline catches; the sink never throws).
int on_lifecycle(virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque) {
  try {
    auto& impl = **static_cast<Ref*>(opaque);
    DomainEvent e;
    if (const char* name = virDomainGetName(dom)) e.name = name;
    char uuid[VIR_UUID_STRING_BUFLEN] = {};
    if (virDomainGetUUIDString(dom, uuid) == 0) e.uuid = uuid;
    e.type = event;
    e.detail = detail;
    e.seq = ++impl.seq;
    impl.sink.event(std::move(e));
  } catch (...) {
  }
  return 0;
}

void on_close(virConnectPtr conn, int, void* opaque) {
  try {
    auto& impl = **static_cast<Ref*>(opaque);
    std::lock_guard lock(impl.mutex);
    if (impl.current == conn) impl.closed = true;
    impl.wake.notify_all();
  } catch (...) {
  }
}

}  // namespace

std::string LibvirtEventSource::Impl::follow(const std::shared_ptr<Impl>& self) {
  Activity a(fmt::format("libvirt: connect to {} for events", options.uri));
  ConnectionPtr conn(virConnectOpenReadOnly(options.uri.c_str()));
  if (!conn) return detail::last_error(fmt::format("connect to {}", options.uri)).message();
  detail::start_keepalive(conn.get());
  {
    std::lock_guard lock(mutex);
    current = conn.get();
    closed = false;
  }
  const bool have_close = virConnectRegisterCloseCallback(conn.get(), on_close, new Ref(self), free_ref) == 0;
  if (!have_close) virResetLastError();  // drivers without a close notion (test:///): the heartbeat tells
  const int id = virConnectDomainEventRegisterAny(conn.get(), nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                  VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), new Ref(self), free_ref);
  std::string why;
  if (id < 0) {
    why = detail::last_error("register for domain lifecycle events").message();
  } else {
    sink.connected(connected_once);
    connected_once = true;
    // Every event from here on has a higher number than started_seq: a listing older than an
    // event never overrides it (NodeState::apply_listing).
    DomainListing listing;
    listing.started_seq = seq.load();
    virDomainPtr* raw = nullptr;
    const int n = virConnectListAllDomains(conn.get(), &raw, 0);
    if (n < 0) {
      why = detail::last_error("list domains").message();
    } else {
      std::vector<DomainPtr> doms;
      for (int i = 0; i < n; ++i) doms.emplace_back(raw[i]);
      std::free(raw);
      for (const auto& d : doms) {
        daemon::NodeState::Listed l;
        if (const char* name = virDomainGetName(d.get())) l.name = name;
        char uuid[VIR_UUID_STRING_BUFLEN] = {};
        if (virDomainGetUUIDString(d.get(), uuid) == 0) l.uuid = uuid;
        auto st = detail::state_of(d.get());
        if (!st) {
          if (detail::last_error_code() == VIR_ERR_NO_DOMAIN) continue;  // gone meanwhile
          why = st.error().message();
          break;
        }
        l.state = *st;
        listing.domains.push_back(std::move(l));
      }
      if (why.empty()) sink.listing(std::move(listing));
    }
    while (why.empty()) {
      if (wait(options.heartbeat, true)) {
        why = "stopping";
        break;
      }
      {
        std::lock_guard lock(mutex);
        if (closed) why = "libvirt closed the connection";
      }
      if (!why.empty()) break;
      // A call answered proves libvirtd alive and this connection working; keepalive would take
      // ~20 s to say otherwise. virConnectGetLibVersion is one round trip and reads nothing.
      unsigned long version = 0;
      if (virConnectGetLibVersion(conn.get(), &version) < 0) {
        why = detail::last_error("libvirt heartbeat").message();
        break;
      }
      if (virConnectIsAlive(conn.get()) != 1) {
        why = "the connection is no longer alive";
        break;
      }
      sink.heartbeat();
    }
    virConnectDomainEventDeregisterAny(conn.get(), id);
  }
  if (have_close) virConnectUnregisterCloseCallback(conn.get(), on_close);
  virResetLastError();
  {
    std::lock_guard lock(mutex);
    current = nullptr;
  }
  return why;
}

void LibvirtEventSource::Impl::run(const std::shared_ptr<Impl>& self) {
  Millis backoff = options.reconnect_min;
  while (!should_stop()) {
    const auto t0 = Clock::now();
    std::string why = follow(self);
    if (should_stop()) break;
    sink.disconnected(why);
    // A connection that lasted is a fresh start for the backoff; one that failed at once doubles it.
    if (Clock::now() - t0 > options.reconnect_max) backoff = options.reconnect_min;
    if (wait(backoff, false)) break;
    backoff = std::min(backoff * 2, options.reconnect_max);
  }
  std::lock_guard lock(mutex);
  finished = true;
  wake.notify_all();
}

LibvirtEventSource::LibvirtEventSource(EventSourceOptions options, EventSink& sink)
    : impl_(std::make_shared<Impl>(std::move(options), sink)) {}

LibvirtEventSource::~LibvirtEventSource() { stop(); }

void LibvirtEventSource::start() {
  if (impl_->thread.joinable()) return;
  detail::silence_default_error_printing();
  (void)detail::ensure_event_loop();  // before the first virConnectOpen
  impl_->thread = std::thread([self = impl_] { self->run(self); });
}

bool LibvirtEventSource::stop(Millis grace) {
  if (!impl_->thread.joinable()) return true;
  std::unique_lock lock(impl_->mutex);
  impl_->stopping = true;
  impl_->wake.notify_all();
  const bool done = impl_->wake.wait_for(lock, grace, [&] { return impl_->finished; });
  lock.unlock();
  if (done) {
    impl_->thread.join();
  } else {
    impl_->thread.detach();  // blocked in libvirt; it holds its own reference to Impl
  }
  return done;
}

}  // namespace evos::virt
