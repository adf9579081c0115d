// The parameters of ocf:evos:mirror: declared once (specs), read into a typed struct.
#pragma once

#include <evos/error.hpp>
#include <evos/ocf/params.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace evos::mirror {

struct MirrorParams {
  std::string resource;            // the DRBD resource (drbd_resource)
  std::string config_file;         // drbdadm -c FILE; "" = drbdadm's default
  bool protect_sync_source = true;  // refuse demote/stop while this node feeds a resync

  static Result<MirrorParams> from(const ocf::ParamValues& values);
};

const std::vector<ocf::ParamSpec>& mirror_param_specs();

// The clone's meta attributes as Pacemaker passes them (CRM_meta_clone_max, ..._clone_node_max,
// ..._promoted_max or ..._master_max, ..._promoted_node_max or ..._master_node_max; "" = unset, as
// in a manual run). A mirror has two nodes: at most two instances, one per node, one Primary per
// node, and at most two Primaries (two only for a live migration).
struct CloneMeta {
  int promoted_max = 1;
  [[nodiscard]] bool dual_primary() const { return promoted_max >= 2; }
};
Result<CloneMeta> clone_meta(std::string_view clone_max, std::string_view clone_node_max, std::string_view promoted_max,
                             std::string_view promoted_node_max);

}  // namespace evos::mirror
