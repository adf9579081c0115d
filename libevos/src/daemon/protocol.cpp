#include <evos/daemon/protocol.hpp>
#include <evos/drbd/control.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace evos::daemon {
namespace {

using json = nlohmann::json;

long long ms(Clock::duration d) { return std::chrono::duration_cast<Millis>(d).count(); }

std::string line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }

json source_json(const SourceStatus& s, const AnswerContext& ctx, bool fresh) {
  json j{{"connected", s.connected}, {"synced", s.synced}, {"fresh", fresh}, {"since_ms", ms(ctx.now - s.since)}};
  j["heard_ms"] = s.connected ? ms(ctx.now - s.heard) : -1;
  if (!s.problem.empty()) j["problem"] = s.problem;
  return j;
}

json drbd_json(const NodeState& state, const AnswerContext& ctx) {
  json j{{"followed", state.drbd_followed}, {"running", state.drbd.running()}, {"synced", state.drbd.synced()},
         {"fresh", state.drbd_fresh()}};
  j["since_ms"] = state.drbd_followed ? ms(ctx.now - state.drbd_since) : -1;
  if (!state.drbd_followed) j["problem"] = "evosd does not follow DRBD (drbd_events = no, or no drbdsetup)";
  else if (!state.drbd_fresh()) j["problem"] = state.drbd.problem();
  return j;
}

json corosync_json(const NodeState& state, const AnswerContext& ctx) {
  const auto& c = state.corosync;
  json j{{"followed", state.corosync_followed}, {"connected", c.connected()}, {"synced", c.synced()}};
  if (!state.corosync_followed) {
    j["problem"] = "evosd does not follow Corosync (corosync_events = no)";
    return j;
  }
  // -1 before the follower's first try has connected or failed
  j["since_ms"] = c.since() == Clock::time_point{} ? -1 : ms(ctx.now - c.since());
  if (!c.problem().empty()) j["problem"] = c.problem();
  if (!c.changed_wall()) return j;  // no notification yet: nothing known
  // As last notified; "synced":false says it may be old (the connection is not up).
  const auto m = c.last_known();
  j["cluster_name"] = m.cluster_name;
  j["quorate"] = m.quorate;
  j["ring_seq"] = c.ring_seq();
  j["changed_ms"] = ms(ctx.now - c.changed());
  j["changed_unix_ms"] = std::chrono::duration_cast<Millis>(c.changed_wall()->time_since_epoch()).count();
  json nodes = json::array();
  std::size_t members = 0;
  for (const auto& n : m.nodes) {
    nodes.push_back({{"nodeid", n.nodeid}, {"name", n.name}, {"member", n.online}, {"local", n.nodeid == m.local_nodeid}});
    members += n.online ? 1 : 0;
  }
  j["members"] = members;
  j["nodes"] = std::move(nodes);
  return j;
}

json optional_number(const std::optional<std::uint64_t>& v) { return v ? json(*v) : json(nullptr); }

json resource_json(const drbd::ResourceState& r) {
  json devices = json::array();
  for (const auto& d : r.devices)
    devices.push_back({{"volume", d.volume}, {"minor", d.minor}, {"disk", drbd::to_string(d.disk)}, {"quorum", d.quorum}});
  json connections = json::array();
  for (const auto& c : r.connections) {
    json pds = json::array();
    for (const auto& p : c.peer_devices) {
      json pd{{"volume", p.volume},
              {"replication", drbd::to_string(p.replication)},
              {"peer_disk", drbd::to_string(p.peer_disk)},
              {"out_of_sync_kib", p.out_of_sync_kib},
              {"sent_kib", optional_number(p.sent_kib)},
              {"received_kib", optional_number(p.received_kib)}};
      pd["done_percent"] = p.done_percent ? json(*p.done_percent) : json(nullptr);
      pds.push_back(std::move(pd));
    }
    connections.push_back({{"peer", drbd::peer_display_name(c)},
                           {"peer_node_id", c.peer_node_id},
                           {"state", drbd::to_string(c.state)},
                           {"peer_role", drbd::to_string(c.peer_role)},
                           {"split_brain", c.split_brain},
                           {"peer_devices", std::move(pds)}});
  }
  return {{"role", drbd::to_string(r.role)}, {"suspended", r.suspended}, {"devices", std::move(devices)},
          {"connections", std::move(connections)}};
}

}  // namespace

