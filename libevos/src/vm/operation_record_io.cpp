#include <evos/agent_state.hpp>
#include <evos/text_checks.hpp>
#include <evos/vm/operation_record.hpp>

#include <fmt/core.h>

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <memory>

namespace evos::vm {

std::string OperationRecords::default_directory() { return agent_state::directory() + "/evos-vm-ops"; }

namespace {
Result<std::string> path_of(const std::string& directory, const std::string& instance) {
  if (auto p = text::syntax_problem(instance, text::Syntax::token); p || instance.size() > 200)
    return make_error(Errc::invalid_argument, "resource instance {} cannot name an operation record",
                      text::quote_for_message(instance));
  return directory + "/" + instance;
}
}  // namespace

Result<std::optional<OperationRecord>> OperationRecords::load(const std::string& instance) const {
  auto path = path_of(directory_, instance);
  if (!path) return std::move(path).error();
  auto text = agent_state::read(*path);
  if (!text) return std::optional<OperationRecord>{};
  auto r = parse_operation_record(*text);
  if (!r) return std::move(r).error().context(fmt::format("operation record {}", *path));
  return std::optional<OperationRecord>(std::move(*r));
}

Result<void> OperationRecords::save(const OperationRecord& record) const {
  auto path = path_of(directory_, record.instance);
  if (!path) return std::move(path).error();
  if (auto old = load(record.instance); old && *old) {
    OperationRecord a = **old, b = record;
    a.since = b.since = 0;
    if (a == b) return {};
  }
  // The state directory itself ($HA_RSCTMP) may not exist yet on a fresh /run.
  if (const auto slash = directory_.rfind('/'); slash != std::string::npos && slash > 0)
    ::mkdir(directory_.substr(0, slash).c_str(), 0755);
  return agent_state::write(*path, render(record), 0700);
}

void OperationRecords::note(const std::string& instance, const std::string& domain, const std::string& uuid,
                            Phase phase, Log& log) const {
  if (instance.empty()) return;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  if (auto r = save({instance, domain, uuid, phase, now.count()}); !r) {
    log.warning("cannot record phase {}: {}", to_string(phase), r.error().message());
    if (auto path = path_of(directory_, instance)) {
      if (auto rm = agent_state::remove(*path); !rm) log.error("{}", rm.error().message());
    }
  }
}

void OperationRecords::note_monitor(const std::string& instance, const std::string& domain, const std::string& uuid,
                                    bool running, Log& log) const {
  if (instance.empty()) return;
  auto old = load(instance);
  std::optional<Phase> recorded;
  if (old && *old && (*old)->domain == domain) recorded = (*old)->phase;
  if (auto phase = monitor_phase(recorded, running)) note(instance, domain, uuid, *phase, log);
}

std::vector<Result<OperationRecord>> OperationRecords::load_all() const {
  std::vector<Result<OperationRecord>> out;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(directory_.c_str()), ::closedir);
  if (!dir) return out;  // no agent has run here yet
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(dir.get())) {
    const std::string name = e->d_name;
    // write_atomically's temporary files are "NAME.tmp.PID.RANDOM" beside the target.
    if (name.empty() || name[0] == '.' || name.find(".tmp.") != std::string::npos) continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    auto r = load(name);
    if (!r) out.emplace_back(std::move(r).error());
    else if (*r) out.emplace_back(std::move(**r));
  }
  return out;
}

}  // namespace evos::vm
