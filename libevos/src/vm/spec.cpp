#include <evos/vm/spec.hpp>

#include <evos/text_checks.hpp>
#include <evos/vm/domain_copy.hpp>

#include <fmt/core.h>
#include <pugixml.hpp>

#include <limits>
#include <sstream>

namespace evos::vm {
namespace {

// The namespace of evos's own <metadata> element in a definition evosctl created.
constexpr char metadata_ns[] = "https://evos.dev/xmlns/vm-create/1";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

Result<void> check_path(const std::string& value, std::string_view option) {
  if (auto p = text::syntax_problem(value, text::Syntax::path))
    return make_error(Errc::invalid_argument, "{} {} {}", option, text::quote_for_message(value), *p);
  return {};
}

Result<void> check_token(const std::string& value, std::string_view option, std::size_t max) {
  if (auto p = text::syntax_problem(value, text::Syntax::token))
    return make_error(Errc::invalid_argument, "{} {} {}", option, text::quote_for_message(value), *p);
  if (value.size() > max) return make_error(Errc::invalid_argument, "{} '{}' is longer than {} characters", option, value, max);
  return {};
}

pugi::xml_node add(pugi::xml_node parent, const char* name, const std::string& text = {}) {
  auto n = parent.append_child(name);
  if (!text.empty()) n.text().set(text.c_str());
  return n;
}

void attr(pugi::xml_node n, const char* name, const std::string& value) { n.append_attribute(name) = value.c_str(); }

Result<pugi::xml_node> load_domain(pugi::xml_document& doc, std::string_view xml) {
  const auto parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed)
    return make_error(Errc::invalid_config, "the domain XML is not XML: {} at offset {}", parsed.description(), parsed.offset);
  auto domain = doc.child("domain");
  if (!domain) return Error(Errc::invalid_config, "the domain XML has no <domain>");
  return domain;
}

}  // namespace

Result<std::uint64_t> parse_size(std::string_view text, std::string_view what) {
  const auto bad = [&](std::string_view why) {
    return make_error(Errc::invalid_argument, "{} {}: {}", what, text::quote_for_message(text), why);
  };
  std::size_t i = 0;
  std::uint64_t n = 0;
  if (text.empty()) return bad("is empty; give a size with a unit, e.g. 512M or 20G");
  if (text.front() == '-') return bad("is negative");
  while (i < text.size() && is_digit(text[i])) {
    const auto d = static_cast<std::uint64_t>(text[i] - '0');
    if (n > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return bad("is too large");
    n = n * 10 + d;
    ++i;
  }
  if (i == 0) return bad("is not a number with a unit (e.g. 512M, 20G, 1T)");
  if (i < text.size() && (text[i] == '.' || text[i] == ',')) return bad("is not a whole number; use a smaller unit (1536M, not 1.5G)");
  std::string_view unit = text.substr(i);
  if (unit.empty()) return bad("has no unit; give K, M, G or T (512M, 20G)");
  unsigned shift = 0;
  switch (unit.front()) {
    case 'K': case 'k': shift = 10; break;
    case 'M': case 'm': shift = 20; break;
    case 'G': case 'g': shift = 30; break;
    case 'T': case 't': shift = 40; break;
    case 'P': case 'p': shift = 50; break;
    default: return bad("has an unknown unit; give K, M, G or T (512M, 20G)");
  }
  unit.remove_prefix(1);
  if (!(unit.empty() || unit == "B" || unit == "iB")) return bad("has an unknown unit; give K, M, G or T (512M, 20G)");
  if (n == 0) return bad("is zero");
  if (n > ((std::uint64_t{1} << 63) - 1) >> shift) return bad("is too large");
  return n << shift;
}

std::string format_size(std::uint64_t bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  unsigned u = 0;
  while (u + 1 < std::size(units) && bytes != 0 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++u;
  }
  return fmt::format("{} {}", bytes, units[u]);
}

VmIdentity make_identity(const std::array<std::uint8_t, 19>& r) {
  std::array<std::uint8_t, 16> u{};
  for (std::size_t i = 0; i < 16; ++i) u[i] = r[i];
  u[6] = static_cast<std::uint8_t>((u[6] & 0x0f) | 0x40);  // version 4 (RFC 4122 4.4)
  u[8] = static_cast<std::uint8_t>((u[8] & 0x3f) | 0x80);  // variant 10
  std::string uuid;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) uuid += '-';
    uuid += fmt::format("{:02x}", u[i]);
  }
  return {.uuid = uuid, .mac = fmt::format("52:54:00:{:02x}:{:02x}:{:02x}", r[16], r[17], r[18])};
}

