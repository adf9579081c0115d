// The metrics exporter on loopback (a taken port, malformed requests, clients that never read or
// never finish), the SQLite history (tiers, bounds, damaged files), promtool on a real
// exposition, and `evosctl stats --json` agreeing with /metrics. Loopback and temporary files
// only.
#include <evos/backup/schedule.hpp>
#include <evos/backup/store.hpp>
#include <evos/backup/verify.hpp>
#include <evos/deadline.hpp>
#include <evos/drbd/events2_parser.hpp>
#include <evos/drbd/state.hpp>
#include <evos/metrics/http_exporter.hpp>
#include <evos/metrics/sources.hpp>
#include <evos/proc/run.hpp>
#include <evos/stats/history_db.hpp>
#include <evos/stats/sampler.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "temp_dir.hpp"

using namespace evos;
using namespace evos::metrics;
namespace fs = std::filesystem;

namespace {

// A connected loopback socket, closed when it goes; reads give up after 20 s (a hung server
// fails the test instead of hanging it).
struct Client {
  int fd = -1;
  explicit Client(std::uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{20, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~Client() { ::close(fd); }
  void send(const std::string& s) const { REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size())); }
  std::string read_all() const {
    std::string out;
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
};

std::string get(std::uint16_t port, const std::string& path, const std::string& method = "GET") {
  Client c(port);
  c.send(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  return c.read_all();
}

std::string body(const std::string& response) {
  const auto p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

using evos::test::TempDir;

Family gauge(const std::string& name, Labels labels, double v) {
  Family f{name, "test", Type::gauge, {}};
  f.add(std::move(labels), v);
  return f;
}

// Facts as a node with two VMs, a mirror, a cluster, backups and test IPs reports them.
std::vector<Family> sample_facts() {
  DomainStats web;
  web.name = "web1";
  web.state = 1;
  web.cpu_time_ns = 12'345'000'000;
  web.balloon_current_kib = 1 << 20;
  web.balloon_maximum_kib = 2 << 20;
  web.rss_kib = 700'000;
  web.blocks = {{"vda", 1000, 2000, 10, 20}, {"vdb", 5, 6, 1, 1}};
  web.interfaces = {{"vnet0", 300, 400, 3, 4, 0, 0, 1, 0}};
  DomainStats off;
  off.name = "cold \"one\"";
  off.state = 5;
  std::vector<Family> out = vm_families({web, off}, "alpha", {"web1"});
  cluster::PacemakerStatus pm;
  pm.dc = "alpha";
  pm.quorate = true;
  pm.nodes = {{.name = "alpha", .online = true, .is_dc = true}, {.name = "beta", .online = true, .standby = true}};
  pm.resources = {{.id = "vm-web1", .agent = "ocf:evos:vm", .role = "Started", .active = true, .nodes = {"alpha"}}};
  pm.failures = {{"vm-web1_monitor_10000", "beta", 7, ""}};
  for (auto& f : pacemaker_families(pm)) out.push_back(std::move(f));
  cluster::Membership m;
  m.quorate = true;
  m.nodes = {{1, "alpha", true}, {2, "beta", true}};
  for (auto& f : corosync_families(m)) out.push_back(std::move(f));
  drbd::ResourceState r;
  r.name = "r0";
  r.role = drbd::Role::primary;
  r.devices = {{.volume = 0, .disk = drbd::DiskState::up_to_date}};
  drbd::ConnectionState c;
  c.name = "beta";
  c.state = drbd::ConnState::connected;
  c.peer_devices = {{.volume = 0, .replication = drbd::ReplState::sync_source, .peer_disk = drbd::DiskState::inconsistent,
                     .done_percent = 12.5, .out_of_sync_kib = 64, .sent_kib = 100, .received_kib = 1}};
  r.connections = {c};
  for (auto& f : mirror_families({r})) out.push_back(std::move(f));
  VmBackupFacts b;
  b.vm = "web1";
  b.scheduled = true;
  b.last_backup_unix_ms = 1'700'000'000'000;
  b.last_duration_ms = 2000;
  b.last_bytes_read = 1;
  b.last_bytes_stored = 1;
  b.last_verify_ok = true;
  for (auto& f : backup_families({b, VmBackupFacts{.vm = "cold \"one\""}}, 1'700'000'360'000)) out.push_back(std::move(f));
  auto detail = net::parse_detail("1 1718000000 2000 198.18.1.254,198.18.1.254,ok,1,1,1,85,85 gw,198.18.2.1,lost,1,3,0,-,-");
  REQUIRE(detail);
  for (auto& f : testip_families({{"testip", *detail}}, "alpha")) out.push_back(std::move(f));
  return out;
}

}  // namespace

TEST_CASE("exporter: /metrics, other paths and methods over loopback") {
  auto ex = HttpExporter::start({.address = "127.0.0.1", .port = 0}, [] { return write_text({gauge("evos_a", {}, 1)}); });
  REQUIRE(ex);
  const auto port = (*ex)->port();
  CHECK(port != 0);
  const auto ok = get(port, "/metrics");
  CHECK(ok.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(ok.find("text/plain; version=0.0.4") != std::string::npos);
  CHECK(body(ok) == "# HELP evos_a test\n# TYPE evos_a gauge\nevos_a 1\n");
  CHECK(get(port, "/other").rfind("HTTP/1.1 404", 0) == 0);
  CHECK(get(port, "/metrics", "DELETE").rfind("HTTP/1.1 405", 0) == 0);
}

TEST_CASE("exporter: a render error is a 500 with its message") {
  auto ex = HttpExporter::start({.address = "127.0.0.1", .port = 0},
                                [] { return write_text({gauge("not_evos", {}, 1)}); });
  REQUIRE(ex);
  const auto r = get((*ex)->port(), "/metrics");
  CHECK(r.rfind("HTTP/1.1 500", 0) == 0);
  CHECK(body(r).find("not_evos") != std::string::npos);
}

TEST_CASE("exporter: a port already taken is a clear error") {
  auto first = HttpExporter::start({.address = "127.0.0.1", .port = 0}, [] { return std::string(); });
  REQUIRE(first);
  const auto port = (*first)->port();
  auto second = HttpExporter::start({.address = "127.0.0.1", .port = port}, [] { return std::string(); });
  REQUIRE_FALSE(second);
  CHECK(second.error().message() == fmt::format("metrics listener 127.0.0.1:{}: the port is in use by another program", port));
}

TEST_CASE("exporter: listen addresses") {
  auto a = parse_listen_address("127.0.0.1:9764");
  REQUIRE(a);
  CHECK(a->address == "127.0.0.1");
  CHECK(a->port == 9764);
  auto six = parse_listen_address("[::1]:9100");
  REQUIRE(six);
  CHECK(six->address == "::1");
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "localhost:9764", "[::1:9764", "1.2.3.4:9x"}) {
    auto r = parse_listen_address(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::invalid_argument);
  }
  auto start = HttpExporter::start({.address = "999.1.1.1", .port = 0}, [] { return std::string(); });
  REQUIRE_FALSE(start);
  CHECK(start.error().code() == Errc::invalid_argument);
}

TEST_CASE("exporter: a malformed request gets an error and the exporter keeps serving") {
  auto ex = HttpExporter::start({.address = "127.0.0.1", .port = 0}, [] { return write_text({gauge("evos_a", {}, 1)}); });
  REQUIRE(ex);
  const auto port = (*ex)->port();
  {
    Client c(port);
    c.send("GARBAGE\r\n\r\n");
    const auto r = c.read_all();
    CHECK((r.empty() || r.rfind("HTTP/1.1 400", 0) == 0));
  }
  {
    Client c(port);
    c.send(std::string("GET /metrics HTTP/1.1\r\nHost: x\r\n") + std::string(100000, 'X') + ": y\r\n\r\n");
    const auto r = c.read_all();
    CHECK(r.rfind("HTTP/1.1 200", 0) != 0);
  }
  CHECK(get(port, "/metrics").rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("exporter: clients that never read or never finish do not block others") {
  // 8 MiB: more than the socket buffers hold, so the server's thread for the first client stays
  // blocked in its write until that client's timeout.
  const std::string big = [] {
    Family f{"evos_big", "big", Type::gauge, {}};
    for (int i = 0; i < 300000; ++i) f.add({{"i", std::to_string(i)}}, i);
    return write_text({f}).value();
  }();
  REQUIRE(big.size() > (4u << 20));
  auto ex = HttpExporter::start({.address = "127.0.0.1", .port = 0}, [&big] { return big; });
  REQUIRE(ex);
  const auto port = (*ex)->port();
  Client never_reads(port);
  never_reads.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  Client half(port);
  half.send("GET /metr");
  const auto r = get(port, "/metrics");
  CHECK(r.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(body(r) == big);
}

TEST_CASE("promtool check metrics accepts the exposition") {
  auto fams = sample_facts();
  fams.push_back(scrape_families({{"libvirt", true}, {"drbd", false}}));
  auto text = write_text(fams);
  REQUIRE(text);
  auto r = proc::run({"promtool", "check", "metrics"}, Deadline::after(Millis(30000)), {.stdin_data = *text});
  REQUIRE(r);  // promtool comes with Debian's prometheus package (scripts/install-deps.sh)
  INFO(r->out << r->err);
  CHECK(r->exit_code == 0);
  CHECK(r->out.empty());
  CHECK(r->err.empty());
  // And promtool does find problems: a counter without _total, which write_text refuses.
  auto bad = proc::run({"promtool", "check", "metrics"}, Deadline::after(Millis(30000)),
                       {.stdin_data = "# HELP evos_reads reads\n# TYPE evos_reads counter\nevos_reads 1\n"});
  REQUIRE(bad);
  CHECK(bad->exit_code != 0);
}

TEST_CASE("docs/metrics.md lists every metric the collectors write") {
  std::ifstream in(std::string(EVOS_SOURCE_DIR) + "/docs/metrics.md");
  REQUIRE(in);
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto fams = sample_facts();
  fams.push_back(gauge("evos_build_info", {}, 1));
  fams.push_back(scrape_families({{"libvirt", true}}));
  for (const auto& f : fams) {
    INFO(f.name);
    CHECK(doc.find("| `" + f.name + "` | " + std::string(to_string(f.type)) + " |") != std::string::npos);
  }
}

TEST_CASE("a scrape on a node without a cluster says what it can") {
  TempDir dir("evos-metrics-test");
  SourceOptions o;
  o.libvirt_uri = "test:///default";
  o.node = "alpha";
  o.unit_dir = (dir.path() / "units").string();
  o.ping_state_dir = (dir.path() / "ping").string();
  fs::create_directories(o.unit_dir);
  Scraper scraper(standard_sources(o), Millis(3000));
  auto fams = scraper.scrape();
  auto text = write_text(fams);
  REQUIRE(text);
  CHECK(text->find("evos_scrape_source_up{source=\"libvirt\"} 1\n") != std::string::npos);
  CHECK(text->find("evos_scrape_source_up{source=\"testip\"} 1\n") != std::string::npos);
  CHECK(text->find("evos_scrape_source_up{source=\"backup\"} 1\n") != std::string::npos);
  CHECK(text->find("evos_vm_state{vm=\"test\",node=\"alpha\",state=\"running\"} 1\n") != std::string::npos);
  // The test driver's VM has no backup schedule.
  CHECK(text->find("evos_backup_scheduled{vm=\"test\"} 0\n") != std::string::npos);
}

TEST_CASE("the backup source exports what the last verify recorded in the store") {
  TempDir dir("evos-metrics-test");
  SourceOptions o;
  o.libvirt_uri = "test:///default";
  o.node = "alpha";
  o.unit_dir = (dir.path() / "units").string();
  o.ping_state_dir = (dir.path() / "ping").string();
  o.backup_ttl = Millis(0);
  fs::create_directories(o.unit_dir);
  const std::string store_dir = (dir.path() / "store").string();
  REQUIRE(backup::Store::init(store_dir, backup::StoreConfig{}));
  backup::Schedule sch;
  sch.vm = "test";
  sch.store = store_dir;
  sch.calendar = "daily";
  const auto units = backup::make_schedule_units(sch, "/usr/sbin/evosctl");
  std::ofstream(fs::path(o.unit_dir) / units.timer_name) << units.timer;
  std::ofstream(fs::path(o.unit_dir) / units.service_name) << units.service;
  Scraper scraper(standard_sources(o), Millis(3000));
  auto scrape_text = [&] {
    auto text = write_text(scraper.scrape());
    REQUIRE(text);
    return *text;
  };
  auto text = scrape_text();
  CHECK(text.find("evos_backup_scheduled{vm=\"test\"} 1\n") != std::string::npos);
  CHECK(text.find("evos_backup_last_verify_ok{") == std::string::npos);  // never verified: absent
  auto store = backup::Store::open(store_dir, std::nullopt);
  REQUIRE(store);
  REQUIRE(backup::write_verify_records(*store, {{"test", "20261207T120000.000Z", false, 2, {"test/20261206T120000.000Z"}}}));
  text = scrape_text();
  CHECK(text.find("evos_backup_last_verify_ok{vm=\"test\"} 0\n") != std::string::npos);
  REQUIRE(backup::write_verify_records(*store, {{"test", "20261207T130000.000Z", true, 2, {}}}));
  auto back = backup::read_verify_record(*store, "test");
  REQUIRE(back);
  REQUIRE(*back);
  CHECK((*back)->ok);
  text = scrape_text();
  CHECK(text.find("evos_backup_last_verify_ok{vm=\"test\"} 1\n") != std::string::npos);
}

TEST_CASE("history: rounds, consolidation into coarser tiers and expiry") {
  TempDir dir("evos-metrics-test");
  const std::string path = (dir.path() / "h.db").string();
  const std::vector<stats::Tier> tiers = {{10, 60}, {60, 600}};
  auto db = stats::HistoryDb::open(path, stats::HistoryDb::Mode::read_write, tiers);
  REQUIRE(db);
  const std::int64_t t0 = 1'700'000'400;  // a multiple of 60
  for (int i = 0; i <= 13; ++i) {
    Family g{"evos_vm_memory_rss_bytes", "", Type::gauge, {}};
    g.add({{"vm", "a"}}, i);
    Family c{"evos_vm_cpu_seconds_total", "", Type::counter, {}};
    c.add({{"vm", "a"}}, 100 + i);
    REQUIRE(db->record(t0 + 10 * i, {g, c}));
  }
  auto series = db->series();
  REQUIRE(series);
  REQUIRE(series->size() == 2);
  auto coarse = db->points(1, 0);
  REQUIRE(coarse);
  std::map<std::pair<std::int64_t, std::int64_t>, double> v;
  for (const auto& [id, p] : *coarse) v[{id, p.t}] = p.value;
  const auto gauge_id = (*series)[0].key.name == "evos_vm_memory_rss_bytes" ? (*series)[0].id : (*series)[1].id;
  const auto counter_id = gauge_id == (*series)[0].id ? (*series)[1].id : (*series)[0].id;
  CHECK(v.at({gauge_id, t0}) == Approx(2.5));     // mean of 0..5
  CHECK(v.at({gauge_id, t0 + 60}) == Approx(8.5));  // mean of 6..11
  CHECK(v.at({counter_id, t0}) == 105);          // the last of 100..105
  CHECK(v.size() == 4);
  // Tier 0 keeps 60 s: the oldest points are gone.
  auto fine = db->points(0, 0);
  REQUIRE(fine);
  for (const auto& [id, p] : *fine) CHECK(p.t >= t0 + 130 - 60);
  CHECK(db->last_time().value() == t0 + 130);
  // A round not after the last one is refused, and nothing of it is written.
  CHECK_FALSE(db->record(t0 + 130, {}));
  CHECK(db->last_time().value() == t0 + 130);
}

TEST_CASE("history: series beyond the bound are not recorded") {
  TempDir dir("evos-metrics-test");
  auto db = stats::HistoryDb::open((dir.path() / "h.db").string(), stats::HistoryDb::Mode::read_write, stats::default_tiers(), 1);
  REQUIRE(db);
  Family g{"evos_vm_memory_rss_bytes", "", Type::gauge, {}};
  g.add({{"vm", "a"}}, 1);
  g.add({{"vm", "b"}}, 2);
  REQUIRE(db->record(1000, {g}));
  CHECK(db->series().value().size() == 1);
  CHECK(db->series_dropped() == 1);
}

TEST_CASE("history: missing, damaged and foreign files are named") {
  TempDir dir("evos-metrics-test");
  const std::string missing = (dir.path() / "none.db").string();
  auto m = stats::HistoryDb::open(missing, stats::HistoryDb::Mode::read_only);
  REQUIRE_FALSE(m);
  CHECK(m.error().code() == Errc::not_found);
  CHECK(m.error().message().find("no history at " + missing) != std::string::npos);

  const std::string garbage = (dir.path() / "garbage.db").string();
  std::ofstream(garbage) << std::string(8192, 'x');
  for (auto mode : {stats::HistoryDb::Mode::read_only, stats::HistoryDb::Mode::read_write}) {
    auto g = stats::HistoryDb::open(garbage, mode);
    REQUIRE_FALSE(g);
    CHECK(g.error().code() == Errc::invalid_config);
    CHECK(g.error().message().find(garbage) != std::string::npos);
    CHECK(g.error().message().find("not a database") != std::string::npos);
  }

  const std::string foreign = (dir.path() / "foreign.db").string();
  REQUIRE(proc::run({"python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table meta(key text, value text)'); c.commit()", foreign},
                    Deadline::after(Millis(30000)))->ok());
  auto f = stats::HistoryDb::open(foreign, stats::HistoryDb::Mode::read_only);
  REQUIRE_FALSE(f);
  CHECK(f.error().message().find("is not an evos history") != std::string::npos);
}

TEST_CASE("history: a file damaged under the sampler gives errors, not a crash") {
  TempDir dir("evos-metrics-test");
  const std::string path = (dir.path() / "h.db").string();
  auto db = stats::HistoryDb::open(path, stats::HistoryDb::Mode::read_write);
  REQUIRE(db);
  std::vector<Error> errors;
  stats::Sampler sampler([] { return std::vector<Family>{gauge("evos_vms", {{"node", "a"}}, 1)}; }, *db,
                         [&](const Error& e) { errors.push_back(e); });
  REQUIRE(sampler.sample_once(1000));
  {
    // Overwrite the whole file (and its WAL) with garbage, as a bad disk would.
    for (const auto& p : {path, path + "-wal", path + "-shm"})
      if (fs::exists(p)) std::ofstream(p, std::ios::trunc) << std::string(65536, '\xff');
  }
  auto r = sampler.sample_once(1010);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find(path) != std::string::npos);
  CHECK(sampler.failures() == 1);
}

TEST_CASE("evosctl stats --json agrees with /metrics") {
  TempDir dir("evos-metrics-test");
  const std::string path = (dir.path() / "history.db").string();
  auto db = stats::HistoryDb::open(path, stats::HistoryDb::Mode::read_write);
  REQUIRE(db);
  // One scrape feeds both: what /metrics served and the round the sampler recorded.
  // (The libvirt source on the test driver is in libvirt-test-driver/ and the scrape test above;
  // here the facts of a whole node, the VMs with disks and NICs the test driver does not report.)
  Scraper scraper({daemon_source("facts", [] { return sample_facts(); })}, Millis(5000));
  std::mutex m;
  std::string served;
  auto ex = HttpExporter::start({.address = "127.0.0.1", .port = 0}, [&]() -> Result<std::string> {
    std::lock_guard lock(m);
    const auto fams = scraper.scrape();
    auto text = write_text(fams);
    if (!text) return text;
    stats::Sampler once([&fams] { return fams; }, *db, nullptr);
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (auto r = once.sample_once(now); !r) return std::move(r).error();
    served = *text;
    return text;
  });
  REQUIRE(ex);
  const auto response = body(get((*ex)->port(), "/metrics"));
  REQUIRE_FALSE(response.empty());
  auto parsed = parse_text(response);
  INFO((parsed ? std::string() : parsed.error().message()));
  REQUIRE(parsed);
  std::map<stats::SeriesKey, double> exposed;
  for (const auto& s : *parsed) exposed[stats::series_key(s.name, s.labels)] = s.value;

  std::size_t compared = 0;
  for (const std::vector<std::string>& scope : {std::vector<std::string>{"vm", "web1"}, {"mirror", "r0"}, {"node"}}) {
    std::vector<std::string> argv = {EVOS_EVOSCTL, "stats"};
    argv.insert(argv.end(), scope.begin(), scope.end());
    for (const char* a : {"--json", "--db"}) argv.push_back(a);
    argv.push_back(path);
    auto r = proc::run(argv, Deadline::after(Millis(30000)));
    REQUIRE(r);
    INFO(r->err);
    REQUIRE(r->exit_code == 0);
    const auto j = nlohmann::json::parse(r->out);
    REQUIRE(j["series"].size() > 0);
    for (const auto& s : j["series"]) {
      metrics::Labels labels;
      for (const auto& [k, v] : s["labels"].items()) labels.emplace_back(k, v.get<std::string>());
      const auto key = stats::series_key(s["name"].get<std::string>(), labels);
      INFO(stats::format_series(key));
      REQUIRE(exposed.count(key) == 1);
      CHECK(s["current"].get<double>() == exposed[key]);
      ++compared;
    }
  }
  CHECK(compared >= 15);
}

TEST_CASE("evosctl stats: no history, a damaged file and bad arguments") {
  TempDir dir("evos-metrics-test");
  auto run = [](std::vector<std::string> args) {
    args.insert(args.begin(), {EVOS_EVOSCTL, "stats"});
    auto r = proc::run(args, Deadline::after(Millis(30000)));
    REQUIRE(r);
    return *r;
  };
  const std::string missing = (dir.path() / "none.db").string();
  auto none = run({"--db", missing});
  CHECK(none.exit_code == 3);
  CHECK(none.err.find("no history at " + missing) != std::string::npos);
  const std::string garbage = (dir.path() / "garbage.db").string();
  std::ofstream(garbage) << std::string(8192, 'x');
  auto damaged = run({"--db", garbage});
  CHECK(damaged.exit_code == 2);
  CHECK(damaged.err.find("not a database") != std::string::npos);
  CHECK(run({"vm", "--db", missing}).exit_code == 2);
  auto since = run({"--since", "1y", "--db", missing});
  CHECK(since.exit_code == 2);
  CHECK(since.err.find("--since") != std::string::npos);
  CHECK(run({"disk", "x", "--db", missing}).exit_code == 2);
  // A real history without the VM asked for.
  const std::string path = (dir.path() / "h.db").string();
  {
    auto db = stats::HistoryDb::open(path, stats::HistoryDb::Mode::read_write);
    REQUIRE(db);
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    REQUIRE(db->record(now, {gauge("evos_vm_memory_rss_bytes", {{"vm", "a"}}, 1)}));
  }
  auto other = run({"vm", "b", "--db", path});
  CHECK(other.exit_code == 3);
  CHECK(other.err.find("VM 'b'") != std::string::npos);
  auto plain = run({"vm", "a", "--db", path});
  CHECK(plain.exit_code == 0);
  CHECK(plain.out == "series\tcurrent\tmin\tmax\tpoints\nevos_vm_memory_rss_bytes{vm=\"a\"}\t1\t1\t1\t1\n");
}

TEST_CASE("the drbd source reads followed mirrors and polls drbdsetup when they are not current") {
  // A drbdsetup that does not exist: any poll fails, so a result proves the followed state was used.
  const std::string none = "/nonexistent/evos-test/drbdsetup";
  auto state = [](drbd::ReplState repl) {
    auto events = drbd::parse_events2(
        "exists resource name:r0 role:Primary\n"
        "exists connection name:r0 peer-node-id:1 conn-name:beta connection:Connected role:Secondary\n"
        "exists device name:r0 volume:0 minor:1 disk:UpToDate quorum:yes\n"
        "exists peer-device name:r0 peer-node-id:1 conn-name:beta volume:0 replication:" +
        std::string(drbd::to_string(repl)) + " peer-disk:UpToDate\n");
    REQUIRE(events);
    return std::vector<drbd::ResourceState>{drbd::state_from_events("r0", *events)};
  };
  std::optional<std::vector<drbd::ResourceState>> followed = state(drbd::ReplState::established);
  auto source = mirror_source(none, [&] { return followed; });
  auto fams = source.read(Deadline::after(Millis(5000)));
  REQUIRE(fams);
  auto text = write_text(*fams);
  REQUIRE(text);
  CHECK(text->find("evos_mirror_role{mirror=\"r0\",role=\"Primary\"} 1\n") != std::string::npos);
  // Not current: the poll runs (and fails here).
  followed.reset();
  auto polled = source.read(Deadline::after(Millis(5000)));
  REQUIRE_FALSE(polled);
  CHECK_THAT(polled.error().message(), Catch::Contains(none));
  // A resync runs: its progress is not notified, so the poll runs too.
  followed = state(drbd::ReplState::sync_source);
  CHECK_FALSE(source.read(Deadline::after(Millis(5000))));
}
