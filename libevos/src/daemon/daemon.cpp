#include <evos/cluster/pacemaker_tools.hpp>
#include <evos/daemon/daemon.hpp>
#include <evos/daemon/detection.hpp>
#include <evos/daemon/lifecycle.hpp>
#include <evos/daemon/protocol.hpp>
#include <evos/daemon/testip.hpp>
#include <evos/daemon/worker.hpp>
#include <evos/net/attrd_updater.hpp>
#include <evos/net/icmp_prober.hpp>
#include <evos/net/system_resolver.hpp>
#include <evos/text_checks.hpp>
#include <evos/virt/libvirt_hypervisor.hpp>
#include <evos/vm/operation_record.hpp>

#include <fmt/core.h>

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace evos::daemon {

// --- Core -------------------------------------------------------------------------------------

Core::Core(Config config, Log& log, std::string version)
    : config_(std::move(config)), log_(log), version_(std::move(version)) {}
Core::~Core() = default;

NodeState Core::snapshot() const {
  std::lock_guard lock(mutex_);
  return state_;
}

Counters Core::counters() const {
  std::lock_guard lock(mutex_);
  return state_.counters;
}

void Core::on_possible_failure(std::function<void(ReportJob)> sink) {
  std::lock_guard lock(mutex_);
  failures_ = std::move(sink);
}

void Core::connected(bool reconnect) {
  {
    std::lock_guard lock(mutex_);
    state_.connected(Source::libvirt, Clock::now());
    if (reconnect) ++state_.counters.libvirt_reconnects;
  }
  log_.info("{} to {}; listing its domains", reconnect ? "reconnected" : "connected", config_.libvirt_uri);
}

void Core::disconnected(const std::string& problem) {
  bool was;
  {
    std::lock_guard lock(mutex_);
    was = state_.source(Source::libvirt).connected || state_.source(Source::libvirt).problem != problem;
    state_.disconnected(Source::libvirt, Clock::now(), problem);
  }
  // Logged once per change, not at every retry.
  if (was) log_.warning("libvirt {}: {}; reconnecting (monitors ask libvirt directly meanwhile)", config_.libvirt_uri, problem);
}

void Core::heartbeat() {
  std::lock_guard lock(mutex_);
  state_.heard(Source::libvirt, Clock::now());
}

void Core::event(virt::DomainEvent e) {
  std::optional<DomainChange> change;
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    ++state_.counters.libvirt_events;
    state_.counters.last_event = std::chrono::system_clock::now();
    state_.heard(Source::libvirt, now);
    change = state_.apply_event(e.name, e.uuid, lifecycle_change(e.type, e.detail), e.seq, now);
  }
  log_.debug("event: domain '{}' {}", e.name, describe_lifecycle(e.type, e.detail));
  if (change) consider(*change);
}

void Core::listing(virt::DomainListing l) {
  std::vector<DomainChange> changes;
  {
    std::lock_guard lock(mutex_);
    ++state_.counters.libvirt_resyncs;
    changes = state_.apply_listing(l.domains, l.started_seq, Clock::now());
  }
  log_.info("listed {} domain{} on {} ({} new or changed)", l.domains.size(), l.domains.size() == 1 ? "" : "s",
            config_.libvirt_uri, changes.size());
  for (const auto& c : changes) consider(c);
}

void Core::consider(const DomainChange& c) {
  log_.info("domain '{}' is {}{}", c.name, vm::describe(c.after),
            c.before ? fmt::format(" (was {})", vm::describe(*c.before)) : std::string());
  const bool stopped = c.after.power == vm::Power::shut_off || c.after.power == vm::Power::absent ||
                       c.after.power == vm::Power::crashed;
  if (!stopped || c.after.reason == vm::Reason::migration) return;
  std::function<void(ReportJob)> sink;
  {
    std::lock_guard lock(mutex_);
    sink = failures_;
  }
  if (sink) sink(ReportJob{c.name, c.before, c.after});
}

