// Verify records: what `evosctl backup verify` keeps per VM in the store for the metrics
// (docs/backup-format.md, "Verify records").
#include <evos/backup/manifest.hpp>
#include <evos/backup/verify_record.hpp>

#include <catch2/catch.hpp>

using namespace evos::backup;

namespace {
constexpr std::int64_t now = 1796688000123;  // 2026-12-08T00:00:00.123Z
}

TEST_CASE("a verify's findings become one record per VM", "[backup]") {
  const auto recs = verify_records({"web1/20261206T221005.123Z", "web1/20261207T221005.123Z", "db/20261206T010000.000Z"},
                                   {"web1/20261206T221005.123Z"}, now);
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].vm == "db");
  CHECK(recs[0].ok);
  CHECK(recs[0].checked == 1);
  CHECK(recs[0].damaged.empty());
  CHECK(recs[1].vm == "web1");
  CHECK_FALSE(recs[1].ok);
  CHECK(recs[1].checked == 2);
  CHECK(recs[1].damaged == std::vector<std::string>{"web1/20261206T221005.123Z"});
  CHECK(recs[0].time == format_backup_time(now));
}

TEST_CASE("a backup listed twice counts once, and nothing checked makes no record", "[backup]") {
  auto recs = verify_records({"a/20261206T221005.123Z", "a/20261206T221005.123Z", "not an id"}, {}, now);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].checked == 1);
  CHECK(verify_records({}, {}, now).empty());
}

TEST_CASE("a verify record survives its file", "[backup]") {
  VerifyRecord r{"web1", format_backup_time(now), false, 3, {"web1/20261206T221005.123Z"}};
  const auto text = format_verify_record(r);
  CHECK(text.back() == '\n');
  auto back = parse_verify_record(text, "web1.json");
  REQUIRE(back);
  CHECK(back->vm == r.vm);
  CHECK(back->time == r.time);
  CHECK(back->ok == r.ok);
  CHECK(back->checked == 3);
  CHECK(back->damaged == r.damaged);
}

TEST_CASE("a damaged or foreign verify record is refused, naming the file", "[backup]") {
  const std::string good = format_verify_record({"web1", format_backup_time(now), true, 1, {}});
  CHECK(parse_verify_record(good, "f"));
  for (const auto& text : std::vector<std::string>{
           std::string("not json"),
           std::string("[1]"),
           std::string(R"({"format":"evos-backup-manifest","version":1,"vm":"web1","time":"20261206T221005.123Z","ok":true,"checked":1,"damaged":[]})"),
           std::string(R"({"format":"evos-backup-verify","version":2,"vm":"web1","time":"20261206T221005.123Z","ok":true,"checked":1,"damaged":[]})"),
           std::string(R"({"format":"evos-backup-verify","version":1,"vm":"../x","time":"20261206T221005.123Z","ok":true,"checked":1,"damaged":[]})"),
           std::string(R"({"format":"evos-backup-verify","version":1,"vm":"web1","time":"yesterday","ok":true,"checked":1,"damaged":[]})"),
           std::string(R"({"format":"evos-backup-verify","version":1,"vm":"web1","time":"20261206T221005.123Z","ok":"yes","checked":1,"damaged":[]})"),
           std::string(R"({"format":"evos-backup-verify","version":1,"vm":"web1","time":"20261206T221005.123Z","ok":true,"checked":-1,"damaged":[]})"),
           std::string(R"({"format":"evos-backup-verify","version":1,"vm":"web1","time":"20261206T221005.123Z","ok":true,"checked":1,"damaged":["web1/20261206T221005.123Z"]})"),
           std::string(R"({"format":"evos-backup-verify","version":1,"vm":"web1","time":"20261206T221005.123Z","ok":false,"checked":1,"damaged":[]})"),
       }) {
    auto r = parse_verify_record(text, "STORE/verify/web1.json");
    CHECK_FALSE(r);
    if (!r) CHECK(r.error().message().find("STORE/verify/web1.json") != std::string::npos);
  }
}
