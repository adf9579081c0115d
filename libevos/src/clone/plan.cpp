#include <evos/clone/plan.hpp>

#include <evos/vm/domain_copy.hpp>
#include <evos/vm/domain_disks.hpp>

#include <fmt/core.h>
#include <pugixml.hpp>

#include <set>
#include <sstream>

namespace evos::clone {
namespace {

Result<pugi::xml_node> load_domain(pugi::xml_document& doc, std::string_view xml) {
  const auto parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed)
    return make_error(Errc::invalid_config, "the domain XML is not XML: {} at offset {}", parsed.description(), parsed.offset);
  auto domain = doc.child("domain");
  if (!domain) return Error(Errc::invalid_config, "the domain XML has no <domain>");
  return domain;
}

// The template element: any element in the template namespace under <metadata>, whatever
// prefix a tool gave it (libvirt re-serialises metadata with the prefix it was given).
pugi::xml_node template_mark(pugi::xml_node domain) {
  for (auto child : domain.child("metadata").children()) {
    const std::string name = child.name();
    const auto colon = name.find(':');
    const std::string attr = colon == std::string::npos ? "xmlns" : "xmlns:" + name.substr(0, colon);
    if (std::string(child.attribute(attr.c_str()).as_string()) == template_namespace) return child;
  }
  return {};
}

}  // namespace

std::string_view to_string(Kind k) { return k == Kind::full ? "full" : "linked"; }

std::string_view to_string(Method m) {
  switch (m) {
    case Method::reflink: return "reflink";
    case Method::overlay: return "overlay";
    case Method::copy: return "copy";
  }
  return "?";
}

Result<std::vector<DomainDisk>> domain_disks(std::string_view domain_xml) {
  auto devices = vm::domain_disks(domain_xml);
  if (!devices) return std::move(devices).error();
  std::vector<DomainDisk> disks;
  for (const auto& dev : *devices) {
    if (dev.type != "file")
      return make_error(Errc::invalid_config, "disk {} is not a file (type='{}'): evos clones file disks only", dev.target, dev.type);
    if (dev.source.empty() || dev.source.front() != '/')
      return make_error(Errc::invalid_config, "disk {} has no absolute <source file>", dev.target);
    if (dev.source.find('\n') != std::string::npos)
      return make_error(Errc::invalid_config, "disk {}'s <source file> holds a newline", dev.target);
    if (dev.format != "qcow2" && dev.format != "raw")
      return make_error(Errc::invalid_config, "disk {} has format '{}' (<driver type>): evos clones qcow2 and raw disks",
                        dev.target, dev.format);
    disks.push_back({.target = dev.target, .file = dev.source, .format = dev.format});
  }
  return disks;
}

Result<bool> is_template(std::string_view domain_xml) {
  pugi::xml_document doc;
  auto domain = load_domain(doc, domain_xml);
  if (!domain) return std::move(domain).error();
  return static_cast<bool>(template_mark(*domain));
}

Result<std::string> mark_template(std::string_view domain_xml) {
  pugi::xml_document doc;
  auto domain = load_domain(doc, domain_xml);
  if (!domain) return std::move(domain).error();
  if (!template_mark(*domain)) {
    auto metadata = domain->child("metadata");
    // formatdomain.html: <metadata> belongs among the general metadata, after <description>.
    if (!metadata) {
      auto after = domain->child("description") ? domain->child("description")
                   : domain->child("title")     ? domain->child("title")
                   : domain->child("uuid")      ? domain->child("uuid")
                                                : domain->child("name");
      metadata = after ? domain->insert_child_after("metadata", after) : domain->prepend_child("metadata");
    }
    auto mark = metadata.append_child("evos-template:template");
    mark.append_attribute("xmlns:evos-template") = template_namespace;
  }
  std::ostringstream out;
  domain->print(out, "  ", pugi::format_indent | pugi::format_no_declaration);
  return out.str();
}

