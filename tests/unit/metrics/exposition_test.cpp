#include <evos/metrics/exposition.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using namespace evos::metrics;

TEST_CASE("exposition: HELP and TYPE lines then one line per sample") {
  Family f{"evos_vm_cpu_seconds_total", "CPU time", Type::counter, {}};
  f.add({{"vm", "web1"}, {"node", "alpha"}}, 12.5);
  f.add({{"vm", "db"}, {"node", "alpha"}}, 3);
  auto text = write_text({f});
  REQUIRE(text);
  CHECK(*text ==
        "# HELP evos_vm_cpu_seconds_total CPU time\n"
        "# TYPE evos_vm_cpu_seconds_total counter\n"
        "evos_vm_cpu_seconds_total{vm=\"web1\",node=\"alpha\"} 12.5\n"
        "evos_vm_cpu_seconds_total{vm=\"db\",node=\"alpha\"} 3\n");
}

TEST_CASE("exposition: label values and help are escaped as the format says") {
  CHECK(escape_label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
  CHECK(escape_help("one\\two\nthree \"q\"") == "one\\\\two\\nthree \"q\"");
  Family f{"evos_x", "x", Type::gauge, {}};
  f.add({{"vm", "we\"ird\\name\n"}}, 1);
  auto text = write_text({f});
  REQUIRE(text);
  auto back = parse_text(*text);
  REQUIRE(back);
  REQUIRE(back->size() == 1);
  CHECK((*back)[0].labels[0].second == "we\"ird\\name\n");
}

TEST_CASE("exposition: values print as Prometheus reads them") {
  CHECK(format_value(0) == "0");
  CHECK(format_value(1e15) == "1000000000000000");
  CHECK(format_value(0.25) == "0.25");
  CHECK(format_value(std::nan("")) == "NaN");
  CHECK(format_value(HUGE_VAL) == "+Inf");
  CHECK(format_value(-HUGE_VAL) == "-Inf");
}

TEST_CASE("exposition: names that break the conventions are refused") {
  CHECK(name_problem("evos_vm_cpu_seconds_total", Type::counter) == std::nullopt);
  CHECK(name_problem("vm_cpu_seconds_total", Type::counter));      // no evos_ prefix
  CHECK(name_problem("evos_vm_reads", Type::counter));             // counter without _total
  CHECK(name_problem("evos_vm_things_total", Type::gauge));        // gauge with _total
  CHECK(name_problem("evos_vm-state", Type::gauge));               // '-'
  CHECK(name_problem("evos:vm", Type::gauge));                     // ':' is for recording rules
  CHECK(name_problem("", Type::gauge));
  CHECK(label_name_problem("vm") == std::nullopt);
  CHECK(label_name_problem("__name"));
  CHECK(label_name_problem("1vm"));
  CHECK(label_name_problem("v m"));

  Family bad{"evos_x", "x", Type::gauge, {}};
  bad.add({{"bad label", "v"}}, 1);
  auto r = write_text({bad});
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == evos::Errc::invalid_argument);
  CHECK(r.error().message().find("bad label") != std::string::npos);
}

TEST_CASE("exposition: a family twice or two samples with the same labels are refused") {
  Family a{"evos_a", "a", Type::gauge, {}};
  a.add({{"x", "1"}}, 1);
  CHECK_FALSE(write_text({a, a}));
  Family dup{"evos_b", "b", Type::gauge, {}};
  dup.add({{"x", "1"}, {"y", "2"}}, 1);
  dup.add({{"y", "2"}, {"x", "1"}}, 2);  // the same set in another order
  auto r = write_text({dup});
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("evos_b") != std::string::npos);
  Family twice{"evos_c", "c", Type::gauge, {}};
  twice.add({{"x", "1"}, {"x", "2"}}, 1);
  CHECK_FALSE(write_text({twice}));
}

TEST_CASE("exposition: a family without samples writes nothing") {
  Family empty{"evos_empty", "nothing", Type::gauge, {}};
  auto r = write_text({empty});
  REQUIRE(r);
  CHECK(r->empty());
}

TEST_CASE("exposition parser: malformed lines are named") {
  CHECK_FALSE(parse_text("evos_x{a=\"1\" 1\n"));
  CHECK_FALSE(parse_text("evos_x{a=1} 1\n"));
  CHECK_FALSE(parse_text("evos_x one\n"));
  CHECK_FALSE(parse_text("{a=\"1\"} 1\n"));
  auto r = parse_text("# HELP x\n\nevos_x 1\nevos_y notanumber\n");
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("line 4") != std::string::npos);
  auto ok = parse_text("evos_x{a=\"1\",b=\"2\"} 7 1700000000000\n");
  REQUIRE(ok);
  CHECK((*ok)[0].value == 7);
  CHECK((*ok)[0].labels.size() == 2);
}