Result<Request> parse_request(std::string_view text) {
  if (text.size() > max_request_bytes)
    return make_error(Errc::invalid_argument, "request of {} bytes; the limit is {}", text.size(), max_request_bytes);
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error(Errc::invalid_argument, "request is not JSON");
  if (!j.is_object()) return make_error(Errc::invalid_argument, "request is not a JSON object");
  auto op = j.find("op");
  if (op == j.end() || !op->is_string()) return make_error(Errc::invalid_argument, "request has no \"op\" string");
  const auto& name = op->get_ref<const std::string&>();
  Request r;
  if (name == "ping") {
    r.op = Request::Op::ping;
  } else if (name == "status") {
    r.op = Request::Op::status;
  } else if (name == "vm") {
    r.op = Request::Op::vm;
    auto n = j.find("name");
    if (n == j.end() || !n->is_string()) return make_error(Errc::invalid_argument, "op \"vm\" needs a \"name\" string");
    r.name = n->get<std::string>();
    if (auto p = text::syntax_problem(r.name, text::Syntax::token); p || r.name.empty() || r.name.size() > 256)
      return make_error(Errc::invalid_argument, "domain name {} {}", text::quote_for_message(r.name),
                        p ? *p : std::string("has a bad length"));
  } else if (name == "mirror") {
    r.op = Request::Op::mirror;
    auto n = j.find("name");
    if (n == j.end() || !n->is_string()) return make_error(Errc::invalid_argument, "op \"mirror\" needs a \"name\" string");
    r.name = n->get<std::string>();
    if (auto p = drbd::resource_name_problem(r.name))
      return make_error(Errc::invalid_argument, "DRBD resource {} {}", text::quote_for_message(r.name), *p);
  } else {
    return make_error(Errc::invalid_argument, "unknown op {}", text::quote_for_message(name));
  }
  return r;
}

std::string render_error(std::string_view message) { return line(json{{"ok", false}, {"error", message}}); }

std::string render_ping(std::string_view version) { return line(json{{"ok", true}, {"op", "ping"}, {"version", version}}); }

std::string render_vm(const NodeState& state, const std::string& name, const AnswerContext& ctx) {
  const bool fresh = state.fresh(Source::libvirt, ctx.now, ctx.max_silence);
  json j{{"ok", true}, {"op", "vm"}, {"name", name}, {"uri", ctx.uri}, {"fresh", fresh}};
  j["libvirt"] = source_json(state.source(Source::libvirt), ctx, fresh);
  if (const auto* d = state.domain(name)) {
    j["known"] = true;
    j["uuid"] = d->uuid;
    j["state"] = vm::to_string(d->state.power);
    j["reason"] = vm::to_string(d->state.reason);
    j["age_ms"] = ms(ctx.now - d->since);
  } else {
    j["known"] = false;
    j["state"] = vm::to_string(vm::Power::absent);
    j["reason"] = vm::to_string(vm::Reason::unknown);
  }
  return line(j);
}

std::string render_mirror(const NodeState& state, const std::string& name, const AnswerContext& ctx) {
  const bool fresh = state.drbd_fresh();
  json j{{"ok", true}, {"op", "mirror"}, {"name", name}, {"fresh", fresh}, {"drbd", drbd_json(state, ctx)}};
  if (!fresh) return line(j);  // never a stale state that could pass for the current one
  if (const auto* r = state.drbd.resource(name)) {
    j["known"] = true;
    j.update(resource_json(*r));
  } else {
    j["known"] = false;  // not up on this node
  }
  return line(j);
}

std::string render_status(const NodeState& state, const AnswerContext& ctx) {
  json doms = json::array();
  for (const auto& [name, d] : state.domains())
    doms.push_back({{"name", name}, {"uuid", d.uuid}, {"state", vm::to_string(d.state.power)},
                    {"reason", vm::to_string(d.state.reason)}, {"age_ms", ms(ctx.now - d.since)}, {"reported", d.reported}});
  json ips = json::array();
  for (const auto& t : state.test_ips()) {
    json h{{"host", t.host}, {"reachable", t.reachable}, {"age_ms", ms(ctx.now - t.since)}};
    h["rtt_us"] = t.rtt ? json(t.rtt->count()) : json(nullptr);
    ips.push_back(std::move(h));
  }
  const auto& c = state.counters;
  json counters{{"libvirt_events", c.libvirt_events},         {"libvirt_reconnects", c.libvirt_reconnects},
                {"libvirt_resyncs", c.libvirt_resyncs},       {"testip_rounds", c.testip_rounds},
                {"testip_changes", c.testip_changes},         {"failures_reported", c.failures_reported},
                {"report_errors", c.report_errors},           {"socket_requests", c.socket_requests},
                {"socket_bad_requests", c.socket_bad_requests}, {"socket_clients_dropped", c.socket_clients_dropped},
                {"drbd_events2_lines", c.drbd_events2_lines}, {"drbd_events2_garbage", c.drbd_events2_garbage},
                {"drbd_events2_restarts", c.drbd_events2_restarts}, {"corosync_changes", c.corosync_changes},
                {"corosync_reconnects", c.corosync_reconnects}};
  counters["last_event_unix_ms"] =
      c.last_event ? json(std::chrono::duration_cast<Millis>(c.last_event->time_since_epoch()).count()) : json(nullptr);
  const bool fresh = state.fresh(Source::libvirt, ctx.now, ctx.max_silence);
  json drbd_status = drbd_json(state, ctx);
  json mirrors = json::array();
  if (state.drbd_fresh())
    for (const auto& [name, r] : state.drbd.resources()) mirrors.push_back(name);
  drbd_status["mirrors"] = std::move(mirrors);
  return line(json{{"ok", true},
                   {"op", "status"},
                   {"uri", ctx.uri},
                   {"libvirt", source_json(state.source(Source::libvirt), ctx, fresh)},
                   {"domains", doms},
                   {"test_ips", ips},
                   {"drbd", drbd_status},
                   {"corosync", corosync_json(state, ctx)},
                   {"counters", counters}});
}

}  // namespace evos::daemon