std::string Core::answer(std::string_view line) {
  log_.debug("socket request: {}", text::quote_for_message(line));
  auto req = parse_request(line);
  std::lock_guard lock(mutex_);
  ++state_.counters.socket_requests;
  if (!req) {
    ++state_.counters.socket_bad_requests;
    return render_error(req.error().message());
  }
  const AnswerContext ctx{config_.libvirt_uri, config_.max_silence, Clock::now()};
  switch (req->op) {
    case Request::Op::ping: return render_ping(version_);
    case Request::Op::vm: return render_vm(state_, req->name, ctx);
    case Request::Op::status: return render_status(state_, ctx);
    case Request::Op::mirror: return render_mirror(state_, req->name, ctx);
  }
  return render_error("unknown op");
}

void Core::client_dropped(std::string_view) {
  std::lock_guard lock(mutex_);
  ++state_.counters.socket_clients_dropped;
}

bool Core::testip_round(const std::vector<TestIpRecord>& hosts) {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  if (!state_.source(Source::testip).connected) state_.connected(Source::testip, now);
  ++state_.counters.testip_rounds;
  const bool changed = state_.apply_round(hosts, now);
  if (changed) {
    ++state_.counters.testip_changes;
    state_.counters.last_event = std::chrono::system_clock::now();
  }
  return changed;
}

void Core::testip_problem(const std::string& problem) {
  std::lock_guard lock(mutex_);
  state_.disconnected(Source::testip, Clock::now(), problem);
}

void Core::drbd_followed(bool followed) {
  std::lock_guard lock(mutex_);
  state_.drbd_followed = followed;
}

void Core::drbd_stream_started(bool restart) {
  std::lock_guard lock(mutex_);
  state_.drbd.stream_started();
  state_.drbd_since = Clock::now();
  if (restart) ++state_.counters.drbd_events2_restarts;
}

drbd::LineOutcome Core::drbd_line(std::string_view line) {
  std::lock_guard lock(mutex_);
  auto outcome = state_.drbd.feed(line);
  ++state_.counters.drbd_events2_lines;
  if (outcome.garbage) ++state_.counters.drbd_events2_garbage;
  else state_.counters.last_event = std::chrono::system_clock::now();
  return outcome;
}

void Core::drbd_stream_ended(std::string why) {
  std::lock_guard lock(mutex_);
  state_.drbd.stream_ended(std::move(why));
  state_.drbd_since = Clock::now();
}

std::optional<std::vector<drbd::ResourceState>> Core::drbd_current() const {
  std::lock_guard lock(mutex_);
  if (!state_.drbd_fresh()) return std::nullopt;
  std::vector<drbd::ResourceState> out;
  for (const auto& [name, r] : state_.drbd.resources()) out.push_back(r);
  return out;
}

void Core::corosync_followed(bool followed) {
  std::lock_guard lock(mutex_);
  state_.corosync_followed = followed;
}

void Core::corosync_connected(bool reconnect) {
  std::lock_guard lock(mutex_);
  state_.corosync.connected(Clock::now(), std::chrono::system_clock::now());
  if (reconnect) ++state_.counters.corosync_reconnects;
}

cluster::MembershipChange Core::corosync_view(bool quorate, std::uint64_t ring_seq, std::vector<std::uint32_t> members,
                                              std::optional<cluster::Nodelist> nodelist) {
  cluster::MembershipChange change;
  cluster::Membership now;
  {
    std::lock_guard lock(mutex_);
    if (nodelist) state_.corosync.nodelist(std::move(*nodelist));
    const auto wall = std::chrono::system_clock::now();
    change = state_.corosync.notification(quorate, ring_seq, std::move(members), Clock::now(), wall);
    if (change.changed()) {
      ++state_.counters.corosync_changes;
      state_.counters.last_event = wall;
    }
    now = state_.corosync.last_known();
  }
  if (change.changed()) {
    const bool loss = !change.left.empty() || (change.quorum_changed && !change.quorate);
    if (loss) log_.warning("corosync: {}", cluster::describe(change, now));
    else log_.info("corosync: {}", cluster::describe(change, now));
  } else if (change.first) {
    std::string names;
    for (const auto& n : now.nodes)
      if (n.online) names += fmt::format("{}{} ({})", names.empty() ? "" : ", ", n.name, n.nodeid);
    log_.info("corosync: following membership and quorum of cluster '{}': members {}; {}", now.cluster_name,
              names.empty() ? "none" : names, now.quorate ? "quorate" : "not quorate");
  }
  return change;
}

