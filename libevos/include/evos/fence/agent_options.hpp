// The calling convention of fence agents (fence-agents' FenceAgentAPI,
// https://github.com/ClusterLabs/fence-agents/blob/main/doc/FenceAgentAPI.md), pure:
//
//   stdin (what Pacemaker's fencer writes): one "argument=value" per line; lines beginning with
//   '#' are ignored; if an argument is given several times the last value is used; arguments the
//   agent does not know "should be ignored". As fence-agents' fencing.py does, leading white space
//   is stripped, '-' and '_' in names are the same, and one pair of double quotes around a value
//   is removed.
//   argv (for people): "-o ACTION", "-n PLUG", "--name value" or "--name=value" ('-' or '_').
//
// The target: Pacemaker's fencer always passes the target's node name as `nodename`, and the
// same name (or its pcmk_host_map alias) under the agent's host argument (`plug`, or `port` for
// older agents) (lib/fencing/st_actions.c, make_args). The API gives `port` precedence over
// `nodename`; `plug` is fencing.py's name for `port`. The fencer passes no timeout: it kills the
// agent when the device's action timeout (pcmk_off_timeout, default stonith-timeout) runs out.
#pragma once

#include <evos/error.hpp>

#include <map>
#include <span>
#include <string>
#include <string_view>

namespace evos::fence {

using Options = std::map<std::string, std::string>;

// The most stdin the agents read: Pacemaker writes a few hundred bytes.
inline constexpr std::size_t max_input_bytes = 64 * 1024;

// stdin text -> options (names normalized to '_', "option" folded into "action", "port" into
// "plug"). Never fails: a line without '=' is ignored, as unknown arguments are. Values are
// checked by whoever reads them.
Options parse_stdin_options(std::string_view text);

// argv (without argv[0]) -> options. `flags` are the options that take no value ("verbose");
// every other option takes one. A word that is not an option, or an option without its value, is
// Errc::invalid_argument (a person typed it: say so rather than ignore it).
Result<Options> parse_argv_options(std::span<const std::string> args, std::span<const std::string_view> flags);

// "off", "reboot", ... in lower case (the API's actions are case-insensitive); "reboot" (the
// fence-agents default) when none was given.
std::string action_of(const Options& options);

// The node to act on: plug (or port), else nodename; "" when none was given.
std::string target_of(const Options& options);

}  // namespace evos::fence
