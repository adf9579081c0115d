#include "stats_commands.hpp"

#include "exit_codes.hpp"

#include <evos/stats/history_db.hpp>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <memory>

namespace evosctl {

namespace {

struct StatsOptions {
  std::vector<std::string> words;
  std::string since = "1h";
  std::string db = evos::stats::default_history_path;
};

int stats(const GlobalOptions& g, const StatsOptions& o) {
  namespace st = evos::stats;
  auto scope = st::parse_scope(o.words);
  if (!scope) return fail(scope.error());
  auto since = st::parse_since(o.since);
  if (!since) return fail(since.error());
  auto db = st::HistoryDb::open(o.db, st::HistoryDb::Mode::read_only);
  if (!db) return fail(db.error());
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto history = st::read_history(*db, *scope, now, *since);
  if (!history) return fail(history.error());
  if (history->empty()) {
    const std::string what = scope->kind == st::Scope::Kind::node ? "this node"
                             : scope->kind == st::Scope::Kind::vm ? "VM '" + scope->name + "'"
                                                                  : "mirror '" + scope->name + "'";
    return fail(evos::make_error(evos::Errc::not_found, "no history for {} in the last {} in {}", what, o.since, o.db));
  }
  if (g.json) {
    nlohmann::json series = nlohmann::json::array();
    for (const auto& s : *history) {
      nlohmann::json labels = nlohmann::json::object();
      for (const auto& [k, v] : s.key.labels) labels[k] = v;
      nlohmann::json points = nlohmann::json::array();
      for (const auto& p : s.points) points.push_back({p.t, p.value});
      series.push_back({{"name", s.key.name},
                        {"labels", labels},
                        {"type", std::string(evos::metrics::to_string(s.type))},
                        {"current", s.points.back().value},
                        {"current_time", s.points.back().t},
                        {"points", points}});
    }
    fmt::print("{}\n", nlohmann::json{{"since_seconds", *since}, {"series", series}}.dump());
  } else {
    fmt::print("{}", st::render_table(*history, ::isatty(STDOUT_FILENO) == 1));
  }
  return ok;
}

}  // namespace

void add_stats_commands(CLI::App& app, GlobalOptions& global, std::function<int()>& run) {
  auto o = std::make_shared<StatsOptions>();
  auto* cmd = app.add_subcommand("stats", "History of this node, a VM or a mirror: current values, min/max and a "
                                          "sparkline over --since (recorded by evosd; docs/metrics.md)");
  cmd->add_option("what", o->words, "node (default), vm NAME or mirror NAME")->expected(0, 2);
  cmd->add_option("--since", o->since, "How far back: 90s, 30m, 1h, 7d (default 1h)");
  cmd->add_option("--db", o->db, "The history database (default /var/lib/evos/history.db)");
  cmd->add_flag("--json", global.json, "Print JSON: every series with its labels, current value and points");
  cmd->callback([&run, &global, o] { run = [&global, o] { return stats(global, *o); }; });
}

}  // namespace evosctl
