#include <evos/backup/schedule.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::backup;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Schedule sample() {
  Schedule s;
  s.vm = "web1";
  s.store = "/mnt/nas/evos";
  s.key_file = "/root/evos.key";
  s.calendar = "Mon..Fri 22:00";
  s.keep.daily = 7;
  s.keep.weekly = 4;
  return s;
}

}  // namespace

TEST_CASE("schedule units: a timer on the calendar and a service that backs up only where the VM runs, then prunes") {
  const auto u = make_schedule_units(sample(), "/usr/sbin/evosctl");
  CHECK(u.timer_name == "evos-backup-web1.timer");
  CHECK(u.service_name == "evos-backup-web1.service");
  CHECK(has(u.timer, "OnCalendar=Mon..Fri 22:00\n"));
  CHECK(has(u.timer, "Persistent=true"));
  CHECK(has(u.timer, "Unit=evos-backup-web1.service"));
  CHECK(has(u.timer, "WantedBy=timers.target"));
  CHECK(has(u.service, "ExecStart=/usr/sbin/evosctl backup create web1 --store /mnt/nas/evos --key-file /root/evos.key --mode snapshot --only-if-running\n"));
  CHECK(has(u.service, "ExecStart=/usr/sbin/evosctl backup prune --store /mnt/nas/evos --key-file /root/evos.key --vm web1 --keep-daily 7 --keep-weekly 4\n"));
  CHECK(has(u.service, "RequiresMountsFor=/mnt/nas/evos"));
  Schedule no_keep = sample();
  no_keep.keep = {};
  CHECK_FALSE(has(make_schedule_units(no_keep, "/x").service, "prune"));
}

TEST_CASE("a schedule reads back from its units") {
  const auto u = make_schedule_units(sample(), "/usr/sbin/evosctl");
  for (const auto* text : {&u.timer, &u.service}) {
    auto s = parse_schedule_unit(*text);
    REQUIRE(s);
    CHECK(s->vm == "web1");
    CHECK(s->calendar == "Mon..Fri 22:00");
    CHECK(s->keep.weekly == 4);
    CHECK(s->key_file == "/root/evos.key");
  }
  CHECK_FALSE(parse_schedule_unit("[Unit]\nDescription=someone else's\n"));
  CHECK_FALSE(parse_schedule_unit("# evos-backup-schedule {not json}\n"));
  CHECK_FALSE(parse_schedule_unit("# evos-backup-schedule {\"vm\":\"x\"}\n"));
  CHECK_FALSE(parse_schedule_unit("# evos-backup-schedule {\"vm\":\"../x\",\"store\":\"/s\",\"calendar\":\"daily\",\"keep\":{}}\n"));
}

TEST_CASE("schedules that systemd would read differently are refused, naming the value") {
  struct Row {
    const char* expect;
    std::function<void(Schedule&)> edit;
  };
  const std::vector<Row> rows = {
      {"VM name", [](Schedule& s) { s.vm = "a b"; }},
      {"--store", [](Schedule& s) { s.store = "/mnt/my nas"; }},
      {"--store", [](Schedule& s) { s.store = "/mnt/%h"; }},
      {"--store", [](Schedule& s) { s.store = "relative"; }},
      {"--key-file", [](Schedule& s) { s.key_file = "/root/k;ey"; }},
      {"--calendar", [](Schedule& s) { s.calendar = "daily\nExecStart=/bin/sh"; }},
      {"--calendar", [](Schedule& s) { s.calendar = ""; }},
      {"mode", [](Schedule& s) { s.mode = "shutdown"; }},
  };
  for (const auto& row : rows) {
    Schedule s = sample();
    row.edit(s);
    auto p = schedule_problem(s);
    INFO(row.expect);
    REQUIRE(p);
    CHECK(has(*p, row.expect));
  }
  CHECK_FALSE(schedule_problem(sample()));
  CHECK(unit_base_name("a+b") == "evos-backup-a\\x2bb");
}