Result<VmSpec> plan_vm(const VmRequest& q) {
  auto l = layout(q.storage, q.name);
  if (!l) return std::move(l).error();
  if (auto r = check_path(q.storage, "--storage"); !r) return std::move(r).error();
  VmSpec s{.layout = *l};

  if (q.vcpus < 1 || q.vcpus > max_vcpus)
    return make_error(Errc::invalid_argument, "--vcpus {} is outside 1..{}", q.vcpus, max_vcpus);
  s.vcpus = q.vcpus;

  if (q.memory.empty()) return Error(Errc::invalid_argument, "--memory is required (e.g. --memory 1G)");
  auto mem = parse_size(q.memory, "--memory");
  if (!mem) return std::move(mem).error();
  if (*mem < min_memory || *mem > max_memory)
    return make_error(Errc::invalid_argument, "--memory {} is outside {}..{}", q.memory, format_size(min_memory), format_size(max_memory));
  s.memory_bytes = *mem;

  if (q.virt_type != "kvm" && q.virt_type != "qemu")
    return make_error(Errc::invalid_argument, "--virt-type {} is neither kvm nor qemu", text::quote_for_message(q.virt_type));
  s.virt_type = q.virt_type;

  if (q.format != "qcow2" && q.format != "raw")
    return make_error(Errc::invalid_argument, "--format {} is neither qcow2 nor raw", text::quote_for_message(q.format));

  if (q.kernel.empty() && (!q.initrd.empty() || !q.cmdline.empty()))
    return Error(Errc::invalid_argument, "--initrd and --cmdline need --kernel");
  const int sources = int(!q.import_image.empty()) + int(!q.cdrom.empty()) + int(!q.kernel.empty());
  if (sources == 0) return Error(Errc::invalid_argument, "no boot source: give one of --import IMAGE, --cdrom ISO or --kernel K --initrd I");
  if (sources > 1) return Error(Errc::invalid_argument, "give only one boot source of --import, --cdrom and --kernel");

  const std::size_t disk_count = q.disks.size() + (q.import_image.empty() ? 0 : 1);
  if (disk_count == 0) return Error(Errc::invalid_argument, "no disk: give --disk SIZE (e.g. --disk 20G)");
  if (disk_count > max_disks) return make_error(Errc::invalid_argument, "{} disks: at most {}", disk_count, max_disks);
  const auto target = [](std::size_t i) { return std::string("vd") + static_cast<char>('a' + i); };
  if (!q.import_image.empty()) {
    if (auto r = check_path(q.import_image, "--import"); !r) return std::move(r).error();
    s.boot = BootKind::import_image;
    s.disks.push_back({.target = "vda", .file = l->disk("vda", q.format), .format = q.format, .bytes = 0, .import_from = q.import_image});
  }
  for (const auto& d : q.disks) {
    auto bytes = parse_size(d, "--disk");
    if (!bytes) return std::move(bytes).error();
    if (*bytes < min_disk || *bytes > max_disk)
      return make_error(Errc::invalid_argument, "--disk {} is outside {}..{}", d, format_size(min_disk), format_size(max_disk));
    const auto t = target(s.disks.size());
    s.disks.push_back({.target = t, .file = l->disk(t, q.format), .format = q.format, .bytes = *bytes, .import_from = {}});
  }

  if (!q.cdrom.empty()) {
    if (auto r = check_path(q.cdrom, "--cdrom"); !r) return std::move(r).error();
    s.boot = BootKind::cdrom;
    s.cdrom = q.cdrom;
  }
  if (!q.kernel.empty()) {
    if (auto r = check_path(q.kernel, "--kernel"); !r) return std::move(r).error();
    if (q.initrd.empty()) return Error(Errc::invalid_argument, "--kernel needs --initrd");
    if (auto r = check_path(q.initrd, "--initrd"); !r) return std::move(r).error();
    if (auto p = text::text_problem(q.cmdline, 2048))
      return make_error(Errc::invalid_argument, "--cmdline {}", *p);
    s.boot = BootKind::kernel;
    s.kernel_source = q.kernel;
    s.initrd_source = q.initrd;
    s.kernel = l->dir() + "/" + q.name + ".kernel";
    s.initrd = l->dir() + "/" + q.name + ".initrd";
    s.cmdline = q.cmdline;
  }

  if (!q.network.empty() && !q.bridge.empty()) return Error(Errc::invalid_argument, "give only one of --network and --bridge");
  if (!q.network.empty()) {
    if (auto r = check_token(q.network, "--network", 64); !r) return std::move(r).error();
    s.net = NetKind::network;
    s.net_source = q.network;
  } else if (!q.bridge.empty()) {
    // IFNAMSIZ - 1: a longer interface name is refused by the kernel.
    if (auto r = check_token(q.bridge, "--bridge", 15); !r) return std::move(r).error();
    s.net = NetKind::bridge;
    s.net_source = q.bridge;
  }
  return s;
}

