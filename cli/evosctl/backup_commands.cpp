#include "backup_commands.hpp"

#include "exit_codes.hpp"

#include <evos/backup/collect_garbage.hpp>
#include <evos/backup/operations.hpp>
#include <evos/backup/schedule_io.hpp>
#include <evos/backup/verify.hpp>
#include <evos/backup/vm_backup.hpp>
#include <evos/cluster/duration.hpp>
#include <evos/vm/domain_copy.hpp>
#include <evos/virt/libvirt_hypervisor.hpp>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <memory>

namespace evosctl {
namespace {

namespace backup = evos::backup;
using evos::Errc;
using evos::Error;

struct BackupOptions {
  std::string store;
  std::string key_file;
  std::string image;
  std::string name;
  std::string vm;
  std::string to;
  std::string disk;
  std::vector<std::string> ids;
  std::string id;
  bool replace = false;
  bool dry_run = false;
  unsigned threads = 0;
  std::uint64_t chunk_size = backup::default_chunk_size;
  backup::RetentionPolicy keep;
  std::string timeout = "600m";
  std::string safety_margin = "5m";
  std::string mode = "snapshot";
  std::string stop_timeout = "10m";
  std::string scratch_dir = "/var/lib/libvirt/qemu";
  bool only_if_running = false;
  std::string as;
  std::string disk_dir;
  bool start = false;
  std::string calendar;
  std::string unit_dir = backup::default_unit_dir;
};

// Progress on stderr: one line rewritten in place on a terminal, plain lines at every tenth
// otherwise (a log or a pipe gets no carriage returns).
class ProgressPrinter {
 public:
  explicit ProgressPrinter(std::string verb) : verb_(std::move(verb)), tty_(::isatty(STDERR_FILENO) == 1) {}
  ~ProgressPrinter() {
    if (tty_ && shown_) fmt::print(stderr, "\n");
  }
  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;
  void operator()(const backup::Progress& p) {
    const unsigned tenth = p.total ? static_cast<unsigned>(p.done * 10 / p.total) : 10;
    if (tty_) {
      fmt::print(stderr, "\r{}: {}\033[K", verb_, backup::format_progress(p));
      shown_ = true;
    } else if (tenth > last_tenth_) {
      fmt::print(stderr, "{}: {}\n", verb_, backup::format_progress(p));
      last_tenth_ = tenth;
    }
    std::fflush(stderr);
  }
  backup::ProgressSink sink() {
    return [this](const backup::Progress& p) { (*this)(p); };
  }

 private:
  std::string verb_;
  bool tty_;
  bool shown_ = false;
  unsigned last_tenth_ = 0;
};

evos::Result<backup::Store> open_store(const BackupOptions& o) {
  std::optional<backup::Key> key;
  if (!o.key_file.empty()) {
    auto k = backup::load_key_file(o.key_file);
    if (!k) return std::move(k).error();
    key = *k;
  }
  return backup::Store::open(o.store, std::move(key));
}

nlohmann::json disk_json(const backup::DiskRecord& d, bool with_chunks) {
  std::uint64_t zero = 0;
  for (const auto& c : d.chunks) zero += c ? 0 : 1;
  nlohmann::json j{{"target", d.target}, {"source", d.source}, {"format", d.format}, {"size", d.size},
                   {"method", std::string(backup::to_string(d.method))}, {"bytes_read", d.bytes_read},
                   {"bytes_stored", d.bytes_stored}, {"chunks", d.chunks.size()}, {"chunks_zero", zero},
                   {"chunks_new", d.chunks_new}};
  if (with_chunks) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : d.chunks) list.push_back(c ? nlohmann::json(backup::to_hex(*c)) : nlohmann::json(nullptr));
    j["chunk_list"] = std::move(list);
  }
  return j;
}

