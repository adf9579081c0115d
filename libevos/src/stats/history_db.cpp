#include <evos/stats/history_db.hpp>

#include <sqlite3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <map>

namespace evos::stats {

namespace {

constexpr char format_name[] = "evos-history";
constexpr char format_version[] = "1";
// A writer holds the lock for one round's transaction (milliseconds); a reader waiting longer
// than this has met a hung writer and says so instead of blocking.
constexpr int busy_timeout_ms = 2000;

struct StmtCloser {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtCloser>;

Error sql_error(sqlite3* db, std::string_view doing) {
  const int code = sqlite3_errcode(db);
  const Errc errc = (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) ? Errc::invalid_config
                    : code == SQLITE_BUSY                            ? Errc::timeout
                    : code == SQLITE_READONLY || code == SQLITE_PERM ? Errc::permission_denied
                                                                     : Errc::backend;
  return make_error(errc, "{}: {}", doing, sqlite3_errmsg(db));
}

Result<Stmt> prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) return sql_error(db, "prepare");
  return Stmt(s);
}

Result<void> exec(sqlite3* db, const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    sqlite3_free(msg);
    return sql_error(db, "history database");
  }
  return {};
}

Result<std::optional<std::string>> meta(sqlite3* db, const char* key) {
  auto s = prepare(db, "SELECT value FROM meta WHERE key = ?");
  if (!s) return std::move(s).error();
  sqlite3_bind_text(s->get(), 1, key, -1, SQLITE_STATIC);
  const int rc = sqlite3_step(s->get());
  if (rc == SQLITE_ROW) return std::optional<std::string>(reinterpret_cast<const char*>(sqlite3_column_text(s->get(), 0)));
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  return sql_error(db, "read meta");
}

Result<void> set_meta(sqlite3* db, const char* key, const std::string& value) {
  auto s = prepare(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)");
  if (!s) return std::move(s).error();
  sqlite3_bind_text(s->get(), 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(s->get(), 2, value.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(s->get()) != SQLITE_DONE) return sql_error(db, "write meta");
  return {};
}

Result<std::int64_t> parse_time(const std::string& text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return make_error(Errc::invalid_config, "damaged last sample time '{}'", text);
  return v;
}

}  // namespace

void HistoryDb::Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

HistoryDb::HistoryDb(std::string path, std::unique_ptr<sqlite3, Closer> db, std::vector<Tier> tiers, std::size_t max_series)
    : path_(std::move(path)), db_(std::move(db)), tiers_(std::move(tiers)), max_series_(max_series) {}
HistoryDb::HistoryDb(HistoryDb&&) noexcept = default;
HistoryDb& HistoryDb::operator=(HistoryDb&&) noexcept = default;
HistoryDb::~HistoryDb() = default;

