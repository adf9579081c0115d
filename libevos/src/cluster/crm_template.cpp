#include <evos/cluster/crm_template.hpp>

#include <fmt/core.h>

#include <optional>

namespace evos::cluster {

Result<std::string> render_template(std::string_view text, const std::map<std::string, std::string>& values) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto at = text.find('@', i);
    if (at == std::string_view::npos) break;
    std::size_t end = at + 1;
    while (end < text.size() && ((text[end] >= 'A' && text[end] <= 'Z') || (text[end] >= '0' && text[end] <= '9') || text[end] == '_'))
      ++end;
    out.append(text.substr(i, at - i));
    if (end < text.size() && text[end] == '@' && end > at + 1) {
      const std::string name(text.substr(at + 1, end - at - 1));
      auto value = values.find(name);
      if (value == values.end()) return make_error(Errc::invalid_argument, "template placeholder @{}@ has no value", name);
      out += value->second;
      i = end + 1;
    } else {
      out += '@';  // a lone '@' (e.g. in a comment or address) is text
      i = at + 1;
    }
  }
  out.append(text.substr(i));
  return out;
}

namespace {

// Calls f(line) for each line of text, without its '\n'.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    const auto nl = text.find('\n');
    f(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// "# == NAME ==" -> NAME
std::optional<std::string_view> section_name(std::string_view line) {
  constexpr std::string_view open = "# == ", close = " ==";
  if (line.size() <= open.size() + close.size() || !line.starts_with(open) || !line.ends_with(close)) return std::nullopt;
  return line.substr(open.size(), line.size() - open.size() - close.size());
}

}  // namespace

std::vector<TemplateSection> template_sections(std::string_view text) {
  std::vector<TemplateSection> out{{"", ""}};
  for_each_line(text, [&](std::string_view line) {
    if (auto name = section_name(line)) {
      out.push_back({std::string(*name), ""});
      return;
    }
    out.back().text.append(line).append("\n");
  });
  return out;
}

Result<std::string> template_section(std::string_view text, std::string_view name, std::string_view template_name) {
  for (auto& s : template_sections(text))
    if (s.name == name) return std::move(s.text);
  return make_error(Errc::not_installed, "template {} has no block \"# == {} ==\"", template_name, name);
}

std::string without_comments(std::string_view text) {
  std::string out;
  for_each_line(text, [&](std::string_view line) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') return;
    out.append(line).append("\n");
  });
  return out;
}

}  // namespace evos::cluster
