// Where evosctl finds its data: next to its own executable first (<prefix>/sbin/evosctl →
// <prefix>/share/evos/..., <prefix>/libexec/evos/...), so a staged or relocated install works;
// then the compiled-in install paths. An environment variable overrides either.
#pragma once

#include <string>

namespace evosctl {

std::string template_dir();  // EVOS_TEMPLATE_DIR
std::string lab_script();    // EVOS_LAB_SCRIPT

}  // namespace evosctl
