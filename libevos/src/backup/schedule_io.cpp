#include <evos/backup/schedule_io.hpp>

#include <evos/backup/store.hpp>
#include <evos/file/atomic_write.hpp>
#include <evos/proc/run.hpp>
#include <evos/vm/domain_copy.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace evos::backup {
namespace {

bool systemd_runs_here(const std::string& unit_dir) {
  struct stat st {};
  return unit_dir == default_unit_dir && ::stat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

Result<void> systemctl(const std::vector<std::string>& args, Deadline deadline) {
  std::vector<std::string> argv{"systemctl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = proc::run(argv, deadline);
  if (!r) return std::move(r).error();
  if (!r->ok()) return make_error(Errc::backend, "{} failed: {}", proc::describe(argv), r->err);
  return {};
}

}  // namespace

Result<ScheduleChange> add_schedule(const std::string& unit_dir, const Schedule& s, const std::string& evosctl_path, Deadline deadline) {
  if (auto p = schedule_problem(s)) return Error(Errc::invalid_argument, *p);
  // systemd's own parser decides what OnCalendar= accepts (systemd.time(7)).
  auto check = proc::run({"systemd-analyze", "calendar", s.calendar}, deadline);
  if (!check) return std::move(check).error().context("check --calendar with systemd-analyze");
  if (!check->ok())
    return make_error(Errc::invalid_argument, "--calendar '{}' is not a systemd calendar expression (systemd.time(7)): {}", s.calendar,
                      check->err.empty() ? check->out : check->err);
  ScheduleChange change{make_schedule_units(s, evosctl_path), false};
  for (const auto& [name, text] : {std::pair{change.units.service_name, change.units.service},
                                   std::pair{change.units.timer_name, change.units.timer}})
    if (auto w = file::write_atomically(unit_dir + "/" + name, text, {.mode = 0644}); !w) return std::move(w).error();
  if (systemd_runs_here(unit_dir)) {
    if (auto r = systemctl({"daemon-reload"}, deadline); !r) return std::move(r).error();
    if (auto r = systemctl({"enable", "--now", change.units.timer_name}, deadline); !r) return std::move(r).error();
    change.activated = true;
  }
  return change;
}

Result<std::vector<Schedule>> list_schedules(const std::string& unit_dir) {
  std::vector<Schedule> out;
  DIR* d = ::opendir(unit_dir.c_str());
  if (!d) return make_error(errno == ENOENT ? Errc::not_found : Errc::backend, "cannot list {}: {}", unit_dir, std::strerror(errno));
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view n = e->d_name;
    if (n.rfind("evos-backup-", 0) == 0 && n.size() > 6 && n.substr(n.size() - 6) == ".timer") names.emplace_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    auto text = read_file(unit_dir + "/" + n, 64u << 10);
    if (!text) return std::move(text).error();
    auto s = parse_schedule_unit(std::string_view(reinterpret_cast<const char*>(text->data()), text->size()));
    if (!s) return std::move(s).error().context(fmt::format("read {}/{}", unit_dir, n));
    out.push_back(std::move(*s));
  }
  return out;
}

Result<ScheduleChange> remove_schedule(const std::string& unit_dir, const std::string& vm, Deadline deadline) {
  if (auto p = vm::name_problem(vm)) return Error(Errc::invalid_argument, *p);
  const std::string base = unit_base_name(vm);
  ScheduleChange change;
  change.units.timer_name = base + ".timer";
  change.units.service_name = base + ".service";
  const std::string timer = unit_dir + "/" + change.units.timer_name;
  struct stat st {};
  if (::lstat(timer.c_str(), &st) != 0) return make_error(Errc::not_found, "VM {} has no backup schedule in {}", vm, unit_dir);
  if (systemd_runs_here(unit_dir)) {
    if (auto r = systemctl({"disable", "--now", change.units.timer_name}, deadline); !r) return std::move(r).error();
    change.activated = true;
  }
  for (const auto& name : {change.units.timer_name, change.units.service_name}) {
    const std::string path = unit_dir + "/" + name;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return make_error(Errc::backend, "cannot remove {}: {}", path, std::strerror(errno));
  }
  if (change.activated)
    if (auto r = systemctl({"daemon-reload"}, deadline); !r) return std::move(r).error();
  return change;
}

}  // namespace evos::backup