nlohmann::json manifest_json(const backup::Manifest& m, bool with_chunks) {
  nlohmann::json disks = nlohmann::json::array();
  std::uint64_t size = 0;
  for (const auto& d : m.disks) {
    disks.push_back(disk_json(d, with_chunks));
    size += d.size;
  }
  return {{"id", m.id()}, {"vm", m.vm}, {"time", m.time}, {"mode", std::string(backup::to_string(m.mode))},
          {"consistency", std::string(backup::to_string(m.consistency))}, {"node", m.node},
          {"base", m.base ? nlohmann::json(*m.base) : nlohmann::json(nullptr)}, {"size", size},
          {"duration_ms", m.duration_ms},
          {"checkpoint", m.checkpoint ? nlohmann::json(*m.checkpoint) : nlohmann::json(nullptr)}, {"disks", disks}};
}

void print_backup_line(const backup::Manifest& m) {
  std::uint64_t read = 0, stored = 0, size = 0;
  for (const auto& d : m.disks) {
    read += d.bytes_read;
    stored += d.bytes_stored;
    size += d.size;
  }
  fmt::print("backup {}: {} of disk{}, {} read, {} new in the store, {}, {:.2f} s\n", m.id(), backup::format_bytes(size),
             m.disks.size() == 1 ? "" : "s", backup::format_bytes(read), backup::format_bytes(stored),
             backup::to_string(m.consistency), static_cast<double>(m.duration_ms) / 1000.0);
}

int run_store_init(const BackupOptions& o, const GlobalOptions& g) {
  backup::StoreConfig config;
  config.chunk_size = o.chunk_size;
  config.created = backup::format_backup_time(backup::wall_clock_ms());
  if (!o.key_file.empty()) {
    auto key = backup::load_key_file(o.key_file);
    if (!key) return fail(key.error());
    config.key_fingerprint = backup::key_fingerprint(*key);
  }
  if (auto r = backup::Store::init(o.store, config); !r) return fail(r.error());
  if (g.json)
    fmt::print("{}\n", nlohmann::json{{"store", o.store}, {"chunk_size", config.chunk_size},
                                      {"encrypted", config.key_fingerprint.has_value()}}.dump());
  else
    fmt::print("store {} made: {} chunks{}\n", o.store, backup::format_bytes(config.chunk_size),
               config.key_fingerprint ? fmt::format(", encrypted (key {})", *config.key_fingerprint) : "");
  return ok;
}

int run_store_info(const BackupOptions& o, const GlobalOptions& g) {
  auto store = open_store(o);
  if (!store) return fail(store.error());
  auto ids = store->list_backups();
  if (!ids) return fail(ids.error());
  auto chunks = store->list_chunks();
  if (!chunks) return fail(chunks.error());
  std::uint64_t bytes = 0;
  for (const auto& c : *chunks) bytes += c.bytes;
  const auto& c = store->config();
  if (g.json) {
    fmt::print("{}\n", nlohmann::json{{"store", o.store}, {"chunk_size", c.chunk_size}, {"encrypted", c.key_fingerprint.has_value()},
                                      {"key_fingerprint", c.key_fingerprint ? nlohmann::json(*c.key_fingerprint) : nlohmann::json(nullptr)},
                                      {"created", c.created}, {"backups", ids->size()}, {"chunks", chunks->size()},
                                      {"chunk_bytes", bytes}}.dump());
  } else {
    fmt::print("store {}\n  chunk size: {}\n  encryption: {}\n  created: {}\n  backups: {}\n  chunks: {} ({})\n", o.store,
               backup::format_bytes(c.chunk_size), c.key_fingerprint ? "aes-256-gcm, key " + *c.key_fingerprint : "none",
               c.created, ids->size(), chunks->size(), backup::format_bytes(bytes));
  }
  return ok;
}

int run_key_create(const BackupOptions& o, const GlobalOptions& g) {
  auto key = backup::create_key_file(o.to);
  if (!key) return fail(key.error());
  if (g.json)
    fmt::print("{}\n", nlohmann::json{{"key_file", o.to}, {"fingerprint", backup::key_fingerprint(*key)}}.dump());
  else
    fmt::print("key {} written to {}: keep a copy away from the store; without it the backups cannot be read\n",
               backup::key_fingerprint(*key), o.to);
  return ok;
}

