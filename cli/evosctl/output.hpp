// evosctl's output layer: every listing renders as text or as JSON (--json), from one data model.
#pragma once

#include <evos/vm/hypervisor.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace evosctl {

nlohmann::json to_json(const evos::vm::DomainSummary& d);
std::string domain_table(const std::vector<evos::vm::DomainSummary>& domains);
std::string domain_details(const evos::vm::DomainSummary& d);

}  // namespace evosctl
