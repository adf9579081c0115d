#include <evos/backup/chunk_map.hpp>
#include <evos/backup/gc_plan.hpp>
#include <evos/backup/manifest.hpp>
#include <evos/backup/progress.hpp>
#include <evos/backup/retention.hpp>

#include <catch2/catch.hpp>

#include <map>

using namespace evos;
using namespace evos::backup;

namespace {

std::int64_t at(const char* time) { return *parse_backup_time(time); }

std::map<std::string, std::string> kept(const std::vector<PruneDecision>& decisions) {
  std::map<std::string, std::string> out;
  for (const auto& d : decisions)
    if (d.keep) out.emplace(d.id, d.reason);
  return out;
}

Digest digest(std::uint8_t b) {
  Digest d{};
  d[0] = b;
  return d;
}

}  // namespace

TEST_CASE("prune: keep-last keeps the newest N, whatever order they come in") {
  std::vector<PruneCandidate> b = {{"a", at("20261201T000000.000Z")}, {"c", at("20261203T000000.000Z")}, {"b", at("20261202T000000.000Z")}};
  auto k = kept(plan_prune(b, {.last = 2}));
  CHECK(k.size() == 2);
  CHECK(k.count("c"));
  CHECK(k.count("b"));
}

TEST_CASE("prune: keep-daily keeps the newest backup of each of the last N days") {
  std::vector<PruneCandidate> b = {
      {"d1-early", at("20261201T010000.000Z")}, {"d1-late", at("20261201T230000.000Z")},
      {"d2-early", at("20261202T010000.000Z")}, {"d2-late", at("20261202T220000.000Z")},
      {"d3", at("20261203T120000.000Z")},
  };
  auto k = kept(plan_prune(b, {.daily = 2}));
  CHECK(k.size() == 2);
  CHECK(k["d3"] == "keep-daily 2026-12-03");
  CHECK(k["d2-late"] == "keep-daily 2026-12-02");
}

TEST_CASE("prune: each option covers only backups an earlier option did not keep (Proxmox's rule)") {
  // keep-last 1 holds Dec 3; keep-daily 2 then takes the two days before it, not Dec 3 again.
  std::vector<PruneCandidate> b = {
      {"d1", at("20261201T120000.000Z")}, {"d2", at("20261202T120000.000Z")}, {"d3a", at("20261203T100000.000Z")},
      {"d3b", at("20261203T120000.000Z")},
  };
  auto k = kept(plan_prune(b, {.last = 1, .daily = 2}));
  CHECK(k.size() == 3);
  CHECK(k["d3b"] == "keep-last");
  CHECK(k["d2"] == "keep-daily 2026-12-02");
  CHECK(k["d1"] == "keep-daily 2026-12-01");
  CHECK_FALSE(k.count("d3a"));
}

TEST_CASE("prune: weekly uses ISO weeks, across a year boundary") {
  // 2026-12-31 is a Thursday of ISO week 2026-W53; 2027-01-04 is Monday of 2027-W01.
  std::vector<PruneCandidate> b = {{"w53", at("20261231T120000.000Z")}, {"w53b", at("20270103T120000.000Z")},
                                   {"w01", at("20270104T120000.000Z")}};
  auto k = kept(plan_prune(b, {.weekly = 5}));
  CHECK(k["w01"] == "keep-weekly 2027-W01");
  CHECK(k["w53b"] == "keep-weekly 2026-W53");
  CHECK_FALSE(k.count("w53"));
}

TEST_CASE("prune: monthly and yearly") {
  std::vector<PruneCandidate> b = {{"2025", at("20250601T000000.000Z")}, {"jan", at("20260115T000000.000Z")},
                                   {"feb", at("20260210T000000.000Z")}, {"feb2", at("20260220T000000.000Z")}};
  auto k = kept(plan_prune(b, {.monthly = 1, .yearly = 2}));
  CHECK(k["feb2"] == "keep-monthly 2026-02");
  CHECK(k["2025"] == "keep-yearly 2025");
  CHECK(k.size() == 2);
}

TEST_CASE("prune: a policy that keeps nothing keeps everything") {
  std::vector<PruneCandidate> b = {{"a", 1}, {"b", 2}};
  CHECK(kept(plan_prune(b, {})).size() == 2);
}

TEST_CASE("gc: unreferenced chunks older than the cutoff go; referenced and recent ones stay") {
  const std::vector<ChunkFile> chunks = {{digest(1), 100, 10}, {digest(2), 100, 20}, {digest(3), 5000, 30}};
  const std::set<Digest> referenced = {digest(1)};
  const auto plan = plan_gc(chunks, referenced, 1000);
  REQUIRE(plan.remove.size() == 1);
  CHECK(plan.remove[0].id == digest(2));
  CHECK(plan.bytes_freed == 20);
  CHECK(plan.referenced == 1);
  CHECK(plan.pending == 1);
}

TEST_CASE("gc: the cutoff is the earlier of the GC's and the oldest running backup's start, minus the margin") {
  CHECK(gc_cutoff_ms(100000, std::nullopt, 1000) == 99000);
  CHECK(gc_cutoff_ms(100000, 50000, 1000) == 49000);
  CHECK(gc_cutoff_ms(100000, 200000, 1000) == 99000);
  CHECK(gc_safety_margin_ms == 300000);
}

TEST_CASE("dirty extents map to the chunks that hold them, clipped to the disk") {
  const std::vector<Extent> dirty = {{0, 1}, {4096 * 2 - 1, 2}, {4096 * 5, 4096 * 2}, {4096 * 100, 10}};
  CHECK(chunks_touched(dirty, 4096, 4096 * 8) == std::vector<std::uint64_t>{0, 1, 2, 5, 6});
  CHECK(chunks_touched({}, 4096, 4096).empty());
  CHECK(chunks_touched(std::vector<Extent>{{10, 0}}, 4096, 4096).empty());
  CHECK(chunk_count(4096 * 3 + 1, 4096) == 4);
}

TEST_CASE("all_zero sees a single set byte anywhere") {
  std::vector<std::uint8_t> v(100000, 0);
  CHECK(all_zero(v));
  for (std::size_t i : {std::size_t{0}, std::size_t{63}, std::size_t{64}, std::size_t{50000}, v.size() - 1}) {
    v[i] = 1;
    CHECK_FALSE(all_zero(v));
    v[i] = 0;
  }
  CHECK(all_zero(std::span<const std::uint8_t>(v.data(), 10)));
}

TEST_CASE("progress lines: bytes, percent, rate and time left") {
  CHECK(format_bytes(512) == "512 B");
  CHECK(format_bytes(1536) == "1.5 KiB");
  CHECK(format_bytes(2ull << 30) == "2.0 GiB");
  CHECK(format_progress({0, 100, std::chrono::milliseconds(0)}) == "0 B of 100 B (0%)");
  CHECK(format_progress({1ull << 30, 2ull << 30, std::chrono::milliseconds(1000)}) ==
        "1.0 GiB of 2.0 GiB (50%), 1.0 GiB/s, 1 s left");
  CHECK(format_progress({2ull << 30, 2ull << 30, std::chrono::milliseconds(2000)}) == "2.0 GiB of 2.0 GiB (100%), 1.0 GiB/s");
}