int run_create(const BackupOptions& o, const GlobalOptions& g) {
  if (o.vm.empty() == o.image.empty())
    return fail(Error(Errc::invalid_argument, "backup create takes a VM, or --image PATH with --name NAME (not both)"));
  if (!o.image.empty() && o.name.empty()) return fail(Error(Errc::invalid_argument, "--image needs --name"));
  if (!o.vm.empty() && !o.name.empty()) return fail(Error(Errc::invalid_argument, "--name goes with --image; a VM's backups take its name"));
  auto mode = backup::parse_mode(o.mode);
  if (!mode) return fail(mode.error());
  auto store = open_store(o);
  if (!store) return fail(store.error());
  ProgressPrinter progress("backup");
  std::optional<backup::Manifest> m;
  std::vector<std::string> warnings;
  if (!o.image.empty()) {
    auto r = backup::back_up_image(*store, {o.name, o.image}, {o.threads, progress.sink()});
    if (!r) return fail(r.error());
    m = std::move(*r);
  } else {
    auto host = evos::virt::connect_libvirt(g.hypervisor);
    if (!host) return fail(host.error());
    backup::VmBackupRequest request{o.vm, *mode, o.scratch_dir, o.only_if_running};
    std::unique_ptr<backup::VmStopControl> stop_control;
    if (*mode == backup::Mode::stop) {
      auto t = evos::cluster::parse_duration(o.stop_timeout);
      if (!t) return fail(Error(t.error().code(), "--stop-timeout: " + t.error().message()));
      request.stop_timeout = *t;
      auto c = backup::stop_control_for(**host, o.vm, evos::Deadline::after(std::chrono::seconds(30)));
      if (!c) return fail(c.error());
      stop_control = std::move(*c);
      request.stop_control = stop_control.get();
    }
    auto r = backup::back_up_vm(*store, **host, request, {o.threads, progress.sink()});
    if (!r) return fail(r.error());
    warnings = r->warnings;
    if (!r->manifest) {
      if (g.json)
        fmt::print("{}\n", nlohmann::json{{"skipped", r->skipped}}.dump());
      else
        fmt::print("{}\n", r->skipped);
      return ok;
    }
    m = std::move(r->manifest);
  }
  for (const auto& w : warnings) fmt::print(stderr, "evosctl: warning: {}\n", w);
  if (g.json) {
    auto j = manifest_json(*m, false);
    j["plan"] = m->plan;
    j["warnings"] = warnings;
    fmt::print("{}\n", j.dump());
  } else {
    print_backup_line(*m);
    if (!m->plan.empty()) fmt::print("  {}\n", m->plan);
  }
  return ok;
}

int run_list(const BackupOptions& o, const GlobalOptions& g) {
  if (!o.vm.empty())
    if (auto p = evos::vm::name_problem(o.vm)) return fail(Error(Errc::invalid_argument, *p));
  auto store = open_store(o);
  if (!store) return fail(store.error());
  auto ids = store->list_backups(o.vm.empty() ? std::nullopt : std::optional(o.vm));
  if (!ids) return fail(ids.error());
  nlohmann::json list = nlohmann::json::array();
  std::string table = fmt::format("{:<40} {:<10} {:<17} {:>10} {}\n", "BACKUP", "MODE", "CONSISTENCY", "SIZE", "NODE");
  int damaged = 0;
  for (const auto& id : *ids) {
    auto m = store->read_manifest(id);
    if (!m) {
      ++damaged;
      list.push_back({{"id", id.vm + "/" + id.time}, {"vm", id.vm}, {"time", id.time}, {"error", m.error().message()}});
      table += fmt::format("{:<40} unreadable: {}\n", id.vm + "/" + id.time, m.error().message());
      continue;
    }
    list.push_back(manifest_json(*m, false));
    std::uint64_t size = 0;
    for (const auto& d : m->disks) size += d.size;
    table += fmt::format("{:<40} {:<10} {:<17} {:>10} {}\n", m->id(), backup::to_string(m->mode),
                         backup::to_string(m->consistency), backup::format_bytes(size), m->node);
  }
  if (g.json)
    fmt::print("{}\n", list.dump());
  else
    fmt::print("{}", table);
  // A listing that had to skip a damaged manifest says so in its exit code too.
  return damaged ? damaged_data : ok;
}

