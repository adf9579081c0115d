// An agent's declaration (parameters and actions) and its OCF meta-data XML.
#pragma once

#include <evos/ocf/params.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace evos::ocf {

struct ActionSpec {
  std::string name;
  int timeout_s = 20;
  std::optional<int> interval_s;  // only for recurring actions (monitor)
  std::optional<int> depth;       // OCF_CHECK_LEVEL of a monitor
  std::string role;               // "Promoted" / "Unpromoted" for promotable agents
};

struct AgentInfo {
  std::string name;     // the agent's type, e.g. "vm"
  std::string version;  // the agent's own version
  std::string shortdesc;
  std::string longdesc;
  std::vector<ParamSpec> params;
  std::vector<ActionSpec> actions;

  [[nodiscard]] const ActionSpec* action(std::string_view name) const;
};

// The action names OCF defines: the OCF 1.0 DTD's (ra-api-1.dtd) plus OCF 1.1's reload-agent.
std::span<const std::string_view> ocf_action_names();

// OCF 1.1 meta-data (<version>1.1</version>, reloadable parameters) that is also valid against
// the OCF 1.0 DTD ocf-tester checks: the DOCTYPE's internal subset declares the two OCF 1.1
// additions the 1.0 DTD lacks, the reloadable attribute and the reload-agent action name (the
// action name stays an enumeration, ocf_action_names(), so the DTD still rejects a wrong one).
// An internal subset is read before the external DTD, so its declarations bind first (XML 1.0,
// section 3.3).
std::string render_metadata(const AgentInfo& info);

}  // namespace evos::ocf
