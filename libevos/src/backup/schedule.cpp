#include <evos/backup/schedule.hpp>

#include <evos/backup/manifest.hpp>
#include <evos/vm/domain_copy.hpp>

#include <nlohmann/json.hpp>

namespace evos::backup {
namespace {

constexpr char header[] = "# evos-backup-schedule ";

// Paths written into ExecStart= without quoting: systemd splits on white space and expands %
// specifiers, so neither may appear (systemd.service(5), "Command lines").
std::optional<std::string> path_problem(std::string_view path, std::string_view what) {
  if (path.empty() || path.front() != '/') return fmt::format("{} must be an absolute path", what);
  for (char c : path) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("/._-+@:,=").find(c) != std::string_view::npos;
    if (!ok) return fmt::format("{} '{}' holds a character a systemd unit cannot carry unquoted (only A-Z a-z 0-9 / . _ - + @ : , =)", what, path);
  }
  return std::nullopt;
}

std::string keep_args(const RetentionPolicy& k) {
  std::string out;
  for (auto [name, n] : {std::pair{"last", k.last}, std::pair{"hourly", k.hourly}, std::pair{"daily", k.daily},
                         std::pair{"weekly", k.weekly}, std::pair{"monthly", k.monthly}, std::pair{"yearly", k.yearly}})
    if (n) out += fmt::format(" --keep-{} {}", name, n);
  return out;
}

}  // namespace

std::optional<std::string> schedule_problem(const Schedule& s) {
  if (auto p = vm::name_problem(s.vm)) return p;
  if (auto p = path_problem(s.store, "--store")) return p;
  if (!s.key_file.empty())
    if (auto p = path_problem(s.key_file, "--key-file")) return p;
  if (s.mode != "snapshot" && s.mode != "suspend" && s.mode != "stop")
    return fmt::format("mode '{}' is not snapshot, suspend or stop", s.mode);
  if (s.calendar.empty() || s.calendar.size() > 256) return "--calendar is empty or longer than 256 characters";
  for (char c : s.calendar) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view(" *,-.:/~").find(c) != std::string_view::npos;
    if (!ok) return fmt::format("--calendar '{}' holds '{}', which no OnCalendar= expression has", s.calendar, c);
  }
  return std::nullopt;
}

std::string unit_base_name(std::string_view vm) {
  std::string out = "evos-backup-";
  for (char c : vm) out += c == '+' ? std::string("\\x2b") : std::string(1, c);
  return out;
}

ScheduleUnits make_schedule_units(const Schedule& s, std::string_view evosctl_path) {
  nlohmann::ordered_json j{{"vm", s.vm}, {"store", s.store}, {"key_file", s.key_file}, {"calendar", s.calendar}, {"mode", s.mode},
                           {"keep", {{"last", s.keep.last}, {"hourly", s.keep.hourly}, {"daily", s.keep.daily},
                                     {"weekly", s.keep.weekly}, {"monthly", s.keep.monthly}, {"yearly", s.keep.yearly}}}};
  const std::string first = header + j.dump() + "\n# Written by `evosctl backup schedule add`; change it with that command.\n";
  const std::string base = unit_base_name(s.vm);
  const std::string key = s.key_file.empty() ? "" : " --key-file " + s.key_file;
  ScheduleUnits u;
  u.timer_name = base + ".timer";
  u.service_name = base + ".service";
  u.service = first + fmt::format(
      "[Unit]\n"
      "Description=evos backup of VM {0} to {1}\n"
      "Documentation=man:evosctl(8)\n"
      "Wants=network-online.target\n"
      "After=network-online.target remote-fs.target libvirtd.service\n"
      "RequiresMountsFor={1}\n"
      "\n"
      "[Service]\n"
      "Type=oneshot\n"
      "# Only on the node that runs the VM: the other node skips it (exit 0).\n"
      "ExecStart={2} backup create {0} --store {1}{3} --mode {4} --only-if-running\n",
      s.vm, s.store, evosctl_path, key, s.mode);
  if (!s.keep.keeps_nothing())
    u.service += fmt::format("ExecStart={} backup prune --store {}{} --vm {}{}\n", evosctl_path, s.store, key, s.vm, keep_args(s.keep));
  u.service += "Nice=10\nIOSchedulingClass=best-effort\nIOSchedulingPriority=7\n";
  u.timer = first + fmt::format(
      "[Unit]\n"
      "Description=evos backup schedule of VM {0}\n"
      "Documentation=man:evosctl(8)\n"
      "\n"
      "[Timer]\n"
      "OnCalendar={1}\n"
      "# A run missed while the node was down is made up at boot.\n"
      "Persistent=true\n"
      "Unit={2}\n"
      "\n"
      "[Install]\n"
      "WantedBy=timers.target\n",
      s.vm, s.calendar, u.service_name);
  return u;
}

Result<Schedule> parse_schedule_unit(std::string_view text) {
  const std::string_view prefix = header;
  if (text.substr(0, prefix.size()) != prefix) return Error(Errc::invalid_config, "not a unit evosctl backup schedule wrote");
  const auto end = text.find('\n');
  const auto j = nlohmann::json::parse(text.substr(prefix.size(), end - prefix.size()), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error(Errc::invalid_config, "the unit's evos-backup-schedule line is not JSON");
  Schedule s;
  try {
    s.vm = j.at("vm").get<std::string>();
    s.store = j.at("store").get<std::string>();
    s.key_file = j.value("key_file", "");
    s.calendar = j.at("calendar").get<std::string>();
    s.mode = j.value("mode", "snapshot");
    const auto& k = j.at("keep");
    s.keep = {k.value("last", 0u), k.value("hourly", 0u), k.value("daily", 0u), k.value("weekly", 0u), k.value("monthly", 0u), k.value("yearly", 0u)};
  } catch (const nlohmann::json::exception& e) {
    return make_error(Errc::invalid_config, "the unit's evos-backup-schedule line is incomplete: {}", e.what());
  }
  if (auto p = schedule_problem(s)) return make_error(Errc::invalid_config, "the unit's schedule is not valid: {}", *p);
  return s;
}

}  // namespace evos::backup