int run_show(const BackupOptions& o, const GlobalOptions& g) {
  auto id = backup::parse_backup_id(o.id);
  if (!id) return fail(id.error());
  auto store = open_store(o);
  if (!store) return fail(store.error());
  auto m = store->read_manifest(*id);
  if (!m) return fail(m.error());
  if (g.json) {
    auto j = manifest_json(*m, true);
    j["domain_xml"] = m->domain_xml;
    fmt::print("{}\n", j.dump());
    return ok;
  }
  fmt::print("backup {}\n  mode: {}\n  consistency: {}\n  node: {}\n  base: {}\n  duration: {:.2f} s\n", m->id(),
             backup::to_string(m->mode), backup::to_string(m->consistency), m->node, m->base.value_or("none"),
             static_cast<double>(m->duration_ms) / 1000.0);
  for (const auto& d : m->disks) {
    std::uint64_t zero = 0;
    for (const auto& c : d.chunks) zero += c ? 0 : 1;
    fmt::print("  disk {}: {} from {}, {} chunks ({} zero, {} new), read {} ({}), stored {}\n", d.target,
               backup::format_bytes(d.size), d.source, d.chunks.size(), zero, d.chunks_new, backup::format_bytes(d.bytes_read),
               backup::to_string(d.method), backup::format_bytes(d.bytes_stored));
  }
  return ok;
}

int run_verify(const BackupOptions& o, const GlobalOptions& g) {
  auto store = open_store(o);
  if (!store) return fail(store.error());
  std::vector<backup::BackupId> ids;
  if (o.ids.empty()) {
    auto all = store->list_backups(o.vm.empty() ? std::nullopt : std::optional(o.vm));
    if (!all) return fail(all.error());
    ids = std::move(*all);
  } else {
    for (const auto& text : o.ids) {
      auto id = backup::parse_backup_id(text);
      if (!id) return fail(id.error());
      ids.push_back(*id);
    }
  }
  ProgressPrinter progress("verify");
  auto report = backup::verify_backups(*store, ids, {o.threads, progress.sink()});
  if (!report) return fail(report.error());
  // What was found, per VM, for the metrics (evos_backup_last_verify_ok); a store where this cannot
  // be written (read-only) is still verified.
  if (auto w = backup::write_verify_records(*store, backup::verify_records(*report, backup::wall_clock_ms())); !w)
    fmt::print(stderr, "evosctl: warning: the verify's result is not recorded in the store: {}\n", w.error().message());
  if (g.json) {
    nlohmann::json chunks = nlohmann::json::array();
    for (const auto& c : report->damaged_chunks)
      chunks.push_back({{"chunk", backup::to_hex(c.id)}, {"problem", c.problem}, {"backups", c.backups}});
    nlohmann::json manifests = nlohmann::json::array();
    for (const auto& [id, problem] : report->bad_manifests) manifests.push_back({{"backup", id}, {"problem", problem}});
    fmt::print("{}\n", nlohmann::json{{"ok", report->ok()}, {"checked", report->checked}, {"chunks", report->chunks},
                                      {"bytes", report->bytes}, {"damaged_backups", report->damaged_backups},
                                      {"damaged_chunks", chunks}, {"bad_manifests", manifests}}.dump());
  } else {
    for (const auto& [id, problem] : report->bad_manifests) fmt::print("DAMAGED backup {}: {}\n", id, problem);
    for (const auto& c : report->damaged_chunks)
      fmt::print("DAMAGED {}; needed by {}\n", c.problem, fmt::join(c.backups, ", "));
    fmt::print("{}: {} backup{} checked, {} chunks ({}) read{}\n", report->ok() ? "ok" : "FAILED", report->checked.size() + report->bad_manifests.size(),
               report->checked.size() + report->bad_manifests.size() == 1 ? "" : "s", report->chunks,
               backup::format_bytes(report->bytes),
               report->ok() ? "" : fmt::format("; damaged: {}", fmt::join(report->damaged_backups, ", ")));
  }
  return report->ok() ? ok : damaged_data;
}

