// Reading crm-templates/ files from a directory (the installed share/evos/crm-templates, or one
// given with evosctl's --template-dir).
#pragma once

#include <evos/error.hpp>

#include <string>
#include <string_view>

namespace evos::cluster {

// DIR/NAME's text; Errc::not_installed naming the path when it cannot be read. NAME is one of
// the templates' own file names, never a path.
Result<std::string> read_template(const std::string& dir, std::string_view name);

}  // namespace evos::cluster
