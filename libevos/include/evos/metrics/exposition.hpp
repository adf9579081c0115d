// evos::metrics: metric families and samples, and the Prometheus text exposition format 0.0.4
// that /metrics serves (prometheus.io/docs/instrumenting/exposition_formats: "# HELP" and
// "# TYPE" lines, `name{label="value"} value`, label values escaped \\, \" and \n). Debian 12
// has no prometheus-cpp; the format is small and documented, and `promtool check metrics`
// (tests/integration/metrics_promtool.sh) checks what this writes.
//
// Naming (prometheus.io/docs/practices/naming): every evos metric starts with "evos_"; a counter
// ends in "_total"; units are base units in the name ("_bytes", "_seconds"); a gauge never ends
// in "_total". Names breaking these rules are refused, not written.
#pragma once

#include <evos/error.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace evos::metrics {

enum class Type { gauge, counter };

std::string_view to_string(Type type) noexcept;

using Labels = std::vector<std::pair<std::string, std::string>>;  // in the order written

struct Sample {
  Labels labels;
  double value = 0;
};

struct Family {
  std::string name;  // "evos_vm_cpu_seconds_total"
  std::string help;  // one line: what it measures
  Type type = Type::gauge;
  std::vector<Sample> samples;

  Family& add(Labels labels, double value) {
    samples.push_back(Sample{std::move(labels), value});
    return *this;
  }
};

// The problem with a metric name (Prometheus' [a-zA-Z_:][a-zA-Z0-9_:]*, the evos_ prefix, the
// _total rule for the type), or nullopt.
std::optional<std::string> name_problem(std::string_view name, Type type);
// The problem with a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting "__", which Prometheus
// reserves), or nullopt.
std::optional<std::string> label_name_problem(std::string_view name);

// A label value as written between quotes: \ → \\, " → \", newline → \n.
std::string escape_label_value(std::string_view value);
// HELP text: \ → \\, newline → \n (quotes stay).
std::string escape_help(std::string_view help);
// A sample value: integers without a fraction, NaN and ±Inf as Prometheus spells them.
std::string format_value(double value);

// The exposition of `families`, in the order given. Errc::invalid_argument naming the family for
// a bad metric or label name, a family given twice, or two samples of a family with the same
// labels (a scrape Prometheus would reject). A family without samples writes nothing.
Result<std::string> write_text(const std::vector<Family>& families);

// The families of an exposition, for tests and `evosctl stats` checks: every sample as
// (name, labels, value). Errc::invalid_argument naming the line for anything malformed.
struct ParsedSample {
  std::string name;
  Labels labels;
  double value = 0;
};
Result<std::vector<ParsedSample>> parse_text(std::string_view text);

}  // namespace evos::metrics
