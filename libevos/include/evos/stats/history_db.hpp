// evos::stats::HistoryDb: the history in one SQLite file (default /var/lib/evos/history.db).
// SQLite rather than librrd: one file for every series (a new VM needs no new file), every
// round one transaction (WAL, so a reader never sees half a round and a killed writer loses at
// most the round in flight), and a damaged file is named as such by SQLite's own checks.
//
// Tables: meta (format, version, last sample time), series (id, name, labels, type), points
// (tier, t, series, value; WITHOUT ROWID, ordered by tier and time so consolidation and expiry
// are range scans). Size is bounded: max_series series × the tiers' points (20208 each by
// default, about 0.5 MB per series: 24 bytes a point); series past max_series are not recorded.
#pragma once

#include <evos/stats/history.hpp>
#include <evos/stats/sampler.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace evos::stats {

inline constexpr char default_history_path[] = "/var/lib/evos/history.db";
inline constexpr std::size_t default_max_series = 2000;

struct StoredSeries {
  std::int64_t id = 0;
  SeriesKey key;
  metrics::Type type = metrics::Type::gauge;
};

class HistoryDb final : public SampleSink {
 public:
  enum class Mode { read_only, read_write };
  // read_write creates the file (mode 0600) and its tables; read_only needs an existing one
  // (Errc::not_found "no history at PATH"). A file that is not an evos history, or damaged:
  // Errc::invalid_config naming it and SQLite's reason.
  static Result<HistoryDb> open(const std::string& path, Mode mode, std::vector<Tier> tiers = default_tiers(),
                                std::size_t max_series = default_max_series);

  HistoryDb(HistoryDb&&) noexcept;
  HistoryDb& operator=(HistoryDb&&) noexcept;
  ~HistoryDb() override;

  // One round in one transaction: the points, the consolidation of every bucket that closed,
  // the expiry of points older than their tier keeps.
  Result<void> record(std::int64_t unix_s, const std::vector<metrics::Family>& families) override;

  [[nodiscard]] Result<std::vector<StoredSeries>> series() const;
  // The points of a tier from `from_t` on, by series id (ascending time).
  [[nodiscard]] Result<std::vector<std::pair<std::int64_t, Point>>> points(std::size_t tier, std::int64_t from_t) const;
  [[nodiscard]] Result<std::optional<std::int64_t>> last_time() const;
  [[nodiscard]] const std::vector<Tier>& tiers() const { return tiers_; }
  [[nodiscard]] std::uint64_t series_dropped() const { return dropped_; }

 private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };
  HistoryDb(std::string path, std::unique_ptr<sqlite3, Closer> db, std::vector<Tier> tiers, std::size_t max_series);
  Result<void> record_in_transaction(std::int64_t unix_s, const std::vector<metrics::Family>& families);

  std::string path_;
  std::unique_ptr<sqlite3, Closer> db_;
  std::vector<Tier> tiers_;
  std::size_t max_series_;
  std::uint64_t dropped_ = 0;
};

// What `evosctl stats` prints: each series in scope with its points over the window.
using SeriesHistory = SeriesView;
Result<std::vector<SeriesHistory>> read_history(const HistoryDb& db, const Scope& scope, std::int64_t now_s, std::int64_t since_s);

}  // namespace evos::stats