Result<HistoryDb> HistoryDb::open(const std::string& path, Mode mode, std::vector<Tier> tiers, std::size_t max_series) {
  auto context = [&](Error e) { return std::move(e).context(fmt::format("history database {}", path)); };
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    if (mode == Mode::read_only)
      return make_error(Errc::not_found, "no history at {} (evosd records it; is it running on this node?)", path);
    // Created 0600 before SQLite opens it: the history names every VM of the node.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno != EEXIST) return make_error(Errc::backend, "history database {}: cannot create it: {}", path, std::strerror(errno));
    if (fd >= 0) ::close(fd);
  } else if (!S_ISREG(st.st_mode)) {
    return make_error(Errc::invalid_config, "history database {} is not a regular file", path);
  }
  sqlite3* raw = nullptr;
  const int flags = (mode == Mode::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOFOLLOW;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<sqlite3, Closer> db(raw);
  if (rc != SQLITE_OK) return context(raw ? sql_error(raw, "open") : Error(Errc::backend, "open: out of memory"));
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  sqlite3_extended_result_codes(raw, 0);
  if (mode == Mode::read_write) {
    // WAL: readers (evosctl) never block the sampler and see whole rounds only; synchronous
    // NORMAL: a power loss may lose the last rounds, never corrupt the file (sqlite.org/wal.html).
    if (auto r = exec(raw, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !r) return context(std::move(r).error());
    if (auto r = exec(raw,
                      "BEGIN IMMEDIATE;"
                      "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                      "CREATE TABLE IF NOT EXISTS series(id INTEGER PRIMARY KEY, name TEXT NOT NULL, labels TEXT NOT NULL,"
                      " type INTEGER NOT NULL, UNIQUE(name, labels));"
                      "CREATE TABLE IF NOT EXISTS points(tier INTEGER NOT NULL, t INTEGER NOT NULL, series INTEGER NOT NULL,"
                      " value REAL NOT NULL, PRIMARY KEY(tier, t, series)) WITHOUT ROWID;"
                      "INSERT OR IGNORE INTO meta(key, value) VALUES('format', 'evos-history'), ('version', '1');"
                      "COMMIT;");
        !r) {
      (void)exec(raw, "ROLLBACK");
      return context(std::move(r).error());
    }
  }
  auto fmt_value = meta(raw, "format");
  if (!fmt_value) return context(std::move(fmt_value).error());
  if (*fmt_value != std::optional<std::string>(format_name))
    return make_error(Errc::invalid_config, "history database {} is not an evos history (no format {} in its meta table)", path, format_name);
  auto version = meta(raw, "version");
  if (!version) return context(std::move(version).error());
  if (*version != std::optional<std::string>(format_version))
    return make_error(Errc::invalid_config, "history database {} has version {}, this evos reads {}", path,
                      version->value_or("(none)"), format_version);
  return HistoryDb(path, std::move(db), std::move(tiers), max_series);
}

Result<void> HistoryDb::record(std::int64_t unix_s, const std::vector<metrics::Family>& families) {
  if (auto r = exec(db_.get(), "BEGIN IMMEDIATE"); !r) return std::move(r).error().context(fmt::format("history database {}", path_));
  auto r = record_in_transaction(unix_s, families);
  if (!r) {
    (void)exec(db_.get(), "ROLLBACK");
    return std::move(r).error().context(fmt::format("history database {}", path_));
  }
  if (auto c = exec(db_.get(), "COMMIT"); !c) {
    (void)exec(db_.get(), "ROLLBACK");
    return std::move(c).error().context(fmt::format("history database {}", path_));
  }
  return {};
}

Result<void> HistoryDb::record_in_transaction(std::int64_t unix_s, const std::vector<metrics::Family>& families) {
  sqlite3* db = db_.get();
  auto last = meta(db, "last_t");
  if (!last) return std::move(last).error();
  std::int64_t prev_t = unix_s;
  if (*last) {
    auto t = parse_time(**last);
    if (!t) return std::move(t).error();
    prev_t = *t;
  }
  if (*last && unix_s <= prev_t) return make_error(Errc::invalid_argument, "sample time {} is not after the last one ({})", unix_s, prev_t);

  auto known = series();
  if (!known) return std::move(known).error();
  std::map<SeriesKey, StoredSeries> ids;
  for (auto& s : *known) ids[s.key] = s;
  std::map<std::int64_t, metrics::Type> types;
  for (auto& [k, s] : ids) types[s.id] = s.type;

  auto add_series = prepare(db, "INSERT INTO series(name, labels, type) VALUES(?, ?, ?)");
  auto add_point = prepare(db, "INSERT OR REPLACE INTO points(tier, t, series, value) VALUES(?, ?, ?, ?)");
  if (!add_series) return std::move(add_series).error();
  if (!add_point) return std::move(add_point).error();
  auto put = [&](std::int64_t tier, std::int64_t t, std::int64_t id, double v) -> Result<void> {
    sqlite3_stmt* s = add_point->get();
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, tier);
    sqlite3_bind_int64(s, 2, t);
    sqlite3_bind_int64(s, 3, id);
    sqlite3_bind_double(s, 4, v);
    if (sqlite3_step(s) != SQLITE_DONE) return sql_error(db, "write point");
    return {};
  };
  for (const auto& f : families) {
    for (const auto& sample : f.samples) {
      const SeriesKey key = series_key(f.name, sample.labels);
      auto it = ids.find(key);
      if (it == ids.end()) {
        if (ids.size() >= max_series_) {
          ++dropped_;
          continue;
        }
        const std::string labels = format_labels(key.labels);
        sqlite3_stmt* s = add_series->get();
        sqlite3_reset(s);
        sqlite3_bind_text(s, 1, key.name.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 2, labels.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(s, 3, f.type == metrics::Type::counter ? 1 : 0);
        if (sqlite3_step(s) != SQLITE_DONE) return sql_error(db, "add series");
        StoredSeries stored{sqlite3_last_insert_rowid(db), key, f.type};
        types[stored.id] = f.type;
        it = ids.emplace(key, stored).first;
      }
      if (auto r = put(0, unix_s, it->second.id, sample.value); !r) return r;
    }
  }
  // Consolidation of the buckets that closed, from the tier below (RRD's RRA consolidation).
  for (const auto& roll : closed_buckets(prev_t, unix_s, tiers_)) {
    auto finer = points(roll.tier - 1, roll.start);
    if (!finer) return std::move(finer).error();
    std::map<std::int64_t, std::vector<double>> by_series;
    const auto end = roll.start + tiers_[roll.tier].step_s;
    for (const auto& [id, p] : *finer)
      if (p.t < end) by_series[id].push_back(p.value);
    for (const auto& [id, values] : by_series)
      if (auto r = put(static_cast<std::int64_t>(roll.tier), roll.start, id, consolidate(types[id], values)); !r) return r;
  }
  auto expire = prepare(db, "DELETE FROM points WHERE tier = ? AND t < ?");
  if (!expire) return std::move(expire).error();
  for (std::size_t i = 0; i < tiers_.size(); ++i) {
    sqlite3_reset(expire->get());
    sqlite3_bind_int64(expire->get(), 1, static_cast<std::int64_t>(i));
    sqlite3_bind_int64(expire->get(), 2, unix_s - tiers_[i].keep_s);
    if (sqlite3_step(expire->get()) != SQLITE_DONE) return sql_error(db, "expire points");
  }
  return set_meta(db, "last_t", std::to_string(unix_s));
}

Result<std::vector<StoredSeries>> HistoryDb::series() const {
  auto s = prepare(db_.get(), "SELECT id, name, labels, type FROM series ORDER BY id");
  if (!s) return std::move(s).error();
  std::vector<StoredSeries> out;
  int rc;
  while ((rc = sqlite3_step(s->get())) == SQLITE_ROW) {
    StoredSeries x;
    x.id = sqlite3_column_int64(s->get(), 0);
    const auto* name = sqlite3_column_text(s->get(), 1);
    const auto* labels = sqlite3_column_text(s->get(), 2);
    if (!name || !labels) return make_error(Errc::invalid_config, "history database {}: series {} is damaged", path_, x.id);
    auto l = parse_labels(reinterpret_cast<const char*>(labels));
    if (!l) return std::move(l).error().context(fmt::format("history database {}", path_));
    x.key = series_key(reinterpret_cast<const char*>(name), *l);
    x.type = sqlite3_column_int(s->get(), 3) == 1 ? metrics::Type::counter : metrics::Type::gauge;
    out.push_back(std::move(x));
  }
  if (rc != SQLITE_DONE) return sql_error(db_.get(), fmt::format("history database {}: read series", path_));
  return out;
}

Result<std::vector<std::pair<std::int64_t, Point>>> HistoryDb::points(std::size_t tier, std::int64_t from_t) const {
  auto s = prepare(db_.get(), "SELECT series, t, value FROM points WHERE tier = ? AND t >= ? ORDER BY t");
  if (!s) return std::move(s).error();
  sqlite3_bind_int64(s->get(), 1, static_cast<std::int64_t>(tier));
  sqlite3_bind_int64(s->get(), 2, from_t);
  std::vector<std::pair<std::int64_t, Point>> out;
  int rc;
  while ((rc = sqlite3_step(s->get())) == SQLITE_ROW)
    out.push_back({sqlite3_column_int64(s->get(), 0), Point{sqlite3_column_int64(s->get(), 1), sqlite3_column_double(s->get(), 2)}});
  if (rc != SQLITE_DONE) return sql_error(db_.get(), fmt::format("history database {}: read points", path_));
  return out;
}

Result<std::optional<std::int64_t>> HistoryDb::last_time() const {
  auto v = meta(db_.get(), "last_t");
  if (!v) return std::move(v).error();
  if (!*v) return std::optional<std::int64_t>();
  auto t = parse_time(**v);
  if (!t) return std::move(t).error().context(fmt::format("history database {}", path_));
  return std::optional<std::int64_t>(*t);
}

Result<std::vector<SeriesHistory>> read_history(const HistoryDb& db, const Scope& scope, std::int64_t now_s, std::int64_t since_s) {
  auto all = db.series();
  if (!all) return std::move(all).error();
  const std::size_t tier = tier_for(since_s, db.tiers());
  auto pts = db.points(tier, now_s - since_s);
  if (!pts) return std::move(pts).error();
  // The newest full-resolution point is the current value, also when the window is coarse.
  std::map<std::int64_t, std::size_t> index;
  std::vector<SeriesHistory> out;
  for (const auto& s : *all) {
    if (!in_scope(s.key, scope)) continue;
    index[s.id] = out.size();
    out.push_back({s.key, s.type, {}});
  }
  for (const auto& [id, p] : *pts)
    if (auto it = index.find(id); it != index.end()) out[it->second].points.push_back(p);
  if (tier != 0) {
    auto last = db.last_time();
    if (!last) return std::move(last).error();
    if (*last) {
      auto newest = db.points(0, **last);
      if (!newest) return std::move(newest).error();
      for (const auto& [id, p] : *newest)
        if (auto it = index.find(id); it != index.end()) out[it->second].points.push_back(p);
    }
  }
  std::erase_if(out, [](const SeriesHistory& h) { return h.points.empty(); });
  return out;
}

}  // namespace evos::stats
