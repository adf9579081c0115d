#include <evos/snapshot/catalogue.hpp>

#include <evos/vm/domain_copy.hpp>
#include <evos/vm/domain_disks.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include <set>
#include <sstream>

namespace evos::snapshot {
namespace {

using nlohmann::json;

Error bad(std::string message) { return Error(Errc::invalid_config, "snapshot catalogue: " + std::move(message)); }

// Typed field readers: a missing field or one of the wrong type is an error naming it.
Result<std::string> text_field(const json& j, const char* key, std::string_view where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return bad(fmt::format("{} has no text field \"{}\"", where, key));
  return it->get<std::string>();
}

Result<std::optional<std::string>> optional_text(const json& j, const char* key, std::string_view where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return bad(fmt::format("{}: \"{}\" is neither text nor null", where, key));
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::map<std::string, std::string>> disk_map(const json& j, const char* key, std::string_view where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_object() || it->empty()) return bad(fmt::format("{} has no disks (\"{}\")", where, key));
  std::map<std::string, std::string> out;
  for (const auto& [target, file] : it->items()) {
    if (!file.is_string()) return bad(fmt::format("{}: disk {} is not a file name", where, target));
    if (target.empty()) return bad(fmt::format("{}: a disk without a target", where));
    out.emplace(target, file.get<std::string>());
  }
  return out;
}

Result<void> known_images(const Catalogue& c, const std::map<std::string, std::string>& disks, std::string_view where) {
  for (const auto& [target, file] : disks)
    if (!c.images.count(file))
      return bad(fmt::format("{}: disk {} names image {}, which the catalogue does not list", where, target, file));
  return {};
}

json disks_json(const std::map<std::string, std::string>& disks) {
  json j = json::object();
  for (const auto& [t, f] : disks) j[t] = f;
  return j;
}

json opt(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

void set_attribute(pugi::xml_node node, const char* name, const std::string& value) {
  auto a = node.attribute(name);
  if (!a) a = node.append_attribute(name);
  a.set_value(value.c_str());
}

Result<pugi::xml_node> load_domain(pugi::xml_document& doc, std::string_view xml) {
  const auto parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed)
    return make_error(Errc::invalid_config, "the domain XML is not XML: {} at offset {}", parsed.description(), parsed.offset);
  auto domain = doc.child("domain");
  if (!domain) return Error(Errc::invalid_config, "the domain XML has no <domain>");
  return domain;
}

}  // namespace

std::string_view to_string(Consistency c) {
  switch (c) {
    case Consistency::frozen: return "frozen";
    case Consistency::crash_consistent: return "crash-consistent";
    case Consistency::offline: return "offline";
  }
  return "offline";
}

Result<Consistency> parse_consistency(std::string_view text) {
  for (auto c : {Consistency::frozen, Consistency::crash_consistent, Consistency::offline})
    if (text == to_string(c)) return c;
  return make_error(Errc::invalid_config, "consistency '{}' is not frozen, crash-consistent or offline", text);
}

const Snapshot* Catalogue::find(std::string_view name) const {
  for (const auto& s : snapshots)
    if (s.name == name) return &s;
  return nullptr;
}

std::vector<std::string> Catalogue::children(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& s : snapshots)
    if (s.parent && *s.parent == name) out.push_back(s.name);
  return out;
}

std::optional<std::string> snapshot_name_problem(std::string_view name) {
  if (name.size() > 64) return "a snapshot name is longer than 64 characters";
  if (auto p = vm::name_problem(name)) {
    std::string text = *p;
    // vm::name_problem speaks of "VM name"; say what was checked.
    if (auto at = text.find("VM name"); at != std::string::npos) text.replace(at, 7, "snapshot name");
    return text;
  }
  return std::nullopt;
}

