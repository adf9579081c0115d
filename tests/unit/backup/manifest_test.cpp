#include <evos/backup/manifest.hpp>

#include <evos/backup/store_config.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evos;
using namespace evos::backup;

namespace {

Manifest sample() {
  Manifest m;
  m.vm = "web1";
  m.time = "20261206T221005.123Z";
  m.mode = Mode::snapshot;
  m.consistency = Consistency::frozen;
  m.node = "node-a";
  m.evos_version = "0.1.0";
  m.domain_xml = "<domain type='kvm'><name>web1</name></domain>";
  m.base = "web1/20261205T221005.000Z";
  m.checkpoint = "evos-20261206T221005.123Z";
  m.checkpoint_xml = "<domaincheckpoint/>";
  m.run_token = "0123abcd";
  m.plan = "dirty bitmap since evos-20261205T221005.000Z";
  m.chunk_size = 4u << 20;
  m.duration_ms = 812;
  DiskRecord d;
  d.target = "vda";
  d.source = "/srv/vm/web1.qcow2";
  d.format = "raw";
  d.size = (4u << 20) * 2 + 512;
  Digest a{};
  a[0] = 1;
  d.chunks = {a, std::nullopt, a};
  d.method = ReadMethod::dirty_bitmap;
  d.bytes_read = 65536;
  d.bytes_stored = 1234;
  d.chunks_new = 1;
  m.disks.push_back(d);
  return m;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string edited(const std::function<void(nlohmann::json&)>& edit) {
  auto j = nlohmann::json::parse(format_manifest(sample()));
  edit(j);
  return j.dump();
}

}  // namespace

TEST_CASE("a manifest round-trips with every field") {
  const Manifest m = sample();
  auto back = parse_manifest(format_manifest(m), "manifest");
  REQUIRE(back);
  CHECK(back->id() == "web1/20261206T221005.123Z");
  CHECK(back->mode == Mode::snapshot);
  CHECK(back->consistency == Consistency::frozen);
  CHECK(back->node == "node-a");
  CHECK(back->base == m.base);
  CHECK(back->domain_xml == m.domain_xml);
  CHECK(back->checkpoint == m.checkpoint);
  CHECK(back->checkpoint_xml == m.checkpoint_xml);
  CHECK(back->run_token == m.run_token);
  CHECK(back->plan == m.plan);
  REQUIRE(back->disks.size() == 1);
  CHECK(back->disks[0].chunks == m.disks[0].chunks);
  CHECK(back->disks[0].method == ReadMethod::dirty_bitmap);
  CHECK(back->disks[0].bytes_stored == 1234);
}

TEST_CASE("malformed manifests are refused naming the field") {
  struct Row {
    const char* expect;
    std::function<void(nlohmann::json&)> edit;
  };
  const std::vector<Row> rows = {
      {"version 2", [](auto& j) { j["version"] = 2; }},
      {"vm", [](auto& j) { j["vm"] = "../etc"; }},
      {"time", [](auto& j) { j["time"] = "yesterday"; }},
      {"mode", [](auto& j) { j["mode"] = "magic"; }},
      {"consistency", [](auto& j) { j["consistency"] = 3; }},
      {"chunk_size", [](auto& j) { j["chunk_size"] = 0; }},
      {"lists 2 chunks", [](auto& j) { j["disks"][0]["chunks"].erase(0); }},
      {"chunk 1", [](auto& j) { j["disks"][0]["chunks"][1] = 5; }},
      {"not a hex digest", [](auto& j) { j["disks"][0]["chunks"][0] = std::string(64, 'z'); }},
      {"target", [](auto& j) { j["disks"][0]["target"] = "../vda"; }},
      {"disks", [](auto& j) { j["disks"] = nlohmann::json::array(); }},
      {"base", [](auto& j) { j["base"] = "nonsense"; }},
      {"bytes_read", [](auto& j) { j["disks"][0]["bytes_read"] = -1; }},
      {"checkpoint", [](auto& j) { j["checkpoint"] = "cp1'; rm -rf /"; }},
      {"run_token", [](auto& j) { j["run_token"] = "not hex"; }},
  };
  for (const auto& row : rows) {
    auto r = parse_manifest(edited(row.edit), "manifest m");
    INFO(row.expect);
    REQUIRE_FALSE(r);
    CHECK(has(r.error().message(), row.expect));
    CHECK(has(r.error().message(), "manifest m"));
  }
  auto newer = parse_manifest(edited([](auto& j) { j["version"] = 2; }), "manifest m");
  CHECK(newer.error().code() == Errc::unimplemented);
  CHECK_FALSE(parse_manifest("not json", "m"));
  CHECK_FALSE(parse_manifest(R"({"format":"something else"})", "m"));
}

TEST_CASE("backup times are ISO 8601 basic UTC with milliseconds, checked both ways") {
  CHECK(format_backup_time(0) == "19700101T000000.000Z");
  CHECK(format_backup_time(1796595005123) == "20261206T221005.123Z");
  auto t = parse_backup_time("20261206T221005.123Z");
  REQUIRE(t);
  CHECK(*t == 1796595005123);
  for (const char* bad : {"", "20261206T221005Z", "20261306T221005.123Z", "20260231T000000.000Z", "2026-12-06T22:10:05.123Z",
                          "20261206T221005.12xZ"})
    CHECK_FALSE(parse_backup_time(bad));
}

TEST_CASE("backup ids and VM names are checked before they become paths") {
  auto id = parse_backup_id("web1/20261206T221005.123Z");
  REQUIRE(id);
  CHECK(id->vm == "web1");
  for (const char* bad : {"web1", "../x/20261206T221005.123Z", "web1/../../etc", "/20261206T221005.123Z", "a b/20261206T221005.123Z"})
    CHECK_FALSE(parse_backup_id(bad));
}

TEST_CASE("the store configuration round-trips; newer and malformed ones are named") {
  StoreConfig c;
  c.chunk_size = 1u << 20;
  c.key_fingerprint = "0123456789abcdef";
  c.created = "20261206T221005.123Z";
  auto back = parse_store_config(format_store_config(c), "evos-store.json");
  REQUIRE(back);
  CHECK(back->chunk_size == c.chunk_size);
  CHECK(back->key_fingerprint == c.key_fingerprint);
  auto newer = parse_store_config(R"({"format":"evos-backup-store","version":9,"chunk_size":4194304,"encryption":"none"})", "s");
  REQUIRE_FALSE(newer);
  CHECK(newer.error().code() == Errc::unimplemented);
  CHECK(has(newer.error().message(), "version 9"));
  CHECK_FALSE(parse_store_config(R"({"format":"evos-backup-store","version":1,"chunk_size":1000,"encryption":"none"})", "s"));
  CHECK_FALSE(parse_store_config(R"({"format":"evos-backup-store","version":1,"chunk_size":4194304,"encryption":"rot13"})", "s"));
  CHECK_FALSE(parse_store_config(R"({"format":"evos-backup-store","version":1,"chunk_size":4194304,"encryption":"aes-256-gcm"})", "s"));
  CHECK(chunk_size_problem(3u << 20));
  CHECK_FALSE(chunk_size_problem(4u << 20));
}