bool Core::corosync_disconnected(std::string problem) {
  std::lock_guard lock(mutex_);
  return state_.corosync.disconnected(std::move(problem), Clock::now());
}

std::optional<cluster::Membership> Core::corosync_current() const {
  std::lock_guard lock(mutex_);
  if (!state_.corosync_followed) return std::nullopt;
  return state_.corosync.current();
}

bool Core::reported(const std::string& domain) const {
  std::lock_guard lock(mutex_);
  const auto* d = state_.domain(domain);
  return d && d->reported;
}

void Core::mark_reported(const std::string& domain) {
  std::lock_guard lock(mutex_);
  state_.mark_reported(domain);
}

void Core::count_report(bool ok) {
  std::lock_guard lock(mutex_);
  ++(ok ? state_.counters.failures_reported : state_.counters.report_errors);
}

// --- the failure reporter ---------------------------------------------------------------------

class FailureReporter final : public Service {
 public:
  FailureReporter(Core& core, Log& log) : core_(core), log_(log) {}
  ~FailureReporter() override { stop(); }

  [[nodiscard]] std::string name() const override { return "failure reporter"; }

  Result<void> start() override {
    core_.on_possible_failure([this](ReportJob job) { worker_.post([&] { jobs_.push_back(std::move(job)); }); });
    worker_.start([this] { run(); });
    return {};
  }

  void stop() override {
    core_.on_possible_failure(nullptr);
    worker_.stop();
  }

 private:
  void run() {
    for (;;) {
      ReportJob job;
      const bool stopping = worker_.wait_for_work([&] { return !jobs_.empty(); },
                                                  [&] {
                                                    job = std::move(jobs_.front());
                                                    jobs_.pop_front();
                                                  });
      if (stopping) return;
      process(job);
    }
  }

  void process(const ReportJob& job) {
    const Config& cfg = core_.config();
    const vm::OperationRecords records(cfg.records.empty() ? vm::OperationRecords::default_directory() : cfg.records);
    std::vector<vm::OperationRecord> ok;
    bool damaged = false;
    for (auto& r : records.load_all()) {
      if (r) {
        ok.push_back(std::move(*r));
      } else {
        damaged = true;
        log_.warning("{}", r.error().message());
      }
    }
    const auto local = decide_local(job.domain, job.before, job.now, core_.reported(job.domain), ok, damaged);
    if (!local.candidate) {
      log_.info("not reported: {}", local.why);
      return;
    }
    if (!cfg.report_failures) {
      log_.info("{}; not reported (report_failures = no)", local.why);
      return;
    }
    const auto deadline = Deadline::after(cfg.report_timeout);
    if (node_.empty()) {
      if (!cfg.node.empty()) {
        node_ = cfg.node;
      } else if (auto n = cluster::local_node_name(deadline); n) {
        node_ = *n;
      } else {
        log_.warning("{}; not reported: {}", local.why, n.error().message());
        return;
      }
    }
    // The event may be old news: the reporter can lag behind a stop Pacemaker ordered and a new
    // start that followed. So the record read above must still hold after libvirt itself (not the
    // event stream) confirmed the domain is not running: an ordered stop changes the record before
    // the domain stops, a start makes the domain run before the record says active.
    const vm::OperationRecord seen = *std::find_if(ok.begin(), ok.end(), [&](const auto& r) {
      return r.instance == local.resource;
    });
    {
      auto hv = virt::connect_libvirt(cfg.libvirt_uri, virt::Access::read_only);
      if (!hv) {
        log_.warning("{}; not reported: {}", local.why, hv.error().message());
        return;
      }
      auto st = (*hv)->state(job.domain);
      if (!st) {
        log_.warning("{}; not reported: {}", local.why, st.error().message());
        return;
      }
      if (st->power != vm::Power::shut_off && st->power != vm::Power::absent && st->power != vm::Power::crashed) {
        log_.info("not reported: domain '{}' is {} again", job.domain, vm::describe(*st));
        return;
      }
    }
    auto status = cluster::read_pacemaker_status(deadline);
    if (!status) {
      log_.warning("{}; not reported: {}", local.why, status.error().message());
      return;
    }
    const auto report = decide_report(local, *status, node_);
    if (!report.report) {
      log_.info("not reported: {}", report.why);
      return;
    }
    auto again = records.load(local.resource);
    if (!again || !*again || !(**again == seen)) {
      log_.info("not reported: resource '{}' changed its phase meanwhile ({})", local.resource,
                again && *again ? vm::to_string((*again)->phase) : std::string_view("no record"));
      return;
    }
    core_.mark_reported(job.domain);
    log_.warning("{}: reporting resource '{}' failed on '{}' (crm_resource --fail)", report.why, local.resource, node_);
    auto r = cluster::fail_resource(local.resource, node_, deadline);
    core_.count_report(r.has_value());
    if (!r) log_.error("{}", r.error().message());
    else log_.info("reported resource '{}' failed on '{}'; Pacemaker recovers it", local.resource, node_);
  }

