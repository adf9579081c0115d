#include <evos/drbd/control.hpp>
#include <evos/mirror/create.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>

namespace evos::mirror {

Result<void> check_mirror_name(const std::string& name) {
  if (auto p = drbd::resource_name_problem(name))
    return make_error(Errc::invalid_argument, "mirror {} {}", text::quote_for_message(name), *p);
  return {};
}

Result<void> check_node_name(const std::string& node, std::string_view what) {
  if (node.empty() || node.front() == '-' || text::syntax_problem(node, text::Syntax::token))
    return make_error(Errc::invalid_argument, "{} {} is not a node name", what, text::quote_for_message(node));
  return {};
}

Result<drbd::Host> parse_host(std::string_view spec) {
  std::vector<std::string> f;
  for (std::size_t start = 0;;) {
    const auto comma = spec.find(',', start);
    f.emplace_back(spec.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (f.size() != 4 && f.size() != 5)
    return make_error(Errc::invalid_argument, "--host {}: expected NAME,NODE_ID,ADDRESS,DISK[,META_DISK]",
                      text::quote_for_message(spec));
  if (f[1].empty() || f[1].size() > 2 || f[1].find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(f[1]) > 31)
    return make_error(Errc::invalid_argument, "--host {}: node id {} is not 0..31", text::quote_for_message(f[0]),
                      text::quote_for_message(f[1]));
  drbd::Host h;
  h.name = f[0];
  h.node_id = std::stoi(f[1]);
  h.address = f[2];
  h.disk = f[3];
  if (f.size() == 5) h.meta_disk = f[4];
  return h;
}

Result<drbd::Mirror> plan_mirror(const MirrorRequest& request) {
  if (auto r = check_mirror_name(request.name); !r) return std::move(r).error();
  if (request.hosts.size() != 2) return make_error(Errc::invalid_argument, "a mirror has exactly two --host options");
  drbd::Mirror m;
  m.resource = request.name;
  m.minor = request.minor;
  for (std::size_t i = 0; i < 2; ++i) {
    auto h = parse_host(request.hosts[i]);
    if (!h) return std::move(h).error();
    m.hosts[i] = std::move(*h);
  }
  if (request.fence_handler == "evos") {
    m.fence_peer = {request.evos_handler, {"fence"}};
    m.unfence_peer = {request.evos_handler, {"unfence"}};
  } else if (request.fence_handler != "linbit") {
    return make_error(Errc::invalid_argument, "--fence-handler {} is not evos or linbit",
                      text::quote_for_message(request.fence_handler));
  }
  return m;
}

Result<std::string> res_file_path(const std::string& name, const std::string& output) {
  if (output.empty()) {
    if (auto r = check_mirror_name(name); !r) return std::move(r).error();
  }
  std::string path = output.empty() ? "/etc/drbd.d/" + name + ".res" : output;
  if (auto p = text::syntax_problem(path, text::Syntax::path))
    return make_error(Errc::invalid_argument, "--output {} {}", text::quote_for_message(path), *p);
  if (path.back() == '/') return make_error(Errc::invalid_argument, "--output {} names a directory", text::quote_for_message(path));
  return path;
}

}  // namespace evos::mirror
