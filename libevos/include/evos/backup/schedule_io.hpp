// evos::backup schedules on this node: the unit files in a directory (default
// /etc/systemd/system), and systemd told about them when it runs here (/run/systemd/system
// exists: sd_booted(3)'s test). Without systemd (the lab) the units are only written; the job is
// their ExecStart= lines, run by hand.
#pragma once

#include <evos/backup/schedule.hpp>
#include <evos/deadline.hpp>

#include <vector>

namespace evos::backup {

inline constexpr char default_unit_dir[] = "/etc/systemd/system";

struct ScheduleChange {
  ScheduleUnits units;
  bool activated = false;  // systemctl daemon-reload and enable --now (or disable --now) ran
};

// Checks the schedule (schedule_problem, then `systemd-analyze calendar`, which must accept it),
// writes both units (atomically, mode 0644; an existing schedule of the VM is replaced) and, with
// systemd running and the default directory, enables the timer.
Result<ScheduleChange> add_schedule(const std::string& unit_dir, const Schedule& s, const std::string& evosctl_path, Deadline deadline);
Result<std::vector<Schedule>> list_schedules(const std::string& unit_dir);
// Errc::not_found if the VM has no schedule there.
Result<ScheduleChange> remove_schedule(const std::string& unit_dir, const std::string& vm, Deadline deadline);

}  // namespace evos::backup
