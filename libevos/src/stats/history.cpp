#include <evos/stats/history.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace evos::stats {

std::vector<Tier> default_tiers() { return {{10, 86400}, {60, 7 * 86400}, {1800, 31 * 86400}}; }

std::int64_t bucket_start(std::int64_t t, std::int64_t step_s) {
  const std::int64_t r = t % step_s;
  return r < 0 ? t - r - step_s : t - r;
}

std::vector<Rollup> closed_buckets(std::int64_t prev_t, std::int64_t t, const std::vector<Tier>& tiers) {
  std::vector<Rollup> out;
  if (t <= prev_t) return out;
  for (std::size_t i = 1; i < tiers.size(); ++i) {
    const auto step = tiers[i].step_s;
    const auto from = bucket_start(prev_t, step);
    const auto to = bucket_start(t, step);
    // Every bucket from prev_t's up to (not including) t's closed; after a long gap (the daemon
    // was stopped) only those the finer tier still holds points for are worth consolidating.
    const auto oldest = std::max(from, bucket_start(t - tiers[i - 1].keep_s, step));
    for (auto b = oldest; b < to; b += step) out.push_back({i, b});
  }
  return out;
}

double consolidate(metrics::Type type, std::span<const double> values) {
  if (values.empty()) return std::nan("");
  if (type == metrics::Type::counter) return values.back();
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

std::size_t tier_for(std::int64_t since_s, const std::vector<Tier>& tiers) {
  for (std::size_t i = 0; i < tiers.size(); ++i)
    if (tiers[i].keep_s >= since_s) return i;
  return tiers.empty() ? 0 : tiers.size() - 1;
}

SeriesKey series_key(const std::string& name, const metrics::Labels& labels) {
  SeriesKey k{name, labels};
  std::sort(k.labels.begin(), k.labels.end());
  return k;
}

std::string format_labels(const metrics::Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ',';
    out += fmt::format("{}=\"{}\"", k, metrics::escape_label_value(v));
  }
  return out;
}

std::string format_series(const SeriesKey& key) {
  return key.labels.empty() ? key.name : fmt::format("{}{{{}}}", key.name, format_labels(key.labels));
}

Result<metrics::Labels> parse_labels(std::string_view text) {
  // The writer's own form, parsed by the exposition parser on a one-sample line.
  auto parsed = metrics::parse_text(fmt::format("x{{{}}} 0\n", text));
  if (!parsed || parsed->size() != 1) return make_error(Errc::invalid_config, "damaged label set '{}'", text);
  return (*parsed)[0].labels;
}

bool recorded(const metrics::Family& f) {
  static const std::string_view names[] = {
      "evos_vm_cpu_seconds_total",
      "evos_vm_memory_balloon_bytes",
      "evos_vm_memory_rss_bytes",
      "evos_vm_block_read_bytes_total",
      "evos_vm_block_write_bytes_total",
      "evos_vm_network_receive_bytes_total",
      "evos_vm_network_transmit_bytes_total",
      "evos_vms",
      "evos_mirror_out_of_sync_bytes",
      "evos_mirror_resync_done_ratio",
      "evos_mirror_sent_bytes_total",
      "evos_mirror_received_bytes_total",
      "evos_corosync_quorate",
      "evos_cluster_nodes_online",
      "evos_cluster_failed_actions",
      "evos_testip_reachable",
      "evos_testip_rtt_seconds",
      "evos_backup_last_success_age_seconds",
  };
  return std::find(std::begin(names), std::end(names), f.name) != std::end(names);
}

bool in_scope(const SeriesKey& key, const Scope& scope) {
  auto label = [&](std::string_view name) -> const std::string* {
    for (const auto& [k, v] : key.labels)
      if (k == name) return &v;
    return nullptr;
  };
  switch (scope.kind) {
    case Scope::Kind::node: return !label("vm") && !label("mirror");
    case Scope::Kind::vm: return label("vm") && *label("vm") == scope.name;
    case Scope::Kind::mirror: return label("mirror") && *label("mirror") == scope.name;
  }
  return false;
}

Result<Scope> parse_scope(const std::vector<std::string>& words) {
  if (words.empty() || (words.size() == 1 && words[0] == "node")) return Scope{};
  if (words[0] == "vm" || words[0] == "mirror") {
    if (words.size() != 2 || words[1].empty())
      return make_error(Errc::invalid_argument, "stats {} needs exactly one name: evosctl stats {} NAME", words[0], words[0]);
    return Scope{words[0] == "vm" ? Scope::Kind::vm : Scope::Kind::mirror, words[1]};
  }
  if (words[0] == "node") return make_error(Errc::invalid_argument, "stats node takes no name (it is this node)");
  return make_error(Errc::invalid_argument, "stats shows node, vm NAME or mirror NAME, not '{}'", words[0]);
}

