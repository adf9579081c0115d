// Verify records (evos/backup/verify_record.hpp, docs/backup-format.md "Verify records").
#include <evos/backup/manifest.hpp>
#include <evos/backup/verify_record.hpp>
#include <evos/vm/domain_copy.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace evos::backup {
namespace {

constexpr int record_version = 1;

Error bad(std::string_view what, std::string_view why) {
  return Error(Errc::invalid_config, fmt::format("{} is not a verify record: {}", what, why));
}

}  // namespace

std::vector<VerifyRecord> verify_records(const std::vector<std::string>& checked,
                                         const std::vector<std::string>& damaged, std::int64_t now_unix_ms) {
  const std::set<std::string> broken(damaged.begin(), damaged.end());
  std::map<std::string, VerifyRecord> by_vm;
  const std::string time = format_backup_time(now_unix_ms);
  for (const auto& text : std::set<std::string>(checked.begin(), checked.end())) {
    auto id = parse_backup_id(text);
    if (!id) continue;
    auto& r = by_vm[id->vm];
    r.vm = id->vm;
    r.time = time;
    ++r.checked;
    if (broken.count(text)) {
      r.ok = false;
      r.damaged.push_back(text);  // sorted: the set is
    }
  }
  std::vector<VerifyRecord> out;
  for (auto& [vm, r] : by_vm) out.push_back(std::move(r));
  return out;
}

std::string format_verify_record(const VerifyRecord& r) {
  nlohmann::ordered_json j;
  j["format"] = "evos-backup-verify";
  j["version"] = record_version;
  j["vm"] = r.vm;
  j["time"] = r.time;
  j["ok"] = r.ok;
  j["checked"] = r.checked;
  j["damaged"] = r.damaged;
  return j.dump() + "\n";
}

Result<VerifyRecord> parse_verify_record(std::string_view text, std::string_view what) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad(what, "not a JSON object");
  if (!j.contains("format") || j["format"] != "evos-backup-verify") return bad(what, "no format evos-backup-verify");
  if (!j.contains("version") || !j["version"].is_number_integer()) return bad(what, "no version");
  if (j["version"].get<std::int64_t>() != record_version)
    return bad(what, fmt::format("version {} (this evos reads version {})", j["version"].get<std::int64_t>(), record_version));
  VerifyRecord r;
  if (!j.contains("vm") || !j["vm"].is_string()) return bad(what, "no vm");
  r.vm = j["vm"].get<std::string>();
  if (auto p = vm::name_problem(r.vm)) return bad(what, *p);
  if (!j.contains("time") || !j["time"].is_string() || !parse_backup_time(j["time"].get<std::string>()))
    return bad(what, "no valid time");
  r.time = j["time"].get<std::string>();
  if (!j.contains("ok") || !j["ok"].is_boolean()) return bad(what, "no ok");
  r.ok = j["ok"].get<bool>();
  if (!j.contains("checked") || !j["checked"].is_number_unsigned()) return bad(what, "no checked count");
  r.checked = j["checked"].get<std::uint64_t>();
  if (!j.contains("damaged") || !j["damaged"].is_array()) return bad(what, "no damaged list");
  for (const auto& d : j["damaged"]) {
    if (!d.is_string()) return bad(what, "a damaged entry is not text");
    r.damaged.push_back(d.get<std::string>());
  }
  if (r.ok != r.damaged.empty()) return bad(what, "ok disagrees with the damaged list");
  return r;
}

}  // namespace evos::backup