int run_restore_vm(const BackupOptions& o, const GlobalOptions& g, const backup::BackupId& id, const backup::Store& store) {
  if (o.disk_dir.empty()) return fail(Error(Errc::invalid_argument, "--as needs --disk-dir DIR, where the restored disks are written"));
  auto host = evos::virt::connect_libvirt(g.hypervisor);
  if (!host) return fail(host.error());
  ProgressPrinter progress("restore");
  auto r = backup::restore_vm(store, **host, {id, o.as, o.disk_dir, o.start}, {o.threads, progress.sink()});
  if (!r) return fail(r.error());
  if (g.json) {
    fmt::print("{}\n", nlohmann::json{{"backup", o.id}, {"vm", o.as}, {"disks", r->disk_files}, {"started", o.start}}.dump());
  } else {
    fmt::print("restored backup {} as VM {}{}\n", o.id, o.as, o.start ? ", started" : " (defined, not started)");
    for (const auto& [target, file] : r->disk_files) fmt::print("  {}: {}\n", target, file);
  }
  return ok;
}

int run_restore(const BackupOptions& o, const GlobalOptions& g) {
  auto id = backup::parse_backup_id(o.id);
  if (!id) return fail(id.error());
  if (o.as.empty() == o.to.empty())
    return fail(Error(Errc::invalid_argument, "backup restore takes --to PATH (one disk) or --as NAME --disk-dir DIR (a VM)"));
  auto store = open_store(o);
  if (!store) return fail(store.error());
  if (!o.as.empty()) return run_restore_vm(o, g, *id, *store);
  ProgressPrinter progress("restore");
  const auto started = evos::Clock::now();
  auto disk = backup::restore_backup_disk(*store, {*id, o.disk, {o.to, o.replace}}, {o.threads, progress.sink()});
  if (!disk) return fail(disk.error());
  const double seconds = std::chrono::duration<double>(evos::Clock::now() - started).count();
  if (g.json)
    fmt::print("{}\n", nlohmann::json{{"backup", o.id}, {"disk", disk->target}, {"to", o.to}, {"size", disk->size},
                                      {"seconds", seconds}}.dump());
  else
    fmt::print("restored {} of backup {} ({}) to {} in {:.2f} s\n", disk->target, o.id, backup::format_bytes(disk->size), o.to, seconds);
  return ok;
}

int run_prune(const BackupOptions& o, const GlobalOptions& g) {
  if (!o.vm.empty())
    if (auto p = evos::vm::name_problem(o.vm)) return fail(Error(Errc::invalid_argument, *p));
  auto store = open_store(o);
  if (!store) return fail(store.error());
  auto results = backup::prune_backups(*store, o.vm.empty() ? std::nullopt : std::optional(o.vm), o.keep, o.dry_run);
  if (!results) return fail(results.error());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : *results)
    for (const auto& d : r.decisions) {
      list.push_back({{"id", d.id}, {"keep", d.keep}, {"reason", d.reason}});
      if (!g.json) fmt::print("{} {}{}\n", d.keep ? "keep  " : (o.dry_run ? "would remove" : "remove"), d.id,
                              d.keep ? fmt::format(" ({})", d.reason) : "");
    }
  if (g.json) fmt::print("{}\n", nlohmann::json{{"dry_run", o.dry_run}, {"backups", list}}.dump());
  return ok;
}

int run_forget(const BackupOptions& o, const GlobalOptions& g) {
  auto id = backup::parse_backup_id(o.id);
  if (!id) return fail(id.error());
  auto store = open_store(o);
  if (!store) return fail(store.error());
  if (auto r = backup::forget_backup(*store, *id); !r) return fail(r.error());
  if (g.json)
    fmt::print("{}\n", nlohmann::json{{"forgotten", o.id}}.dump());
  else
    fmt::print("backup {} forgotten (`evosctl backup gc` frees the chunks only it used)\n", o.id);
  return ok;
}

