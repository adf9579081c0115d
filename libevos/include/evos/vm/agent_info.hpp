// The declaration of ocf:evos:vm: parameters (vm::param_specs) and actions with their
// default timeouts. The meta-data is rendered from it.
#pragma once

#include <evos/ocf/metadata.hpp>

namespace evos::vm {

const ocf::AgentInfo& agent_info();

}  // namespace evos::vm
