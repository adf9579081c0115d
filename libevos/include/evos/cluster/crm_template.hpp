// Filling in the crm-templates/ files: every @NAME@ placeholder must get a value, and a value
// can never change the template's syntax (callers validate values with text::syntax_problem).
#pragma once

#include <evos/error.hpp>

#include <map>
#include <string>
#include <string_view>

namespace evos::cluster {

// Placeholders are @[A-Z0-9_]+@. A placeholder without a value is Errc::invalid_argument naming it.
Result<std::string> render_template(std::string_view text, const std::map<std::string, std::string>& values);

}  // namespace evos::cluster