  Core& core_;
  Log& log_;
  std::string node_;
  std::deque<ReportJob> jobs_;  // guarded by the worker's lock
  Worker worker_;               // last: stopped and joined before the members it uses go
};

namespace {

class LibvirtFollower final : public Service {
 public:
  LibvirtFollower(Core& core, Log& log)
      : log_(log),
        source_({core.config().libvirt_uri, core.config().heartbeat, core.config().reconnect_min,
                 core.config().reconnect_max},
                core),
        uri_(core.config().libvirt_uri) {}
  [[nodiscard]] std::string name() const override { return "libvirt events (" + uri_ + ")"; }
  Result<void> start() override {
    source_.start();
    return {};
  }
  void stop() override {
    if (!source_.stop()) log_.warning("the libvirt event thread is blocked in libvirt; leaving it to the exit");
  }

 private:
  Log& log_;
  virt::LibvirtEventSource source_;
  std::string uri_;
};

class SocketService final : public Service {
 public:
  SocketService(Core& core, Log& log) : path_(core.config().socket), server_({.path = core.config().socket}, core, log) {}
  [[nodiscard]] std::string name() const override { return "socket " + path_; }
  Result<void> start() override { return server_.start(); }
  void stop() override { server_.stop(); }

 private:
  std::string path_;
  SocketServer server_;
};

class TestIpProber final : public Service {
 public:
  TestIpProber(Core& core, Log& log) : core_(core), log_(log) {}
  ~TestIpProber() override { stop(); }
  [[nodiscard]] std::string name() const override {
    return fmt::format("test-IP prober ({} every {})", net::to_host_list(core_.config().testip_hosts),
                       format_duration(core_.config().testip_interval));
  }
  Result<void> start() override {
    worker_.start([this] { run(); });
    return {};
  }
  void stop() override { worker_.stop(); }

 private:

