// The declaration of ocf:evos:ping: parameters (net::ping_param_specs) and actions with their
// default timeouts. The meta-data is rendered from it.
#pragma once

#include <evos/ocf/metadata.hpp>

namespace evos::net {

const ocf::AgentInfo& ping_agent_info();

}  // namespace evos::net
