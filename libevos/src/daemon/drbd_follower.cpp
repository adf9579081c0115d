// evosd's DRBD follower (docs/evosd.md, "DRBD events"): one `drbdsetup events2 --statistics all`
// child for the whole run, its lines fed to the core (drbd::Events2State), started again with
// backoff (drbd::StreamRestarts) when it exits, prints garbage beyond the limit or loses
// notifications. While it is down the core's DRBD state is not fresh, so no reader takes it.
#include <evos/daemon/daemon.hpp>
#include <evos/daemon/worker.hpp>
#include <evos/drbd/events2_parser.hpp>
#include <evos/drbd/events2_restarts.hpp>
#include <evos/proc/child.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>

#include <sys/stat.h>
#include <unistd.h>


namespace evos::daemon {
namespace {

using namespace std::chrono_literals;

// How often the reading thread looks up from a silent stream to see whether evosd stops.
constexpr Millis stop_poll{300};

bool executable(const std::string& path) {
  struct stat st {};
  return ::access(path.c_str(), X_OK) == 0 && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

std::string drbdsetup_path(const Config& c) {
  if (!c.drbdsetup.empty()) return c.drbdsetup;
  std::string_view dirs = default_drbdsetup_dirs;
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const std::string candidate = fmt::format("{}/drbdsetup", dirs.substr(0, colon));
    if (executable(candidate)) return candidate;
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
  }
  return {};
}

namespace {

class DrbdFollower final : public Service {
 public:
  DrbdFollower(Core& core, Log& log, std::string drbdsetup) : core_(core), log_(log), drbdsetup_(std::move(drbdsetup)) {}
  ~DrbdFollower() override { stop(); }

  [[nodiscard]] std::string name() const override { return fmt::format("DRBD events ({} events2)", drbdsetup_); }

  Result<void> start() override {
    core_.drbd_followed(true);
    worker_.start([this] { run(); });
    return {};
  }

  void stop() override { worker_.stop(); }

 private:
  bool stopping() const { return worker_.stopping(); }
  bool wait(Millis delay) { return worker_.sleep_for(delay); }  // true when evosd stops first

  void run() {
    drbd::StreamRestarts restarts;
    const std::vector<std::string> argv{drbdsetup_, "events2", "--statistics", "all"};
    bool first = true;
    bool quiet = false;
    std::string last_problem;
    while (!stopping()) {
      // Lines longer than the parser's limit come back cut, and the parser refuses them.
      auto child = proc::Child::start(argv, {}, drbd::max_events2_line + 1);
      if (!child) {
        const std::string why = child.error().message();
        core_.drbd_stream_ended(why);
        const Millis delay = restarts.next_delay(std::nullopt, Clock::now());
        if (why != last_problem) log_.error("DRBD events: {}; trying again in {} (and with backoff)", why, format_duration(delay));
        last_problem = why;
        if (wait(delay)) return;
        continue;
      }
      core_.drbd_stream_started(!first);
      const std::string following =
          fmt::format("DRBD events: following {} (pid {}){}", proc::describe(argv), child->pid(), first ? "" : ", restarted");
      if (quiet) log_.debug("{}", following);  // a restart after an end logged once already
      else log_.info("{}", following);
      first = false;
      std::optional<Clock::time_point> synced_at;
      const std::string why = follow(*child, restarts, synced_at);
      if (why.empty()) {  // evosd stops
        child->stop();
        core_.drbd_stream_ended("evosd is stopping");
        return;
      }
      core_.drbd_stream_ended(why);
      const Millis delay = restarts.next_delay(synced_at, Clock::now());
      // The same end again (no DRBD module: every start fails alike) is logged once, not every 30 s.
      quiet = why == last_problem && !synced_at;
      if (!quiet)
        log_.warning("DRBD events: {}; mirror state unknown until it runs again (in {})", why, format_duration(delay));
      else
        log_.debug("DRBD events: {} again; next start in {}", why, format_duration(delay));
      last_problem = why;
      if (wait(delay)) return;
    }
  }

  // Reads the stream until it must end; returns why ("" when evosd stops).
  std::string follow(proc::Child& child, const drbd::StreamRestarts& restarts, std::optional<Clock::time_point>& synced_at) {
    const auto started = Clock::now();
    for (;;) {
      if (stopping()) return {};
      if (!synced_at && restarts.initial_state_overdue(started, Clock::now())) {
        child.stop();
        return fmt::format("drbdsetup events2 printed no initial state within {}; stopped it",
                           format_duration(restarts.policy().initial_state_within));
      }
      auto r = child.read_line(Deadline::after(stop_poll));
      if (r.what == proc::ReadLine::What::timeout) continue;
      if (r.what == proc::ReadLine::What::end) return fmt::format("drbdsetup events2 {}", child.stop(1s).describe());
      const auto o = core_.drbd_line(r.line);
      if (!o.garbage) log_.debug("events2: {}", text::quote_for_message(r.line));
      if (o.log) {
        if (o.garbage || o.lost) log_.warning("{}", *o.log);
        else log_.info("{}", *o.log);
      }
      if (o.synced && !synced_at) synced_at = Clock::now();
      if (o.lost) {
        child.stop();
        return "drbdsetup events2 lost notifications; reading the state again";
      }
      if (restarts.too_much_garbage(o.stream_garbage)) {
        child.stop();
        return fmt::format("drbdsetup events2 printed {} lines that cannot be read; stopped it", o.stream_garbage);
      }
    }
  }

  Core& core_;
  Log& log_;
  std::string drbdsetup_;
  Worker worker_;
};

}  // namespace

std::unique_ptr<Service> make_drbd_follower(Core& core, Log& log) {
  const Config& c = core.config();
  core.drbd_followed(false);
  if (!c.drbd_events) return nullptr;
  std::string drbdsetup = drbdsetup_path(c);
  if (drbdsetup.empty()) {
    log.info("DRBD events off: no drbdsetup in {} (set drbdsetup = PATH to follow one elsewhere)", default_drbdsetup_dirs);
    return nullptr;
  }
  return std::make_unique<DrbdFollower>(core, log, std::move(drbdsetup));
}

}  // namespace evos::daemon
