#include <evos/net/ping_service.hpp>

#include <chrono>

namespace evos::net {
namespace {

std::int64_t system_unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

PingService::PingService(Resolver& resolver, Prober& prober, AttributeWriter& attributes, StateStore& store, Log& log,
                         const PingParams& params, std::int64_t (*unix_now)())
    : resolver_(resolver),
      prober_(prober),
      attributes_(attributes),
      store_(store),
      log_(log),
      params_(params),
      unix_now_(unix_now ? unix_now : system_unix_now) {}

// Address literals need no resolver. Names come from the state file unless `refresh` (start,
// reload, validate-all); only names missing there are resolved during a monitor, so a monitor
// never waits for DNS and a DNS outage never looks like a network outage.
Result<std::vector<Target>> PingService::targets(const std::optional<PingState>& cached, bool refresh, Deadline deadline) {
  std::vector<Target> out(params_.hosts.size());
  std::vector<HostSpec> to_resolve;
  std::vector<std::size_t> where;
  for (std::size_t i = 0; i < params_.hosts.size(); ++i) {
    const auto& spec = params_.hosts[i];
    out[i].spec = spec;
    if (!spec.is_name()) {
      out[i].address = spec.host;
      out[i].family = spec.literal;
      continue;
    }
    if (!refresh && cached) {
      if (const auto hit = cached->addresses.find(spec.host); hit != cached->addresses.end()) {
        out[i].address = hit->second;
        out[i].family = literal_family(hit->second);
        continue;
      }
    }
    to_resolve.push_back(spec);
    where.push_back(i);
  }
  if (to_resolve.empty()) return out;
  auto resolved = resolver_.resolve(to_resolve, deadline);
  if (!resolved) {
    // A resolver that cannot answer now (not a name that does not exist) while the addresses are
    // known from start: keep probing them, and say so.
    if (resolved.error().code() != Errc::invalid_config && cached) {
      bool all_cached = true;
      for (std::size_t k = 0; k < to_resolve.size(); ++k) {
        const auto hit = cached->addresses.find(to_resolve[k].host);
        if (hit == cached->addresses.end()) {
          all_cached = false;
          break;
        }
        out[where[k]].address = hit->second;
        out[where[k]].family = literal_family(hit->second);
      }
      if (all_cached) {
        log_.warning("{}; probing the addresses resolved earlier", resolved.error().message());
        return out;
      }
    }
    return std::move(resolved).error();
  }
  for (std::size_t k = 0; k < where.size() && k < resolved->size(); ++k) {
    out[where[k]].address = (*resolved)[k].address;
    out[where[k]].family = (*resolved)[k].family;
  }
  return out;
}

Result<Round> PingService::round(std::span<const Target> targets, Deadline deadline) {
  const auto window = affordable_window(params_.timeout, deadline.remaining(), publish_reserve);
  if (window.clamped)
    log_.warning("the operation timeout leaves {} ms for probing, less than the probe timeout of {} ms; raise the "
                 "operation's timeout",
                 window.length.count(), params_.timeout.count());
  ProbeOptions options{plan_probes(window.length, params_.attempts), params_.interface};
  auto hosts = prober_.probe(targets, options, deadline);
  if (!hosts) return std::move(hosts).error();
  Round r;
  r.hosts = std::move(*hosts);
  r.summary = summarize(r.hosts, params_.multiplier);
  r.assessment = assess(r.summary, r.hosts, params_.failure_score);
  for (const auto& h : r.hosts)
    if (!h.reachable())
      log_.info("test IP {} unreachable: {} {}/{} lost{}{}", h.host, to_string(h.state), h.sent - h.received, h.sent,
                h.error.empty() ? "" : ", ", h.error);
  return r;
}

Result<void> PingService::publish(const Round& r, Deadline deadline) {
  const auto bounded = [&] { return Deadline::after(publish_reserve).earliest(deadline); };
  auto written = attributes_.update(params_.attribute, std::to_string(r.summary.score), params_.dampen, bounded());
  if (!written) return std::move(written).error().context(fmt::format("update node attribute '{}'", params_.attribute));
  const std::string detail = format_detail({.unix_time = unix_now_(), .score = r.summary.score, .hosts = r.hosts});
  if (params_.detail) {
    // The detail is for people: failing to publish it is worth a warning, not a failed monitor.
    if (auto d = attributes_.update_private(params_.detail_attribute(), detail, bounded()); !d)
      log_.warning("cannot publish '{}': {}", params_.detail_attribute(), d.error().message());
  }
  PingState state = store_.load().value_or(PingState{});
  state.detail = detail;
  if (auto saved = store_.save(state); !saved) log_.warning("{}", saved.error().message());
  return {};
}

Result<Round> PingService::start(Deadline deadline) {
  const auto resolve_by = deadline.minus(params_.timeout + publish_reserve);
  auto t = targets(std::nullopt, true, resolve_by);
  if (!t) return std::move(t).error();
  PingState state;
  for (const auto& target : *t)
    if (target.spec.is_name()) state.addresses[target.spec.host] = target.address;
  if (auto saved = store_.save(state); !saved) return std::move(saved).error();
  auto r = round(*t, deadline);
  if (r) {
    if (auto p = publish(*r, deadline); !p) r = std::move(p).error();
  }
  if (r && r->assessment.health == Health::failed) r = make_error(Errc::backend, "{}", r->assessment.why);
  if (!r) {
    // Not started: a probe must not find a state file and report it running.
    if (auto removed = store_.remove(); !removed) log_.warning("{}", removed.error().message());
    return std::move(r).error();
  }
  log_.info("started: {} of {} test IPs reachable, {} = {}", r->summary.reachable, r->summary.total, params_.attribute,
            r->summary.score);
  return r;
}

Result<void> PingService::stop(Deadline deadline) {
  const auto bounded = [&] { return Deadline::after(publish_reserve).earliest(deadline); };
  for (const auto& name : {params_.attribute, params_.detail_attribute()})
    if (auto removed = attributes_.remove(name, bounded()); !removed)
      log_.warning("cannot remove node attribute '{}': {}", name, removed.error().message());
  return store_.remove();
}

Result<std::optional<Round>> PingService::monitor(Deadline deadline) {
  if (!store_.exists()) return std::optional<Round>();
  const auto cached = store_.load();
  auto t = targets(cached, false, deadline.minus(params_.timeout + publish_reserve));
  if (!t) return std::move(t).error();
  auto r = round(*t, deadline);
  if (!r) return std::move(r).error();
  if (auto p = publish(*r, deadline); !p) return std::move(p).error();
  return std::optional<Round>(std::move(*r));
}

Result<Round> PingService::reload(Deadline deadline) {
  const auto cached = store_.load();
  auto t = targets(cached, true, deadline.minus(params_.timeout + publish_reserve));
  if (!t) return std::move(t).error();
  PingState state = cached.value_or(PingState{});
  state.addresses.clear();
  for (const auto& target : *t)
    if (target.spec.is_name()) state.addresses[target.spec.host] = target.address;
  if (auto saved = store_.save(state); !saved) return std::move(saved).error();
  auto r = round(*t, deadline);
  if (!r) return std::move(r).error();
  if (auto p = publish(*r, deadline); !p) return std::move(p).error();
  log_.info("reloaded: {} = {}, dampen {}", params_.attribute, r->summary.score, format_dampen(params_.dampen));
  return r;
}

Result<void> PingService::check(Deadline deadline) {
  auto t = targets(std::nullopt, true, deadline.minus(params_.timeout + publish_reserve));
  if (!t) return std::move(t).error();
  auto r = round(*t, deadline);
  if (!r) return std::move(r).error();
  return {};
}

}  // namespace evos::net