std::string domain_xml(const VmSpec& s, const VmIdentity& id) {
  pugi::xml_document doc;
  auto d = doc.append_child("domain");
  attr(d, "type", s.virt_type);
  add(d, "name", s.layout.name);
  add(d, "uuid", id.uuid);
  auto meta = add(add(d, "metadata"), "evos:vm");
  attr(meta, "xmlns:evos", metadata_ns);
  for (const auto& disk : s.disks) {
    auto m = add(meta, "evos:disk");
    attr(m, "target", disk.target);
    if (disk.import_from.empty())
      attr(m, "bytes", std::to_string(disk.bytes));
    else
      attr(m, "import", disk.import_from);
  }
  if (s.boot == BootKind::kernel) {
    auto m = add(meta, "evos:kernel");
    attr(m, "from", s.kernel_source);
    attr(m, "initrd-from", s.initrd_source);
  }
  auto mem = add(d, "memory", std::to_string(s.memory_bytes / 1024));
  attr(mem, "unit", "KiB");
  add(d, "vcpu", std::to_string(s.vcpus));
  auto os = add(d, "os");
  auto type = add(os, "type", "hvm");
  attr(type, "arch", "x86_64");
  attr(type, "machine", "q35");
  switch (s.boot) {
    case BootKind::kernel:
      add(os, "kernel", s.kernel);
      add(os, "initrd", s.initrd);
      if (!s.cmdline.empty()) add(os, "cmdline", s.cmdline);
      break;
    case BootKind::cdrom:
      attr(add(os, "boot"), "dev", "cdrom");
      attr(add(os, "boot"), "dev", "hd");
      break;
    case BootKind::import_image: attr(add(os, "boot"), "dev", "hd"); break;
  }
  auto features = add(d, "features");
  add(features, "acpi");
  add(features, "apic");
  add(d, "on_poweroff", "destroy");
  add(d, "on_reboot", "restart");
  add(d, "on_crash", "destroy");
  auto dev = add(d, "devices");
  for (const auto& disk : s.disks) {
    auto x = add(dev, "disk");
    attr(x, "type", "file");
    attr(x, "device", "disk");
    auto drv = add(x, "driver");
    attr(drv, "name", "qemu");
    attr(drv, "type", disk.format);
    attr(drv, "cache", "none");
    attr(drv, "discard", "unmap");
    attr(add(x, "source"), "file", disk.file);
    auto t = add(x, "target");
    attr(t, "dev", disk.target);
    attr(t, "bus", "virtio");
  }
  if (s.boot == BootKind::cdrom) {
    auto x = add(dev, "disk");
    attr(x, "type", "file");
    attr(x, "device", "cdrom");
    auto drv = add(x, "driver");
    attr(drv, "name", "qemu");
    attr(drv, "type", "raw");
    attr(add(x, "source"), "file", s.cdrom);
    auto t = add(x, "target");
    attr(t, "dev", "sda");
    attr(t, "bus", "sata");
    add(x, "readonly");
  }
  if (s.net != NetKind::none) {
    auto x = add(dev, "interface");
    const bool network = s.net == NetKind::network;
    attr(x, "type", network ? "network" : "bridge");
    attr(add(x, "mac"), "address", id.mac);
    attr(add(x, "source"), network ? "network" : "bridge", s.net_source);
    attr(add(x, "model"), "type", "virtio");
  }
  // A pty for `virsh console`, logged to a file on the shared storage (<log>, formatdomain.html
  // "Character device log file"), so the log survives the node and both nodes append to it.
  auto serial = add(dev, "serial");
  attr(serial, "type", "pty");
  auto log = add(serial, "log");
  attr(log, "file", s.layout.serial_log());
  attr(log, "append", "on");
  attr(add(serial, "target"), "port", "0");
  auto console = add(dev, "console");
  attr(console, "type", "pty");
  auto ct = add(console, "target");
  attr(ct, "type", "serial");
  attr(ct, "port", "0");
  // The guest agent's channel (no <source>: libvirt picks a socket path of its own per host).
  auto channel = add(dev, "channel");
  attr(channel, "type", "unix");
  auto cht = add(channel, "target");
  attr(cht, "type", "virtio");
  attr(cht, "name", "org.qemu.guest_agent.0");
  attr(add(dev, "memballoon"), "model", "none");
  std::ostringstream out;
  doc.print(out, "  ", pugi::format_indent | pugi::format_no_declaration);
  return out.str();
}

Result<VmIdentity> read_identity(std::string_view xml) {
  pugi::xml_document doc;
  auto domain = load_domain(doc, xml);
  if (!domain) return std::move(domain).error();
  VmIdentity id;
  id.uuid = domain->child("uuid").text().as_string();
  id.mac = domain->child("devices").child("interface").child("mac").attribute("address").as_string();
  return id;
}

Result<std::vector<DefinedDisk>> defined_disks(std::string_view xml) {
  pugi::xml_document doc;
  auto domain = load_domain(doc, xml);
  if (!domain) return std::move(domain).error();
  std::vector<DefinedDisk> out;
  for (auto disk : domain->child("devices").children("disk")) {
    if (std::string_view(disk.attribute("device").as_string("disk")) != "disk") continue;
    const std::string file = disk.child("source").attribute("file").as_string();
    if (file.empty()) continue;
    out.push_back({.target = disk.child("target").attribute("dev").as_string(), .file = file,
                   .format = disk.child("driver").attribute("type").as_string("raw")});
  }
  return out;
}

}  // namespace evos::vm