  void run() {
    const Config& cfg = core_.config();
    net::SystemResolver resolver;
    net::IcmpProber prober;
    net::AttrdUpdater attributes;
    std::vector<net::Target> targets;
    std::optional<std::uint64_t> published;
    std::string last_problem;
    const net::ProbeOptions options{net::plan_probes(cfg.testip_timeout, cfg.testip_attempts), ""};
    auto next = Clock::now();
    for (;;) {
      if (worker_.sleep_until(next)) {
        // A value left in attrd would outlive evosd: a 0 would ban the node (testip.crm's
        // testip-evosd rule) until it restarts. Without it the ping agent's rules decide alone.
        if (published) {
          if (auto r = attributes.remove(cfg.testip_attribute, Deadline::after(net::publish_reserve)); r)
            log_.info("node attribute {} removed", cfg.testip_attribute);
          else
            log_.warning("cannot remove node attribute {}: {}", cfg.testip_attribute, r.error().message());
        }
        return;
      }
      next += cfg.testip_interval;
      if (next < Clock::now()) next = Clock::now() + cfg.testip_interval;  // a round overran
      const auto deadline = Deadline::at(Clock::now() + cfg.testip_interval);
      if (targets.empty()) {
        auto t = resolver.resolve(cfg.testip_hosts, deadline);
        if (!t) {
          problem(t.error().message(), last_problem);
          continue;
        }
        targets = std::move(*t);
      }
      auto results = prober.probe(targets, options, deadline);
      if (!results) {
        problem(results.error().message(), last_problem);
        continue;
      }
      last_problem.clear();
      const auto summary = net::summarize(*results, cfg.testip_multiplier);
      if (core_.testip_round(records_of(*results)))
        log_.info("test IPs: {}/{} reachable{}{}", summary.reachable, summary.total,
                  summary.reachable < summary.total ? ", unreachable: " : "", net::describe_unreachable(*results));
      if (auto value = value_to_publish(published, summary)) {
        // attrd answers in milliseconds; one that does not is hung (net::publish_reserve).
        if (auto r = attributes.update(cfg.testip_attribute, *value, cfg.testip_dampen,
                                       Deadline::after(net::publish_reserve));
            r) {
          log_.info("node attribute {} = {}", cfg.testip_attribute, *value);
          published = summary.score;
        } else {
          log_.warning("cannot write node attribute {}: {}", cfg.testip_attribute, r.error().message());
        }
      }
    }
  }

  void problem(const std::string& what, std::string& last) {
    core_.testip_problem(what);
    if (what != last) log_.warning("test IPs: {}", what);
    last = what;
  }

  Core& core_;
  Log& log_;
  Worker worker_;
};

}  // namespace

std::unique_ptr<Service> make_testip_prober(Core& core, Log& log) {
  if (core.config().testip_hosts.empty()) return nullptr;
  return std::make_unique<TestIpProber>(core, log);
}

std::unique_ptr<Service> make_failure_reporter(Core& core, Log& log) { return std::make_unique<FailureReporter>(core, log); }
std::unique_ptr<Service> make_libvirt_follower(Core& core, Log& log) { return std::make_unique<LibvirtFollower>(core, log); }
std::unique_ptr<Service> make_socket_service(Core& core, Log& log) { return std::make_unique<SocketService>(core, log); }

// --- configuration and the service loop -------------------------------------------------------

Result<Config> load_config(const std::string& path, bool explicit_path) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT && !explicit_path) return Config{};
    return make_error(Errc::invalid_config, "cannot read {}: {}", path, std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(Errc::invalid_config, "cannot read {}", path);
  auto c = parse_config(text.str(), path);
  if (!c) return c;
  if (auto v = validate(*c); !v) return std::move(v).error().context(path);
  return c;
}

void block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // writes use MSG_NOSIGNAL; a child's pipe must not end evosd either
}

Result<void> run_services(std::vector<std::unique_ptr<Service>>& services, Log& log) {
  std::size_t started = 0;
  for (; started < services.size(); ++started) {
    auto& s = services[started];
    if (auto r = s->start(); !r) {
      auto e = std::move(r).error().context(fmt::format("start {}", s->name()));
      log.error("{}", e.message());
      while (started > 0) services[--started]->stop();
      return e;
    }
    log.info("started {}", s->name());
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  log.info("signal {} received; stopping", sig);
  while (started > 0) {
    auto& s = services[--started];
    s->stop();
    log.info("stopped {}", s->name());
  }
  return {};
}

}  // namespace evos::daemon
