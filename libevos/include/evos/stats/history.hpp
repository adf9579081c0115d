// evos::stats: the history of selected metrics, the pure half. Samples every 10 s are kept at
// full resolution for a day and consolidated into coarser tiers as they age, like an RRD's RRAs
// (Proxmox's pvestatd keeps its RRD files the same way): 1 min for a week, 30 min for 31 days.
// A gauge consolidates to the mean of its bucket, a counter to its last value (so it stays
// monotonic and rates over coarse points are still right). The store is stats/history_db.hpp.
#pragma once

#include <evos/deadline.hpp>
#include <evos/metrics/exposition.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace evos::stats {

struct Tier {
  std::int64_t step_s = 10;     // one point per step
  std::int64_t keep_s = 86400;  // points older than this are removed
};

// 10 s for 1 day, 1 min for 7 days, 30 min for 31 days: at most 8640 + 10080 + 1488 points
// per series.
std::vector<Tier> default_tiers();

inline constexpr std::int64_t default_period_s = 10;

// The start of the bucket of `step_s` seconds holding `t`.
std::int64_t bucket_start(std::int64_t t, std::int64_t step_s);

// The buckets of coarser tiers (index ≥ 1) that closed between two samples at `prev_t` and `t`:
// (tier, bucket start). Each is consolidated from the tier below once, when its bucket ends.
struct Rollup {
  std::size_t tier = 0;
  std::int64_t start = 0;
};
std::vector<Rollup> closed_buckets(std::int64_t prev_t, std::int64_t t, const std::vector<Tier>& tiers);

// A bucket's value from the finer points in it (at least one).
double consolidate(metrics::Type type, std::span<const double> values);

// The finest tier that still holds points `since_s` back.
std::size_t tier_for(std::int64_t since_s, const std::vector<Tier>& tiers);

// One series: a metric name and its labels, as stored ("evos_vm_cpu_seconds_total", labels
// sorted by name).
struct SeriesKey {
  std::string name;
  metrics::Labels labels;
  bool operator<(const SeriesKey& o) const { return name != o.name ? name < o.name : labels < o.labels; }
  bool operator==(const SeriesKey&) const = default;
};
SeriesKey series_key(const std::string& name, const metrics::Labels& labels);
// "name{a=\"b\"}" as Prometheus writes a series.
std::string format_series(const SeriesKey& key);
// The label string as stored (a="b",c="d"), and back; Errc::invalid_config for a damaged one.
std::string format_labels(const metrics::Labels& labels);
Result<metrics::Labels> parse_labels(std::string_view text);

// The families the sampler records (the rest of /metrics is current state only): the ones
// listed in docs/metrics.md, "History". Everything recorded is also served by /metrics.
bool recorded(const metrics::Family& family);

// What `evosctl stats` shows: node (series with neither a vm nor a mirror label), one VM, one
// mirror.
struct Scope {
  enum class Kind { node, vm, mirror } kind = Kind::node;
  std::string name;
};
bool in_scope(const SeriesKey& key, const Scope& scope);
// `evosctl stats` words: none or "node", "vm NAME", "mirror NAME"; Errc::invalid_argument
// naming what is wrong otherwise.
Result<Scope> parse_scope(const std::vector<std::string>& words);

// "--since 1h": a positive count of s, m, h or d (at most 400 days).
Result<std::int64_t> parse_since(std::string_view text);

struct Point {
  std::int64_t t = 0;
  double value = 0;
};
// What a counter's points say per second between consecutive points (a reset, the value going
// down, gives no rate for that interval); a gauge's points unchanged.
std::vector<Point> per_second(const std::vector<Point>& points);
// ▁▂▃▄▅▆▇█ for `values` scaled between their min and max, resampled to at most `width`.
std::string sparkline(std::span<const double> values, std::size_t width);

// One series' history as `evosctl stats` shows it.
struct SeriesView {
  SeriesKey key;
  metrics::Type type = metrics::Type::gauge;
  std::vector<Point> points;  // ascending time
};
// The table: series, current value, min and max over the window (for counters the rate per
// second), and on a terminal a sparkline; plain (tab-separated, no sparkline) otherwise.
std::string render_table(const std::vector<SeriesView>& series, bool terminal);

}  // namespace evos::stats
