#include <evos/cluster/attributes.hpp>
#include <evos/file/atomic_write.hpp>
#include <evos/mirror/admin_io.hpp>

#include <unistd.h>

#include <climits>

namespace evos::mirror {

std::string local_node_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return {};
  return buf;
}

Result<void> write_res_file(const std::string& path, std::string_view text, bool replace) {
  return file::write_atomically(path, text, {.mode = 0644, .replace = replace});
}

Result<void> request_peer_part(const std::string& resource, const std::string& peer, ResolveRequest part,
                               Deadline deadline) {
  return cluster::Attributes().update_on(peer, resolve_attribute(resource), std::string(to_string(part)), deadline);
}

Result<void> put_in_standby(const std::string& node, Deadline deadline) {
  auto r = cluster::Attributes().set_permanent(node, "standby", "on", deadline);
  if (!r) return std::move(r).error().context("put the node in standby");
  return {};
}

}  // namespace evos::mirror