Result<std::int64_t> parse_since(std::string_view text) {
  auto bad = [&] { return make_error(Errc::invalid_argument, "--since must be a duration such as 90s, 30m, 1h or 7d, not '{}'", text); };
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || n <= 0) return bad();
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::int64_t mult = 0;
  if (unit == "s") mult = 1;
  else if (unit == "m") mult = 60;
  else if (unit == "h") mult = 3600;
  else if (unit == "d") mult = 86400;
  else return bad();
  if (n > 400 * 86400 / mult) return make_error(Errc::invalid_argument, "--since {} is more than the 400 days history can hold", text);
  return n * mult;
}

std::vector<Point> per_second(const std::vector<Point>& points) {
  std::vector<Point> out;
  for (std::size_t i = 1; i < points.size(); ++i) {
    const auto dt = points[i].t - points[i - 1].t;
    const auto dv = points[i].value - points[i - 1].value;
    if (dt <= 0 || dv < 0) continue;  // a counter reset (the VM restarted): no rate
    out.push_back({points[i].t, dv / static_cast<double>(dt)});
  }
  return out;
}

std::string sparkline(std::span<const double> values, std::size_t width) {
  static const char* const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  if (values.empty() || width == 0) return "";
  std::vector<double> v;
  const std::size_t n = std::min(width, values.size());
  for (std::size_t i = 0; i < n; ++i) {
    // Each output cell is the mean of its share of the input.
    const std::size_t from = i * values.size() / n, to = std::max(from + 1, (i + 1) * values.size() / n);
    double sum = 0;
    for (std::size_t j = from; j < to; ++j) sum += values[j];
    v.push_back(sum / static_cast<double>(to - from));
  }
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  std::string out;
  for (double x : v) {
    const double span = *hi - *lo;
    const auto level = span > 0 ? static_cast<std::size_t>(std::lround((x - *lo) / span * 7)) : 0;
    out += bars[std::min<std::size_t>(level, 7)];
  }
  return out;
}

}  // namespace evos::stats

namespace evos::stats {

namespace {

std::string human(double v) {
  const double a = std::fabs(v);
  if (a >= 1e12) return fmt::format("{:.1f}T", v / 1e12);
  if (a >= 1e9) return fmt::format("{:.1f}G", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.1f}M", v / 1e6);
  if (a >= 1e4) return fmt::format("{:.1f}k", v / 1e3);
  if (a != 0 && a < 0.01) return fmt::format("{:.2e}", v);
  return fmt::format("{:.4g}", v);
}

}  // namespace

std::string render_table(const std::vector<SeriesView>& series, bool terminal) {
  std::string out;
  if (terminal) out += fmt::format("{:<64} {:>10} {:>10} {:>10}  {}\n", "SERIES", "CURRENT", "MIN", "MAX", "HISTORY");
  else out += "series\tcurrent\tmin\tmax\tpoints\n";
  for (const auto& s : series) {
    // A counter's level says little; its rate is what changes (bytes per second).
    const std::vector<Point> shown = s.type == metrics::Type::counter ? per_second(s.points) : s.points;
    std::string name = format_series(s.key) + (s.type == metrics::Type::counter ? " /s" : "");
    if (shown.empty()) {
      if (terminal) out += fmt::format("{:<64} {:>10} {:>10} {:>10}\n", name, "-", "-", "-");
      else out += fmt::format("{}\t-\t-\t-\t{}\n", name, s.points.size());
      continue;
    }
    std::vector<double> values;
    for (const auto& p : shown) values.push_back(p.value);
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    if (terminal) {
      if (name.size() > 64) name = name.substr(0, 61) + "...";
      out += fmt::format("{:<64} {:>10} {:>10} {:>10}  {}\n", name, human(values.back()), human(*lo), human(*hi),
                         sparkline(values, 40));
    } else {
      out += fmt::format("{}\t{}\t{}\t{}\t{}\n", name, metrics::format_value(values.back()), metrics::format_value(*lo),
                         metrics::format_value(*hi), shown.size());
    }
  }
  return out;
}

}  // namespace evos::stats
