// Filling in the crm-templates/ files: every @NAME@ placeholder must get a value, and a value
// can never change the template's syntax (callers validate values with text::syntax_problem).
#pragma once

#include <evos/error.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace evos::cluster {

// Placeholders are @[A-Z0-9_]+@. A placeholder without a value is Errc::invalid_argument naming it.
Result<std::string> render_template(std::string_view text, const std::map<std::string, std::string>& values);

// A template in blocks, each opened by a line "# == NAME ==" (e.g. testip.crm: "the clone
// (once)", "per VM", "per mirror"); text before the first such line is the header, "" here.
struct TemplateSection {
  std::string name;
  std::string text;
};
std::vector<TemplateSection> template_sections(std::string_view text);

// The block named `name`, or Errc::not_installed naming the template: a template without it is
// not the one this evos was built for.
Result<std::string> template_section(std::string_view text, std::string_view name, std::string_view template_name);

// The text without comment lines (first non-blank character '#') and without blank lines:
// crmsh would otherwise keep a template's explanations as comments in the CIB.
std::string without_comments(std::string_view text);

}  // namespace evos::cluster
