#include <evos/drbd/control.hpp>
#include <evos/mirror/params.hpp>
#include <evos/text_checks.hpp>

#include <charconv>
#include <optional>

namespace evos::mirror {

using ocf::ParamSpec;
using ocf::ParamType;
using text::Syntax;

const std::vector<ParamSpec>& mirror_param_specs() {
  static const std::vector<ParamSpec> specs = [] {
    std::vector<ParamSpec> s;
    s.push_back({.name = "drbd_resource", .required = true, .unique = true,
                 .shortdesc = "DRBD resource",
                 .longdesc = "The name of the DRBD resource this clone runs ([A-Za-z0-9][A-Za-z0-9_.-]*, at most 63 "
                             "bytes, not 'all'), as in its .res file.",
                 .syntax = Syntax::token});
    s.push_back({.name = "drbdconf",
                 .shortdesc = "drbdadm configuration file",
                 .longdesc = "The configuration file drbdadm reads (drbdadm -c). Empty: drbdadm's default "
                             "(/etc/drbd.conf, which includes /etc/drbd.d/*.res).",
                 .syntax = Syntax::path});
    s.push_back({.name = "protect_sync_source", .type = ParamType::boolean, .default_value = "true",
                 .reloadable = true,
                 .shortdesc = "Refuse to demote or stop the sync source",
                 .longdesc = "While this node sends a resync to a peer whose data is not UpToDate, it holds the only "
                             "UpToDate copy: demote and stop then fail with a reason that says so, instead of taking "
                             "the data away from the peer, and the node keeps its promotion score. Configure demote and "
                             "stop with on-fail=block so that such a refusal is not escalated to fencing."});
    return s;
  }();
  return specs;
}

Result<MirrorParams> MirrorParams::from(const ocf::ParamValues& v) {
  MirrorParams p;
  p.resource = v.text("drbd_resource");
  if (auto problem = drbd::resource_name_problem(p.resource))
    return make_error(Errc::invalid_config, "parameter 'drbd_resource' {} {}", text::quote_for_message(p.resource),
                      *problem);
  p.config_file = v.text("drbdconf");
  p.protect_sync_source = v.boolean("protect_sync_source");
  return p;
}

namespace {

// nullopt for unset; -1 for text that is not a small non-negative integer.
std::optional<int> meta_int(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0) return -1;
  return value;
}

}  // namespace

Result<CloneMeta> clone_meta(std::string_view clone_max, std::string_view clone_node_max, std::string_view promoted_max,
                             std::string_view promoted_node_max) {
  auto check = [](std::string_view name, std::string_view text, int low, int high) -> std::optional<Error> {
    auto v = meta_int(text);
    if (v && (*v < low || *v > high))
      return make_error(Errc::invalid_config, "clone meta attribute '{}' is {}; a two-node mirror needs {}{}", name,
                        text::quote_for_message(text), low == high ? "" : fmt::format("{} to ", low), high);
    return std::nullopt;
  };
  if (auto e = check("clone-max", clone_max, 1, 2)) return *e;
  if (auto e = check("clone-node-max", clone_node_max, 1, 1)) return *e;
  if (auto e = check("promoted-max", promoted_max, 0, 2)) return *e;
  if (auto e = check("promoted-node-max", promoted_node_max, 1, 1)) return *e;
  CloneMeta m;
  if (auto v = meta_int(promoted_max)) m.promoted_max = *v;
  return m;
}

}  // namespace evos::mirror
