// The client's half of evosd's protocol (protocol.hpp): the request line, the "vm" answer read
// back and the freshness rule. Apart from the server's half so that the VM agent's front end links
// it without the node state and DRBD code the answers are rendered from (libevos/CMakeLists.txt).
#include <evos/daemon/protocol.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace evos::daemon {
namespace {

using json = nlohmann::json;

std::string line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }

// The enumerators in declaration order (domain_state.hpp), to read names back.
template <class E, int N>
std::optional<E> enum_named(std::string_view text) {
  for (int i = 0; i < N; ++i)
    if (vm::to_string(static_cast<E>(i)) == text) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace

std::string render_request(const Request& r) {
  switch (r.op) {
    case Request::Op::ping: return line(json{{"op", "ping"}});
    case Request::Op::status: return line(json{{"op", "status"}});
    case Request::Op::vm: return line(json{{"op", "vm"}, {"name", r.name}});
    case Request::Op::mirror: return line(json{{"op", "mirror"}, {"name", r.name}});
  }
  return line(json{{"op", "ping"}});
}

Result<VmAnswer> parse_vm_answer(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(Errc::invalid_argument, "evosd's answer is not a JSON object");
  if (!j.value("ok", false)) {
    const auto e = j.find("error");
    return make_error(Errc::invalid_argument, "evosd refused the request: {}",
                      e != j.end() && e->is_string() ? e->get<std::string>() : std::string("no reason given"));
  }
  try {
    if (j.at("op").get<std::string>() != "vm") return make_error(Errc::invalid_argument, "evosd answered another op");
    VmAnswer a;
    a.name = j.at("name").get<std::string>();
    a.uri = j.at("uri").get<std::string>();
    a.fresh = j.at("fresh").get<bool>();
    a.known = j.at("known").get<bool>();
    const auto power = enum_named<vm::Power, 9>(j.at("state").get<std::string>());
    const auto reason = enum_named<vm::Reason, 18>(j.at("reason").get<std::string>());
    if (!power || !reason) return make_error(Errc::invalid_argument, "evosd's answer has an unknown state");
    a.state = {*power, *reason};
    if (a.known) {
      a.uuid = j.at("uuid").get<std::string>();
      a.age = Millis(j.at("age_ms").get<long long>());
    }
    const auto& lv = j.at("libvirt");
    a.connected = lv.at("connected").get<bool>();
    a.synced = lv.at("synced").get<bool>();
    a.heard = Millis(lv.at("heard_ms").get<long long>());
    return a;
  } catch (const json::exception& e) {
    return make_error(Errc::invalid_argument, "evosd's answer lacks a field or has a wrong type: {}", e.what());
  }
}

std::optional<std::string> distrust(const VmAnswer& a, const Expectation& e) {
  if (a.name != e.domain) return fmt::format("evosd answered for domain '{}', not '{}'", a.name, e.domain);
  if (a.uri != e.uri) return fmt::format("evosd follows {}, not {}", a.uri, e.uri);
  if (!a.connected) return std::string("evosd is not connected to libvirt");
  if (!a.synced) return std::string("evosd has not listed the domains since it connected");
  if (!a.fresh) return std::string("evosd says its libvirt connection is not fresh");
  if (a.heard < Millis(0) || a.heard > e.max_silence)
    return fmt::format("evosd last heard from libvirt {} ms ago (more than {} ms)", a.heard.count(), e.max_silence.count());
  if (!a.known) return std::string("evosd does not know the domain");
  if (!e.uuid.empty() && a.uuid != e.uuid) return fmt::format("evosd's domain '{}' has another UUID", a.name);
  if (a.state.power != vm::Power::running) return fmt::format("evosd says {}", vm::describe(a.state));
  return std::nullopt;
}

}  // namespace evos::daemon
