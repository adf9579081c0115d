// What `evosctl backup verify` found for one VM, kept in the store so the metrics can say whether
// the last verify of a VM's backups found them whole (docs/backup-format.md, "Verify records";
// evos_backup_last_verify_ok in docs/metrics.md). Pure: the format and how a verify's findings
// become one record per VM. Reading and writing them: evos/backup/verify.hpp.
#pragma once

#include <evos/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace evos::backup {

struct VerifyRecord {
  std::string vm;
  std::string time;                  // when the verify ended (format_backup_time)
  bool ok = true;                    // none of the VM's checked backups is damaged
  std::uint64_t checked = 0;         // backups of the VM the verify checked (damaged ones included)
  std::vector<std::string> damaged;  // their ids (VM/TIME), sorted
};

// One record per VM that has at least one backup in `checked` (every backup the verify looked
// at, also those whose manifest was unreadable), ok unless one of them is in `damaged`. Ids
// are VM/TIME; one that is not is ignored. Sorted by VM.
std::vector<VerifyRecord> verify_records(const std::vector<std::string>& checked,
                                         const std::vector<std::string>& damaged, std::int64_t now_unix_ms);

// The record's file: one JSON object, a line.
std::string format_verify_record(const VerifyRecord& r);
// Refuses anything but a version 1 record of a valid VM name; `what` names the file in errors.
Result<VerifyRecord> parse_verify_record(std::string_view text, std::string_view what);

}  // namespace evos::backup