Result<ClonePlan> plan_clone(const vm::VmLayout& source, const vm::VmLayout& target, Kind kind, const SourceFacts& facts) {
  if (source.dir() == target.dir())
    return make_error(Errc::invalid_argument, "a clone of {} cannot have the name {} itself", source.name, target.name);
  auto templ = is_template(facts.definition);
  if (!templ) return std::move(templ).error().context(fmt::format("read {}", source.definition()));
  if (kind == Kind::linked && !*templ)
    return make_error(Errc::invalid_argument,
                      "{} is not a template: a linked clone's disks are overlays on its disks, which must never change "
                      "(make it one first: evosctl vm template {})",
                      source.name, source.name);
  auto disks = domain_disks(facts.definition);
  if (!disks) return std::move(disks).error().context(fmt::format("clone {}", source.name));
  if (disks->empty()) return make_error(Errc::invalid_config, "{} has no disk to clone", source.name);

  ClonePlan plan{.target = target, .kind = kind, .disks = {}, .definition = {}};
  vm::DomainCopy copy{.new_name = target.name, .disks = {}, .drop_other_disks = false, .file_dir = target.dir()};
  for (const auto& d : *disks) {
    auto chain = facts.chains.find(d.file);
    if (chain == facts.chains.end() || chain->second.empty())
      return make_error(Errc::backend, "no image information for disk {} ({})", d.target, d.file);
    if (chain->second.front().format != d.format)
      return make_error(Errc::backend, "disk {} ({}) is a {} image, but the definition opens it as {}", d.target, d.file,
                        chain->second.front().format, d.format);
    DiskStep step{.target = d.target, .source = d.file, .source_format = d.format, .file = {}, .format = d.format,
                  .method = Method::reflink, .why = {}};
    if (kind == Kind::linked) {
      step.method = Method::overlay;
      step.format = "qcow2";
      step.why = fmt::format("a qcow2 overlay on the template's {}", d.file);
    } else if (chain->second.size() > 1) {
      // A reflink of an overlay would still depend on its backing file: a full clone must stand alone.
      step.method = Method::copy;
      step.why = fmt::format("{} is an overlay on {}: qemu-img convert copies the whole chain into one image", d.file,
                             *chain->second.front().backing);
    } else {
      step.why = "a reflink copy (shares blocks until written), or a real copy where the file system has no reflinks";
    }
    step.file = target.disk(d.target, step.format);
    copy.disks[d.target] = vm::CopiedDisk{.file = step.file, .format = step.format};
    plan.disks.push_back(std::move(step));
  }
  auto xml = vm::copy_domain(facts.definition, copy);
  if (!xml) return std::move(xml).error().context(fmt::format("clone {}", source.name));
  plan.definition = std::move(*xml);
  return plan;
}

Result<std::string> snapshot_source(const vm::VmLayout& source, const snapshot::Catalogue& catalogue, std::string_view snap,
                                    Kind kind) {
  const auto* s = catalogue.find(snap);
  if (!s) return make_error(Errc::not_found, "VM {} has no snapshot '{}' (evosctl vm snapshot list {})", source.name, snap, source.name);
  if (kind == Kind::linked)
    return make_error(Errc::invalid_argument,
                      "a linked clone of snapshot '{}' is a VM booted from it: evosctl vm snapshot boot {} {} --as NEW "
                      "(its overlays keep the snapshot from being deleted); --from-snapshot makes full clones",
                      snap, source.name, snap);
  vm::DomainCopy frozen{.new_name = source.name, .disks = {}, .drop_other_disks = false, .file_dir = source.dir()};
  for (const auto& [target, file] : s->disks) {
    auto image = catalogue.images.find(file);
    if (image == catalogue.images.end())
      return make_error(Errc::invalid_config, "snapshot '{}' of {}: disk {} is on {}, which the catalogue does not list", snap,
                        source.name, target, file);
    frozen.disks[target] = vm::CopiedDisk{.file = file, .format = image->second.format};
  }
  auto xml = vm::copy_domain(s->domain_xml, frozen);
  if (!xml) return std::move(xml).error().context(fmt::format("snapshot '{}' of {}", snap, source.name));
  return xml;
}

}  // namespace evos::clone
