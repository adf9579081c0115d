#include <evos/metrics/exposition.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

namespace evos::metrics {

namespace {

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

}  // namespace

std::string_view to_string(Type type) noexcept { return type == Type::counter ? "counter" : "gauge"; }

std::optional<std::string> name_problem(std::string_view name, Type type) {
  if (name.empty()) return "a metric name is empty";
  // Colons are legal in the format but reserved for recording rules (naming practices).
  for (char c : name)
    if (!name_char(c)) return fmt::format("metric name '{}' has a character outside [a-zA-Z0-9_]", name);
  if (!name_start(name[0])) return fmt::format("metric name '{}' starts with a digit", name);
  if (name.substr(0, 5) != "evos_") return fmt::format("metric name '{}' does not start with evos_", name);
  if (type == Type::counter && !ends_with(name, "_total"))
    return fmt::format("counter '{}' does not end in _total", name);
  if (type == Type::gauge && ends_with(name, "_total")) return fmt::format("gauge '{}' ends in _total", name);
  return std::nullopt;
}

std::optional<std::string> label_name_problem(std::string_view name) {
  if (name.empty()) return "a label name is empty";
  for (char c : name)
    if (!name_char(c)) return fmt::format("label name '{}' has a character outside [a-zA-Z0-9_]", name);
  if (!name_start(name[0])) return fmt::format("label name '{}' starts with a digit", name);
  if (name.substr(0, 2) == "__") return fmt::format("label name '{}' starts with __ (reserved)", name);
  return std::nullopt;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Exact integers (counters of bytes up to 2^53) print without exponent or fraction.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) return fmt::format("{:.0f}", value);
  return fmt::format("{}", value);  // shortest round-trip form
}

Result<std::string> write_text(const std::vector<Family>& families) {
  std::string out;
  std::set<std::string> seen;
  for (const auto& f : families) {
    if (auto p = name_problem(f.name, f.type)) return Error(Errc::invalid_argument, *p);
    if (!seen.insert(f.name).second) return make_error(Errc::invalid_argument, "metric family '{}' given twice", f.name);
    if (f.samples.empty()) continue;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, escape_help(f.help), f.name, to_string(f.type));
    std::set<Labels> label_sets;
    for (const auto& s : f.samples) {
      Labels sorted = s.labels;
      std::sort(sorted.begin(), sorted.end());
      for (std::size_t i = 0; i < sorted.size(); ++i) {
        if (auto p = label_name_problem(sorted[i].first)) return make_error(Errc::invalid_argument, "{}: {}", f.name, *p);
        if (i > 0 && sorted[i].first == sorted[i - 1].first)
          return make_error(Errc::invalid_argument, "{}: label '{}' given twice", f.name, sorted[i].first);
      }
      if (!label_sets.insert(sorted).second)
        return make_error(Errc::invalid_argument, "{}: two samples with the same labels", f.name);
      out += f.name;
      if (!s.labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < s.labels.size(); ++i) {
          if (i) out += ',';
          out += fmt::format("{}=\"{}\"", s.labels[i].first, escape_label_value(s.labels[i].second));
        }
        out += '}';
      }
      out += ' ';
      out += format_value(s.value);
      out += '\n';
    }
  }
  return out;
}

namespace {

Result<double> parse_number(std::string_view text) {
  if (text == "NaN") return std::nan("");
  if (text == "+Inf" || text == "Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    return make_error(Errc::invalid_argument, "'{}' is not a number", text);
  return v;
}

}  // namespace

Result<std::vector<ParsedSample>> parse_text(std::string_view text) {
  std::vector<ParsedSample> out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    auto bad = [&](std::string_view why) { return make_error(Errc::invalid_argument, "line {}: {}", line_no, why); };
    ParsedSample s;
    std::size_t i = 0;
    while (i < line.size() && name_char(line[i])) ++i;
    s.name = std::string(line.substr(0, i));
    if (s.name.empty()) return bad("no metric name");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const std::size_t start = i;
        while (i < line.size() && name_char(line[i])) ++i;
        std::string name(line.substr(start, i - start));
        if (name.empty() || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') return bad("malformed label");
        i += 2;
        std::string value;
        for (;; ++i) {
          if (i >= line.size()) return bad("unterminated label value");
          if (line[i] == '"') break;
          if (line[i] == '\\') {
            if (++i >= line.size()) return bad("unterminated escape");
            value += line[i] == 'n' ? '\n' : line[i];
          } else {
            value += line[i];
          }
        }
        ++i;
        s.labels.emplace_back(std::move(name), std::move(value));
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) return bad("unterminated label set");
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') return bad("no value");
    std::string_view rest = line.substr(i + 1);
    if (auto sp = rest.find(' '); sp != std::string_view::npos) rest = rest.substr(0, sp);  // a timestamp
    auto v = parse_number(rest);
    if (!v) return bad(v.error().message());
    s.value = *v;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace evos::metrics
