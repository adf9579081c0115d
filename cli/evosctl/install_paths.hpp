// Where evosctl finds its data, from its own executable's location only (never the
// environment: evosctl runs as root and loads templates into the cluster):
//   install tree: <prefix>/sbin/evosctl -> <prefix>/share/evos/crm-templates, <prefix>/libexec/evos/evos-lab
//                 (a staged or relocated install works as well as the packaged one);
//   build tree:   <build>/cli/evosctl    -> the source tree's crm-templates/ and lab/evos-lab;
//   otherwise the compiled-in install paths.
// Commands that load templates take --template-dir to load others (staged templates, for testing).
#pragma once

#include <string>

namespace evosctl {

// `option` (the command's --template-dir) when given, else as above.
std::string template_dir(const std::string& option = {});
std::string lab_script();

}  // namespace evosctl
