// The declaration of ocf:evos:mirror: parameters (mirror::mirror_param_specs) and actions with
// their default timeouts, including the per-role monitors of a promotable clone. The meta-data is
// rendered from it.
#pragma once

#include <evos/ocf/metadata.hpp>

namespace evos::mirror {

const ocf::AgentInfo& mirror_agent_info();

}  // namespace evos::mirror