int run_gc(const BackupOptions& o, const GlobalOptions& g) {
  auto store = open_store(o);
  if (!store) return fail(store.error());
  auto margin = evos::read_duration(o.safety_margin, "--safety-margin");
  if (!margin) return fail(margin.error());
  auto r = backup::collect_garbage(*store, {.margin_ms = margin->count(), .dry_run = o.dry_run});
  if (!r) return fail(r.error());
  if (g.json)
    fmt::print("{}\n", nlohmann::json{{"dry_run", o.dry_run}, {"manifests", r->manifests}, {"removed", r->removed},
                                      {"bytes_freed", r->bytes_freed}, {"referenced", r->referenced},
                                      {"pending", r->pending}, {"temporaries_removed", r->temporaries_removed}}.dump());
  else
    fmt::print("gc: {} manifests marked; {} chunks {} ({}); {} in use, {} too recent to remove\n", r->manifests, r->removed,
               o.dry_run ? "would be removed" : "removed", backup::format_bytes(r->bytes_freed), r->referenced, r->pending);
  return ok;
}

nlohmann::json schedule_json(const backup::Schedule& s) {
  return {{"vm", s.vm}, {"store", s.store}, {"key_file", s.key_file}, {"calendar", s.calendar}, {"mode", s.mode},
          {"keep", {{"last", s.keep.last}, {"hourly", s.keep.hourly}, {"daily", s.keep.daily}, {"weekly", s.keep.weekly},
                    {"monthly", s.keep.monthly}, {"yearly", s.keep.yearly}}}};
}

int run_schedule_add(const BackupOptions& o, const GlobalOptions& g) {
  backup::Schedule s{o.vm, o.store, o.key_file, o.calendar, o.mode, o.keep};
  auto change = backup::add_schedule(o.unit_dir, s, EVOS_EVOSCTL_PATH, g.deadline);
  if (!change) return fail(change.error());
  if (g.json) {
    auto j = schedule_json(s);
    j["units"] = {change->units.timer_name, change->units.service_name};
    j["enabled"] = change->activated;
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("schedule of {} written: {}/{} and {} ({})\n", o.vm, o.unit_dir, change->units.timer_name, change->units.service_name,
               change->activated ? "timer enabled" : "systemd is not running here: nothing enabled; the job is the service's ExecStart= lines");
  }
  return ok;
}

int run_schedule_list(const BackupOptions& o, const GlobalOptions& g) {
  auto list = backup::list_schedules(o.unit_dir);
  if (!list) return fail(list.error());
  nlohmann::json j = nlohmann::json::array();
  std::string table = fmt::format("{:<24} {:<24} {}\n", "VM", "CALENDAR", "STORE");
  for (const auto& s : *list) {
    j.push_back(schedule_json(s));
    table += fmt::format("{:<24} {:<24} {}\n", s.vm, s.calendar, s.store);
  }
  fmt::print("{}", g.json ? j.dump() + "\n" : table);
  return ok;
}

int run_schedule_remove(const BackupOptions& o, const GlobalOptions& g) {
  auto change = backup::remove_schedule(o.unit_dir, o.vm, g.deadline);
  if (!change) return fail(change.error());
  if (g.json)
    fmt::print("{}\n", nlohmann::json{{"removed", o.vm}, {"disabled", change->activated}}.dump());
  else
    fmt::print("schedule of {} removed{}\n", o.vm, change->activated ? " (timer disabled)" : "");
  return ok;
}

}  // namespace

