// evos::file::write_atomically against a real directory: whole content, exact mode, no temporary
// left, symlinks replaced and never followed, and the no-replace mode that refuses atomically.
#include <evos/file/atomic_write.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "temp_dir.hpp"

namespace stdfs = std::filesystem;
using namespace evos;

namespace {
using evos::test::TempDir;

std::string slurp(const stdfs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int entries(const stdfs::path& dir) {
  int n = 0;
  for ([[maybe_unused]] const auto& e : stdfs::directory_iterator(dir)) ++n;
  return n;
}
}  // namespace

TEST_CASE("a file is written whole with the mode asked for, leaving no temporary") {
  TempDir d("evos-atomic");
  const auto target = d.path() / "r0.res";
  REQUIRE(file::write_atomically(target.string(), "resource r0 {}\n", {.mode = 0644}));
  CHECK(slurp(target) == "resource r0 {}\n");
  struct stat st {};
  REQUIRE(::stat(target.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0644);
  REQUIRE(file::write_atomically(target.string(), "second\n", {.mode = 0600}));
  CHECK(slurp(target) == "second\n");
  REQUIRE(::stat(target.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(entries(d.path()) == 1);
}

TEST_CASE("a symlink at the target is replaced, never written through") {
  TempDir d("evos-atomic");
  const auto victim = d.path() / "victim";
  { std::ofstream(victim) << "precious\n"; }
  const auto target = d.path() / "r0.res";
  stdfs::create_symlink(victim, target);
  REQUIRE(file::write_atomically(target.string(), "new\n"));
  CHECK(slurp(victim) == "precious\n");
  CHECK_FALSE(stdfs::is_symlink(target));
  CHECK(slurp(target) == "new\n");
}

TEST_CASE("without replace an existing target (even a dangling symlink) is refused and kept") {
  TempDir d("evos-atomic");
  const auto target = d.path() / "r0.res";
  { std::ofstream(target) << "old\n"; }
  auto r = file::write_atomically(target.string(), "new\n", {.replace = false});
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::invalid_argument);
  CHECK(r.error().message() == target.string() + " exists");
  CHECK(slurp(target) == "old\n");
  const auto dangling = d.path() / "dangling.res";
  stdfs::create_symlink(d.path() / "nowhere", dangling);
  CHECK_FALSE(file::write_atomically(dangling.string(), "x", {.replace = false}));
  CHECK_FALSE(stdfs::exists(d.path() / "nowhere"));
  CHECK(entries(d.path()) == 2);
  const auto fresh = d.path() / "r1.res";
  REQUIRE(file::write_atomically(fresh.string(), "r1\n", {.replace = false}));
  CHECK(slurp(fresh) == "r1\n");
  CHECK(entries(d.path()) == 3);
}

TEST_CASE("a file that cannot be written is an error naming it, and a missing parent is made on request") {
  TempDir d("evos-atomic");
  auto missing = file::write_atomically((d.path() / "no-dir" / "x").string(), "x");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == Errc::backend);
  CHECK(missing.error().message().find("no-dir") != std::string::npos);
  REQUIRE(file::write_atomically((d.path() / "made" / "x").string(), "x", {.create_parent = 0700}));
  struct stat st {};
  REQUIRE(::stat((d.path() / "made").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK_FALSE(file::write_atomically((d.path() / "made" / "").string(), "x"));
}
