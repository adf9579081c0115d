#include <evos/network/nodes.hpp>

#include <algorithm>

namespace evos::network {

Result<std::string> node_uri(std::string_view tpl, std::string_view node) {
  // A host name, as it stands in the URI's authority: no '@' (user), ':' (port), '/', '?'.
  const bool ok = !node.empty() && std::all_of(node.begin(), node.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
  });
  if (!ok) return make_error(Errc::invalid_argument, "node name '{}' is not a host name (A-Z a-z 0-9 . - _) to put in a libvirt URI", node);
  std::string out;
  for (std::size_t i = 0; i < tpl.size(); ++i) {
    if (tpl[i] == '%' && i + 1 < tpl.size() && tpl[i + 1] == 'n') {
      out += node;
      ++i;
    } else {
      out += tpl[i];
    }
  }
  return out;
}

Result<std::vector<std::string>> default_hypervisors(const std::string& local_uri, const cluster::Membership* m,
                                                     std::string_view tpl) {
  std::vector<std::string> out{local_uri};
  if (!m) return out;
  for (const auto& n : m->nodes) {
    if (n.nodeid == m->local_nodeid) continue;
    auto uri = node_uri(tpl, n.name);
    if (!uri) return std::move(uri).error().context("Corosync nodelist");
    out.push_back(std::move(*uri));
  }
  return out;
}

}  // namespace evos::network
