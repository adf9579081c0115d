#include <evos/text_checks.hpp>
#include <evos/vm/operation_record.hpp>

#include <fmt/core.h>

#include <charconv>

namespace evos::vm {

std::string_view to_string(Phase phase) noexcept {
  switch (phase) {
    case Phase::starting: return "starting";
    case Phase::active: return "active";
    case Phase::stopping: return "stopping";
    case Phase::stopped: return "stopped";
    case Phase::migrating: return "migrating";
    case Phase::arriving: return "arriving";
    case Phase::failed: return "failed";
  }
  return "failed";
}

std::optional<Phase> parse_phase(std::string_view text) noexcept {
  for (Phase p : {Phase::starting, Phase::active, Phase::stopping, Phase::stopped, Phase::migrating, Phase::arriving,
                  Phase::failed})
    if (to_string(p) == text) return p;
  return std::nullopt;
}

std::string render(const OperationRecord& r) {
  return fmt::format("instance={}\ndomain={}\nuuid={}\nphase={}\nsince={}\n", r.instance, r.domain, r.uuid,
                     to_string(r.phase), r.since);
}

Result<OperationRecord> parse_operation_record(std::string_view text) {
  OperationRecord r;
  bool have_instance = false, have_domain = false, have_phase = false;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty()) continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos)
      return make_error(Errc::invalid_argument, "operation record line {}: no '='", line_no);
    const std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    auto token = [&](std::string& into, bool may_be_empty) -> Result<void> {
      if (value.empty() && may_be_empty) return {};
      if (auto p = text::syntax_problem(value, text::Syntax::token))
        return make_error(Errc::invalid_argument, "operation record line {}: {} {}", line_no, key, *p);
      into = std::string(value);
      return {};
    };
    if (key == "instance") {
      if (auto t = token(r.instance, false); !t) return std::move(t).error();
      have_instance = true;
    } else if (key == "domain") {
      if (auto t = token(r.domain, false); !t) return std::move(t).error();
      have_domain = true;
    } else if (key == "uuid") {
      if (auto t = token(r.uuid, true); !t) return std::move(t).error();
    } else if (key == "phase") {
      auto p = parse_phase(value);
      if (!p) return make_error(Errc::invalid_argument, "operation record line {}: unknown phase {}", line_no,
                                text::quote_for_message(value));
      r.phase = *p;
      have_phase = true;
    } else if (key == "since") {
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), r.since);
      if (ec != std::errc() || ptr != value.data() + value.size())
        return make_error(Errc::invalid_argument, "operation record line {}: since is not a number", line_no);
    } else {
      return make_error(Errc::invalid_argument, "operation record line {}: unknown key {}", line_no,
                        text::quote_for_message(key));
    }
  }
  if (!have_instance || !have_domain || !have_phase)
    return make_error(Errc::invalid_argument, "operation record lacks {}",
                      !have_instance ? "instance" : !have_domain ? "domain" : "phase");
  return r;
}

PhaseChange phase_change(std::string_view action) {
  // A failed start or migrate_from leaves a resource Pacemaker is about to recover (stop); a
  // failed stop gets the node fenced; a failed migrate_to is followed by stops on both sides.
  // None of them may read as "active".
  if (action == "start") return {Phase::starting, Phase::active, Phase::failed};
  if (action == "stop") return {Phase::stopping, Phase::stopped, Phase::failed};
  if (action == "migrate_to") return {Phase::migrating, Phase::migrating, Phase::failed};
  if (action == "migrate_from") return {Phase::arriving, Phase::active, Phase::failed};
  return {};
}

std::optional<Phase> monitor_phase(std::optional<Phase> recorded, bool running) {
  // A monitor that finds the domain running tells Pacemaker it is active here (a probe included).
  if (running) return recorded == Phase::active ? std::nullopt : std::optional<Phase>(Phase::active);
  // Not running: the resource is inactive for Pacemaker now (a probe), or failed (a recurring
  // monitor; Pacemaker recovers it). An action in progress is left alone; execd never runs two
  // actions of one resource at once, so such a phase means that action died.
  if (!recorded || recorded == Phase::active) return Phase::stopped;
  return std::nullopt;
}

}  // namespace evos::vm
