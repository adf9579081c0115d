#include <evos/stats/history.hpp>
#include <evos/stats/sampler.hpp>

#include <catch2/catch.hpp>

#include <thread>

using namespace evos::stats;
using evos::metrics::Family;
using evos::metrics::Type;

TEST_CASE("history tiers: a day at 10 s, a week at 1 min, a month at 30 min") {
  const auto t = default_tiers();
  REQUIRE(t.size() == 3);
  CHECK(t[0].step_s == 10);
  CHECK(t[0].keep_s >= 86400);
  CHECK(t[1].step_s == 60);
  CHECK(t[2].keep_s >= 31 * 86400);
  CHECK(tier_for(3600, t) == 0);
  CHECK(tier_for(2 * 86400, t) == 1);
  CHECK(tier_for(20 * 86400, t) == 2);
  CHECK(tier_for(400 * 86400, t) == 2);
}

TEST_CASE("history: buckets close as samples cross their boundaries") {
  CHECK(bucket_start(125, 60) == 120);
  CHECK(bucket_start(120, 60) == 120);
  CHECK(bucket_start(-5, 60) == -60);
  const auto t = default_tiers();
  CHECK(closed_buckets(100, 110, t).empty());
  auto minute = closed_buckets(110, 120, t);  // 60..120 of tier 1 closed
  REQUIRE(minute.size() == 1);
  CHECK(minute[0].tier == 1);
  CHECK(minute[0].start == 60);
  auto half_hour = closed_buckets(1790, 1800, t);
  REQUIRE(half_hour.size() == 2);
  CHECK(half_hour[1].tier == 2);
  CHECK(half_hour[1].start == 0);
  // After a gap (the daemon was stopped) every bucket in between closed, but none older than
  // the tier below still holds.
  auto gap = closed_buckets(0, 600, t);
  CHECK(gap.size() == 10);
  auto long_gap = closed_buckets(0, 10 * 86400, t);
  for (const auto& r : long_gap)
    if (r.tier == 1) CHECK(r.start >= 10 * 86400 - 86400 - 60);
  CHECK(closed_buckets(100, 100, t).empty());
  CHECK(closed_buckets(100, 50, t).empty());
}

TEST_CASE("history: gauges consolidate to the mean and counters to the last value") {
  const double v[] = {1, 2, 6};
  CHECK(consolidate(Type::gauge, v) == 3);
  CHECK(consolidate(Type::counter, v) == 6);
}

TEST_CASE("history: series keys sort labels and survive the label string") {
  const auto k = series_key("evos_vm_cpu_seconds_total", {{"vm", "a\"b"}, {"node", "alpha"}});
  CHECK(k.labels[0].first == "node");
  CHECK(format_series(k) == "evos_vm_cpu_seconds_total{node=\"alpha\",vm=\"a\\\"b\"}");
  auto back = parse_labels(format_labels(k.labels));
  REQUIRE(back);
  CHECK(*back == k.labels);
  CHECK(parse_labels("").value().empty());
  auto bad = parse_labels("vm=\"unterminated");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code() == evos::Errc::invalid_config);
}

TEST_CASE("stats scopes: node, one VM, one mirror") {
  const auto vm = series_key("evos_vm_memory_rss_bytes", {{"vm", "web1"}, {"node", "alpha"}});
  const auto mirror = series_key("evos_mirror_out_of_sync_bytes", {{"mirror", "r0"}});
  const auto node = series_key("evos_corosync_quorate", {});
  CHECK(in_scope(vm, {Scope::Kind::vm, "web1"}));
  CHECK_FALSE(in_scope(vm, {Scope::Kind::vm, "web2"}));
  CHECK_FALSE(in_scope(vm, {Scope::Kind::node, ""}));
  CHECK(in_scope(mirror, {Scope::Kind::mirror, "r0"}));
  CHECK(in_scope(node, {Scope::Kind::node, ""}));
  CHECK_FALSE(in_scope(node, {Scope::Kind::mirror, "r0"}));
}

TEST_CASE("stats --since takes s m h d") {
  CHECK(parse_since("90s").value() == 90);
  CHECK(parse_since("30m").value() == 1800);
  CHECK(parse_since("1h").value() == 3600);
  CHECK(parse_since("7d").value() == 7 * 86400);
  for (const char* bad : {"", "h", "1", "0h", "-1h", "1w", "1.5h", "1h2", "999999d"}) {
    auto r = parse_since(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == evos::Errc::invalid_argument);
  }
}

TEST_CASE("stats: counter rates skip resets; sparklines span min to max") {
  const std::vector<Point> p = {{0, 100}, {10, 200}, {20, 50}, {30, 150}};
  const auto r = per_second(p);
  REQUIRE(r.size() == 2);
  CHECK(r[0].value == 10);
  CHECK(r[1].t == 30);
  const double v[] = {0, 1, 2, 3, 4, 5, 6, 7};
  CHECK(sparkline(v, 8) == "▁▂▃▄▅▆▇█");
  CHECK(sparkline(v, 4) == "▁▃▆█");
  const double flat[] = {5, 5, 5};
  CHECK(sparkline(flat, 10) == "▁▁▁");
  CHECK(sparkline({}, 10).empty());
}

