#include <evos/check/cluster_check.hpp>

namespace evos::check {

std::vector<Finding> merge_findings(const std::vector<network::Finding>& networks, const std::vector<vm::StorageFinding>& storage) {
  std::vector<Finding> out;
  out.reserve(networks.size() + storage.size());
  for (const auto& f : networks)
    out.push_back({f.resource, f.node, std::string(network::to_string(f.problem)), f.source, f.detail, f.blocking()});
  for (const auto& f : storage)
    if (f.problem != vm::StorageProblem::node_unreachable)
      out.push_back({f.resource, f.node, std::string(vm::to_string(f.problem)), f.path, f.detail, f.blocking()});
  return out;
}

int Report::blocking() const {
  int n = 0;
  for (const auto& f : findings) n += f.blocking ? 1 : 0;
  return n;
}

}  // namespace evos::check