Result<Catalogue> parse_catalogue(std::string_view text, std::string_view vm) {
  const json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return bad("not JSON");
  if (!j.is_object()) return bad("not a JSON object");
  auto format = text_field(j, "format", "the catalogue");
  if (!format) return std::move(format).error();
  if (*format != catalogue_format) return bad(fmt::format("format is '{}', not '{}'", *format, catalogue_format));
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer()) return bad("no integer \"version\"");
  if (version->get<long long>() != catalogue_version)
    return bad(fmt::format("version {} (this evos reads version {}{})", version->get<long long>(), catalogue_version,
                           version->get<long long>() > catalogue_version ? "; written by a newer evos" : ""));
  auto kind = text_field(j, "kind", "the catalogue");
  if (!kind) return std::move(kind).error();
  // One kind per VM, never mixed (docs/vm-ops.md: libvirt's data-loss bugs live where internal and
  // external snapshots meet).
  if (*kind != "external") return bad(fmt::format("kind '{}' (evos makes external qcow2 overlays only)", *kind));
  Catalogue c;
  auto name = text_field(j, "vm", "the catalogue");
  if (!name) return std::move(name).error();
  if (*name != vm) return bad(fmt::format("it is the catalogue of VM '{}', not of '{}'", *name, vm));
  c.vm = *name;
  auto serial = j.find("next_serial");
  if (serial == j.end() || !serial->is_number_unsigned() || serial->get<unsigned long long>() == 0 ||
      serial->get<unsigned long long>() > 1000000000ULL)
    return bad("no positive integer \"next_serial\"");
  c.next_serial = static_cast<unsigned>(serial->get<unsigned long long>());

  auto images = j.find("images");
  if (images == j.end() || !images->is_array()) return bad("no \"images\" list");
  for (const auto& i : *images) {
    if (!i.is_object()) return bad("an image is not an object");
    auto file = text_field(i, "file", "an image");
    if (!file) return std::move(file).error();
    const std::string where = fmt::format("image {}", *file);
    if (file->empty() || file->front() != '/') return bad(fmt::format("{}: not an absolute path", where));
    auto fmt_ = text_field(i, "format", where);
    if (!fmt_) return std::move(fmt_).error();
    if (*fmt_ != "qcow2" && *fmt_ != "raw") return bad(fmt::format("{}: format '{}' is not qcow2 or raw", where, *fmt_));
    auto backing = optional_text(i, "backing", where);
    if (!backing) return std::move(backing).error();
    auto owned = i.find("owned");
    if (owned == i.end() || !owned->is_boolean()) return bad(fmt::format("{} has no true/false \"owned\"", where));
    if (!c.images.emplace(*file, Image{*file, *fmt_, *backing, owned->get<bool>()}).second)
      return bad(fmt::format("{} is listed twice", where));
  }
  for (const auto& [file, image] : c.images) {
    if (image.backing && !c.images.count(*image.backing))
      return bad(fmt::format("image {}: its backing file {} is not listed", file, *image.backing));
    // A loop of backing files would be an image that is its own ancestor.
    std::set<std::string> seen{file};
    for (auto b = image.backing; b; b = c.images.at(*b).backing)
      if (!seen.insert(*b).second) return bad(fmt::format("image {}: its backing files form a loop", file));
  }

  auto snapshots = j.find("snapshots");
  if (snapshots == j.end() || !snapshots->is_array()) return bad("no \"snapshots\" list");
  for (const auto& s : *snapshots) {
    if (!s.is_object()) return bad("a snapshot is not an object");
    Snapshot snap;
    auto n = text_field(s, "name", "a snapshot");
    if (!n) return std::move(n).error();
    if (auto p = snapshot_name_problem(*n)) return bad(*p);
    snap.name = *n;
    const std::string where = fmt::format("snapshot '{}'", snap.name);
    if (c.find(snap.name)) return bad(fmt::format("{} is listed twice", where));
    auto parent = optional_text(s, "parent", where);
    if (!parent) return std::move(parent).error();
    // Parents come before their children (the order snapshots are taken in): no loops possible.
    if (*parent && !c.find(**parent)) return bad(fmt::format("{}: parent '{}' is not listed before it", where, **parent));
    snap.parent = *parent;
    for (auto [key, field] :
         {std::pair{"created", &snap.created}, std::pair{"node", &snap.node}, std::pair{"domain_xml", &snap.domain_xml}}) {
      auto v = text_field(s, key, where);
      if (!v) return std::move(v).error();
      *field = *v;
    }
    auto cons = text_field(s, "consistency", where);
    if (!cons) return std::move(cons).error();
    auto cc = parse_consistency(*cons);
    if (!cc) return bad(fmt::format("{}: {}", where, cc.error().message()));
    snap.consistency = *cc;
    auto running = s.find("was_running");
    if (running == s.end() || !running->is_boolean()) return bad(fmt::format("{} has no true/false \"was_running\"", where));
    snap.was_running = running->get<bool>();
    auto disks = disk_map(s, "disks", where);
    if (!disks) return std::move(disks).error();
    snap.disks = std::move(*disks);
    if (auto r = known_images(c, snap.disks, where); !r) return r.error();
    c.snapshots.push_back(std::move(snap));
  }

  auto current = j.find("current");
  if (current == j.end() || !current->is_object()) return bad("no \"current\" state");
  auto cp = optional_text(*current, "parent", "the current state");
  if (!cp) return std::move(cp).error();
  if (*cp && !c.find(**cp)) return bad(fmt::format("the current state's parent '{}' is not a listed snapshot", **cp));
  c.current_parent = *cp;
  auto cd = disk_map(*current, "disks", "the current state");
  if (!cd) return std::move(cd).error();
  c.current = std::move(*cd);
  if (auto r = known_images(c, c.current, "the current state"); !r) return r.error();

  auto copies = j.find("copies");
  if (copies == j.end() || !copies->is_array()) return bad("no \"copies\" list");
  for (const auto& k : *copies) {
    if (!k.is_object()) return bad("a copy is not an object");
    Copy copy;
    auto v = text_field(k, "vm", "a copy");
    if (!v) return std::move(v).error();
    if (auto p = vm::name_problem(*v)) return bad(*p);
    copy.vm = *v;
    const std::string where = fmt::format("copy '{}'", copy.vm);
    auto s = text_field(k, "snapshot", where);
    if (!s) return std::move(s).error();
    if (!c.find(*s)) return bad(fmt::format("{}: snapshot '{}' is not listed", where, *s));
    copy.snapshot = *s;
    auto disks = disk_map(k, "disks", where);
    if (!disks) return std::move(disks).error();
    copy.disks = std::move(*disks);
    c.copies.push_back(std::move(copy));
  }
  return c;
}