void add_backup_commands(CLI::App& app, GlobalOptions& global, std::function<int()>& run) {
  auto o = std::make_shared<BackupOptions>();
  auto* b = app.add_subcommand("backup", "Deduplicated, verified backups in a store (docs/backup.md)");
  b->require_subcommand(1);
  auto common = [&](CLI::App* c, bool long_running) {
    c->add_option("--store", o->store, "The store: an absolute directory path (local disk or a mounted NAS)")->required();
    c->add_option("--key-file", o->key_file, "The store's key file, for an encrypted store");
    c->add_flag("--json", global.json, "Print JSON");
    if (long_running) {
      c->add_option("--threads", o->threads, "Parallel workers (default: create two per core, at most 16; the others one per core, at most 8)")->check(CLI::Range(1u, 64u));
      c->add_option("--timeout", o->timeout, "Deadline for the whole command (default 600m)")->capture_default_str();
    }
  };
  auto action = [&run, o, &global](int (*fn)(const BackupOptions&, const GlobalOptions&)) {
    return [&run, o, &global, fn] { run = [o, &global, fn] { return fn(*o, global); }; };
  };

  auto* store = b->add_subcommand("store", "Make and describe stores");
  store->require_subcommand(1);
  auto* init = store->add_subcommand("init", "Make a directory (absent or empty) a store");
  common(init, false);
  init->add_option("--chunk-size", o->chunk_size, "Chunk size in bytes, a power of two from 64 KiB to 64 MiB (default 4 MiB)");
  init->callback(action(run_store_init));
  auto* info = store->add_subcommand("info", "Show a store's settings and size");
  common(info, false);
  info->callback(action(run_store_info));

  auto* key = b->add_subcommand("key", "Keys of encrypted stores");
  key->require_subcommand(1);
  auto* key_create = key->add_subcommand("create", "Write a new key file (mode 0600; never over an existing file)");
  key_create->add_option("FILE", o->to, "The key file to write")->required();
  key_create->add_flag("--json", global.json, "Print JSON");
  key_create->callback(action(run_key_create));

  auto* create = b->add_subcommand("create", "Back up a VM (live), or a disk image under a name");
  common(create, true);
  create->add_option("VM", o->vm, "The libvirt domain to back up");
  create->add_option("--mode", o->mode, "snapshot (live, default), suspend (paused for the instant the point in time is taken) or stop (shut down, backed up, started again; an HA VM through Pacemaker)");
  create->add_option("--stop-timeout", o->stop_timeout, "Mode stop: how long the VM may take to shut down before the backup is given up and the VM left running (default 10m)");
  create->add_option("--scratch-dir", o->scratch_dir, "Where the job's NBD socket and QEMU's scratch files go (default /var/lib/libvirt/qemu)");
  create->add_flag("--only-if-running", o->only_if_running, "Skip (exit 0) a VM that is not running on this host");
  create->add_option("--image", o->image, "A disk image (file or block device) to back up instead of a VM");
  create->add_option("--name", o->name, "The name an --image's backups are listed under");
  create->callback(action(run_create));

  auto* list = b->add_subcommand("list", "List backups, oldest first");
  common(list, false);
  list->add_option("--vm", o->vm, "Only this VM's (or name's) backups");
  list->callback(action(run_list));

  auto* show = b->add_subcommand("show", "Show one backup");
  common(show, false);
  show->add_option("BACKUP", o->id, "VM/TIME, as backup list prints it")->required();
  show->callback(action(run_show));

  auto* verify = b->add_subcommand("verify", "Re-read and check every chunk that backups need");
  common(verify, true);
  verify->add_option("BACKUP", o->ids, "Backups to check (default: all, or --vm's)");
  verify->add_option("--vm", o->vm, "Only this VM's backups");
  verify->callback(action(run_verify));

  auto* restore = b->add_subcommand("restore", "Restore a disk of a backup to a new file or a block device");
  common(restore, true);
  restore->add_option("BACKUP", o->id, "VM/TIME")->required();
  restore->add_option("--to", o->to, "The file (made anew) or block device to write one disk to");
  restore->add_option("--as", o->as, "Restore a VM backup as a new VM of this name (new UUID and MACs)");
  restore->add_option("--disk-dir", o->disk_dir, "With --as: the directory for its disks (NAME-TARGET.img, raw)");
  restore->add_flag("--start", o->start, "With --as: start the restored VM");
  restore->add_option("--disk", o->disk, "Which disk (default: the backup's only one)");
  restore->add_flag("--replace", o->replace, "Replace an existing file (renamed over it once complete)");
  restore->callback(action(run_restore));

  auto* prune = b->add_subcommand("prune", "Remove backups a retention policy does not keep (gc frees their chunks)");
  common(prune, false);
  prune->add_option("--vm", o->vm, "Only this VM's backups");
  prune->add_option("--keep-last", o->keep.last, "Keep the N newest");
  prune->add_option("--keep-hourly", o->keep.hourly, "Keep the newest of each of the last N hours");
  prune->add_option("--keep-daily", o->keep.daily, "Keep the newest of each of the last N days");
  prune->add_option("--keep-weekly", o->keep.weekly, "Keep the newest of each of the last N ISO weeks");
  prune->add_option("--keep-monthly", o->keep.monthly, "Keep the newest of each of the last N months");
  prune->add_option("--keep-yearly", o->keep.yearly, "Keep the newest of each of the last N years");
  prune->add_flag("--dry-run", o->dry_run, "Only say what would be removed");
  prune->callback(action(run_prune));

  auto* forget = b->add_subcommand("forget", "Remove one backup (its manifest), even a damaged one");
  common(forget, false);
  forget->add_option("BACKUP", o->id, "VM/TIME")->required();
  forget->callback(action(run_forget));

  auto* schedule = b->add_subcommand("schedule", "Regular backups as systemd timer units (docs/backup.md, \"Schedules\")");
  schedule->require_subcommand(1);
  auto* sched_add = schedule->add_subcommand("add", "Write (or replace) a VM's backup timer and service");
  sched_add->add_option("VM", o->vm, "The VM")->required();
  sched_add->add_option("--store", o->store, "The store")->required();
  sched_add->add_option("--key-file", o->key_file, "The store's key file");
  sched_add->add_option("--calendar", o->calendar, "When: an OnCalendar= expression (systemd.time(7)): daily, 'Mon..Fri 22:00'")->required();
  sched_add->add_option("--mode", o->mode, "snapshot (default), suspend or stop");
  sched_add->add_option("--keep-last", o->keep.last, "After each backup, prune: keep the N newest");
  sched_add->add_option("--keep-hourly", o->keep.hourly, "... and the newest of each of the last N hours");
  sched_add->add_option("--keep-daily", o->keep.daily, "... days");
  sched_add->add_option("--keep-weekly", o->keep.weekly, "... ISO weeks");
  sched_add->add_option("--keep-monthly", o->keep.monthly, "... months");
  sched_add->add_option("--keep-yearly", o->keep.yearly, "... years");
  sched_add->add_option("--unit-dir", o->unit_dir, "Where the units go (default /etc/systemd/system)");
  sched_add->add_flag("--json", global.json, "Print JSON");
  sched_add->callback(action(run_schedule_add));
  auto* sched_list = schedule->add_subcommand("list", "The backup schedules of this node");
  sched_list->add_option("--unit-dir", o->unit_dir, "Where the units are (default /etc/systemd/system)");
  sched_list->add_flag("--json", global.json, "Print JSON");
  sched_list->callback(action(run_schedule_list));
  auto* sched_remove = schedule->add_subcommand("remove", "Remove a VM's backup timer and service");
  sched_remove->add_option("VM", o->vm, "The VM")->required();
  sched_remove->add_option("--unit-dir", o->unit_dir, "Where the units are (default /etc/systemd/system)");
  sched_remove->add_flag("--json", global.json, "Print JSON");
  sched_remove->callback(action(run_schedule_remove));

  auto* gc = b->add_subcommand("gc", "Free chunks no backup uses (safe while backups run)");
  common(gc, true);
  gc->add_flag("--dry-run", o->dry_run, "Only count what would be freed");
  gc->add_option("--safety-margin", o->safety_margin,
                 "Keep unused chunks younger than this before the oldest running backup (default 5m; the clocks of "
                 "the hosts writing the store must agree within it)");
  gc->callback(action(run_gc));
}

}  // namespace evosctl
