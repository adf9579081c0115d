// evos::backup schedules: a VM's regular backup as a pair of systemd units (docs/backup.md,
// "Schedules"), evos-backup-VM.timer (OnCalendar=, systemd.time(7)) and evos-backup-VM.service,
// which runs `evosctl backup create VM --store DIR --only-if-running` and then, if a retention is
// set, `evosctl backup prune`. The same units go on every node: the job backs up only where the
// VM runs, so it follows an HA VM through migrations and failovers. The units start with a
// comment that holds the schedule as JSON, which `schedule list` reads back.
#pragma once

#include <evos/backup/retention.hpp>
#include <evos/error.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace evos::backup {

struct Schedule {
  std::string vm;
  std::string store;
  std::string key_file;  // "" for a plain store
  std::string calendar;  // an OnCalendar= expression: "daily", "Mon..Fri 22:00", "*-*-* 02,14:00"
  std::string mode = "snapshot";
  RetentionPolicy keep;  // nothing kept: no prune
};

struct ScheduleUnits {
  std::string timer_name;    // "evos-backup-web1.timer"
  std::string timer;
  std::string service_name;  // "evos-backup-web1.service"
  std::string service;
};

// The problem with a schedule before any unit is written (a name, path or calendar that would
// not survive systemd's parsing: %, quotes, white space in paths, control characters), or nullopt.
// Whether systemd accepts the calendar itself is asked of systemd-analyze by the caller.
std::optional<std::string> schedule_problem(const Schedule& s);
// "evos-backup-web1" ('+', which unit names cannot hold, as systemd-escape writes it: \x2b).
std::string unit_base_name(std::string_view vm);
ScheduleUnits make_schedule_units(const Schedule& s, std::string_view evosctl_path);
// The schedule in a unit's first line; Errc::invalid_config for a unit evos did not write.
Result<Schedule> parse_schedule_unit(std::string_view unit_text);

}  // namespace evos::backup