std::string render_catalogue(const Catalogue& c) {
  json images = json::array();
  for (const auto& [file, i] : c.images)
    images.push_back({{"file", i.file}, {"format", i.format}, {"backing", opt(i.backing)}, {"owned", i.owned}});
  json snaps = json::array();
  for (const auto& s : c.snapshots)
    snaps.push_back({{"name", s.name}, {"parent", opt(s.parent)}, {"created", s.created}, {"node", s.node},
                     {"consistency", std::string(to_string(s.consistency))}, {"was_running", s.was_running},
                     {"disks", disks_json(s.disks)}, {"domain_xml", s.domain_xml}});
  json copies = json::array();
  for (const auto& k : c.copies) copies.push_back({{"vm", k.vm}, {"snapshot", k.snapshot}, {"disks", disks_json(k.disks)}});
  json j{{"format", catalogue_format}, {"version", catalogue_version}, {"kind", "external"}, {"vm", c.vm},
         {"next_serial", c.next_serial}, {"images", images}, {"snapshots", snaps},
         {"current", {{"parent", opt(c.current_parent)}, {"disks", disks_json(c.current)}}}, {"copies", copies}};
  return j.dump(2) + "\n";
}

Result<std::vector<DomainDisk>> domain_disks(std::string_view xml) {
  auto devices = vm::domain_disks(xml);
  if (!devices) return std::move(devices).error();
  std::vector<DomainDisk> out;
  for (const auto& dev : *devices) {
    if (dev.type != "file" && dev.type != "block")
      return make_error(Errc::invalid_config, "disk {} is of type '{}': evos snapshots file and block disks only", dev.target, dev.type);
    if (dev.source.empty() || dev.source.front() != '/')
      return make_error(Errc::invalid_config, "disk {} has no absolute source path", dev.target);
    const std::string format = dev.format.empty() ? "raw" : dev.format;
    if (format != "qcow2" && format != "raw")
      return make_error(Errc::invalid_config, "disk {} is in format '{}': evos snapshots qcow2 and raw disks", dev.target, format);
    out.push_back({.target = dev.target, .type = dev.type, .source = dev.source, .format = format});
  }
  if (out.empty()) return Error(Errc::invalid_config, "the domain has no disk to snapshot");
  return out;
}