TEST_CASE("history keeps the families docs/metrics.md lists and no state-sets") {
  CHECK(recorded(Family{"evos_vm_cpu_seconds_total", "", Type::counter, {}}));
  CHECK(recorded(Family{"evos_testip_rtt_seconds", "", Type::gauge, {}}));
  CHECK_FALSE(recorded(Family{"evos_vm_state", "", Type::gauge, {}}));
  CHECK_FALSE(recorded(Family{"evos_vm_info", "", Type::gauge, {}}));
}

namespace {

struct FakeSink final : SampleSink {
  std::vector<std::pair<std::int64_t, std::vector<Family>>> rounds;
  bool fail = false;
  evos::Result<void> record(std::int64_t t, const std::vector<Family>& f) override {
    if (fail) return evos::Error(evos::Errc::invalid_config, "history database x is damaged");
    rounds.push_back({t, f});
    return {};
  }
};

}  // namespace

TEST_CASE("sampler: one round writes the recorded families only") {
  FakeSink sink;
  Family rss{"evos_vm_memory_rss_bytes", "", Type::gauge, {}};
  rss.add({{"vm", "a"}}, 5);
  Family state{"evos_vm_state", "", Type::gauge, {}};
  state.add({{"vm", "a"}, {"state", "running"}}, 1);
  Sampler s([&] { return std::vector<Family>{rss, state}; }, sink, nullptr);
  REQUIRE(s.sample_once(1000));
  REQUIRE(sink.rounds.size() == 1);
  CHECK(sink.rounds[0].first == 1000);
  REQUIRE(sink.rounds[0].second.size() == 1);
  CHECK(sink.rounds[0].second[0].name == "evos_vm_memory_rss_bytes");
}

TEST_CASE("sampler: a failing store or collector is an error, never an exception") {
  FakeSink sink;
  sink.fail = true;
  Sampler s([] { return std::vector<Family>{}; }, sink, nullptr);
  auto r = s.sample_once(10);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("damaged") != std::string::npos);
  Sampler thrower([]() -> std::vector<Family> { throw std::runtime_error("collector broke"); }, sink, nullptr);
  auto t = thrower.sample_once(20);
  REQUIRE_FALSE(t);
  CHECK(t.error().message().find("collector broke") != std::string::npos);
  CHECK(thrower.failures() == 1);
  CHECK(thrower.rounds() == 1);
}

TEST_CASE("stats words: node, vm NAME, mirror NAME") {
  CHECK(parse_scope({}).value().kind == Scope::Kind::node);
  CHECK(parse_scope({"node"}).value().kind == Scope::Kind::node);
  auto vm = parse_scope({"vm", "web1"});
  REQUIRE(vm);
  CHECK(vm->kind == Scope::Kind::vm);
  CHECK(vm->name == "web1");
  CHECK(parse_scope({"mirror", "r0"}).value().kind == Scope::Kind::mirror);
  for (const auto& bad : std::vector<std::vector<std::string>>{{"vm"}, {"vm", "a", "b"}, {"disk", "x"}, {"node", "alpha"}, {"mirror", ""}}) {
    auto r = parse_scope(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == evos::Errc::invalid_argument);
  }
}

TEST_CASE("stats table: counters as rates, plain without sparkline") {
  std::vector<SeriesView> v(2);
  v[0].key = series_key("evos_vm_cpu_seconds_total", {{"vm", "a"}});
  v[0].type = Type::counter;
  v[0].points = {{0, 10}, {10, 30}, {20, 40}};
  v[1].key = series_key("evos_vm_memory_rss_bytes", {{"vm", "a"}});
  v[1].points = {{0, 100}, {10, 300}};
  const std::string plain = render_table(v, false);
  CHECK(plain.find("evos_vm_cpu_seconds_total{vm=\"a\"} /s\t1\t1\t2\t2\n") != std::string::npos);
  CHECK(plain.find("evos_vm_memory_rss_bytes{vm=\"a\"}\t300\t100\t300\t2\n") != std::string::npos);
  CHECK(plain.find("▁") == std::string::npos);
  const std::string tty = render_table(v, true);
  CHECK(tty.find("SERIES") != std::string::npos);
  CHECK(tty.find("▁█") != std::string::npos);
}

TEST_CASE("sampler: run returns once stopped") {
  FakeSink sink;
  Sampler s([] { return std::vector<Family>{}; }, sink, nullptr, 3600);
  s.stop();  // before run: run must see it and return at once, not after an hour's period
  std::thread t([&] { s.run(); });
  t.join();
  CHECK(s.rounds() == 0);
}
