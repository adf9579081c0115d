// What `evosctl mirror create` decides before it writes a mirror's DRBD .res file (pure): the
// names a person typed, the --host specs, the fence handler, the file's path. drbd::render_res
// then validates the whole mirror and renders it; mirror/admin_io.hpp writes it.
#pragma once

#include <evos/drbd/mirror_config.hpp>
#include <evos/error.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace evos::mirror {

// Errc::invalid_argument "mirror 'NAME' <problem>" unless NAME is a DRBD resource name
// (drbd::resource_name_problem).
Result<void> check_mirror_name(const std::string& name);

// Errc::invalid_argument "<what> 'NODE' is not a node name" unless NODE is a token
// (text::Syntax::token) that does not start with '-' (it becomes an argv element of Pacemaker's
// tools, which would read it as an option).
Result<void> check_node_name(const std::string& node, std::string_view what);

// "NAME,NODE_ID,ADDRESS,DISK[,META_DISK]" (evosctl's --host). NODE_ID is 0..31 in decimal; the
// other fields are checked by drbd::render_res with the whole mirror.
Result<drbd::Host> parse_host(std::string_view spec);

// --fence-handler: "evos" (DRBD's fence-peer/unfence-peer run `evos_handler`, evos' handler) or
// "linbit" (no handler is written; drbd-utils' crm-fence-peer scripts are the administrator's).
struct MirrorRequest {
  std::string name;
  int minor = -1;
  std::vector<std::string> hosts;  // exactly two --host specs
  std::string fence_handler = "evos";
  std::string evos_handler;        // the installed evos-drbd-fence
};

// The mirror to render, or Errc::invalid_argument naming the first problem.
Result<drbd::Mirror> plan_mirror(const MirrorRequest& request);

// Where the .res file goes: `output` if given, else /etc/drbd.d/NAME.res (drbd.conf's usual
// `include "drbd.d/*.res"`); Errc::invalid_argument unless it is an absolute plain path.
Result<std::string> res_file_path(const std::string& name, const std::string& output);

}  // namespace evos::mirror