Result<std::string> domain_name(std::string_view xml) {
  pugi::xml_document doc;
  auto domain = load_domain(doc, xml);
  if (!domain) return std::move(domain).error();
  std::string name = domain->child("name").text().as_string();
  if (name.empty()) return Error(Errc::invalid_config, "the domain XML has no <name>");
  return name;
}

Result<std::string> with_disk_sources(std::string_view xml, const std::map<std::string, DiskSource>& disks) {
  pugi::xml_document doc;
  auto domain = load_domain(doc, xml);
  if (!domain) return std::move(domain).error();
  std::set<std::string> placed;
  for (auto disk : domain->child("devices").children("disk")) {
    if (std::string(disk.attribute("device").as_string("disk")) != "disk") continue;
    const std::string target = disk.child("target").attribute("dev").as_string();
    auto it = disks.find(target);
    if (it == disks.end()) continue;
    placed.insert(target);
    set_attribute(disk, "type", "file");
    disk.remove_child("source");
    disk.remove_child("backingStore");
    auto source = disk.child("target") ? disk.insert_child_before("source", disk.child("target")) : disk.append_child("source");
    source.append_attribute("file") = it->second.file.c_str();
    auto driver = disk.child("driver");
    if (!driver) {
      driver = disk.prepend_child("driver");
      driver.append_attribute("name") = "qemu";
    }
    set_attribute(driver, "type", it->second.format);
  }
  for (const auto& [target, s] : disks)
    if (!placed.count(target)) return make_error(Errc::invalid_config, "the domain has no disk {}", target);
  std::ostringstream out;
  domain->print(out, "  ", pugi::format_indent | pugi::format_no_declaration);
  return out.str();
}

Result<Catalogue> initial_catalogue(std::string_view vm, std::string_view domain_xml) {
  auto disks = domain_disks(domain_xml);
  if (!disks) return std::move(disks).error();
  Catalogue c;
  c.vm = std::string(vm);
  for (const auto& d : *disks) {
    if (c.images.count(d.source)) return make_error(Errc::invalid_config, "two disks of the domain use {}", d.source);
    c.images.emplace(d.source, Image{d.source, d.format, std::nullopt, false});
    c.current.emplace(d.target, d.source);
  }
  return c;
}

Result<void> check_definition(const Catalogue& c, std::string_view domain_xml) {
  auto disks = domain_disks(domain_xml);
  if (!disks) return std::move(disks).error();
  std::set<std::string> seen;
  for (const auto& d : *disks) {
    seen.insert(d.target);
    auto it = c.current.find(d.target);
    if (it == c.current.end())
      return make_error(Errc::invalid_config,
                        "disk {} of VM '{}' is not in its snapshot catalogue (added after the first snapshot?): evos cannot "
                        "snapshot it consistently with the others",
                        d.target, c.vm);
    if (it->second != d.source)
      return make_error(Errc::invalid_config,
                        "the definition of VM '{}' has disk {} on {}, its snapshot catalogue on {}: an interrupted snapshot "
                        "command, or a change behind evos's back; nothing was changed (see docs/vm-ops.md, \"Snapshots\")",
                        c.vm, d.target, d.source, it->second);
  }
  for (const auto& [target, file] : c.current)
    if (!seen.count(target))
      return make_error(Errc::invalid_config, "the snapshot catalogue of VM '{}' has disk {} ({}), its definition does not", c.vm,
                        target, file);
  return {};
}

}  // namespace evos::snapshot
