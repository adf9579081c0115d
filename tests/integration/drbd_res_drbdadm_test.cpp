// The .res files evos renders, checked by the real drbdadm (drbd-utils, no kernel module needed):
// `drbdadm -c FILE dump` parses and validates the configuration, `drbdadm -c FILE -d up RES` prints
// the drbdsetup/drbdmeta commands it would run. drbdadm picks the `on` section whose name equals
// `uname -n`; the environment variable __DRBD_NODE__ overrides that ("PRETENDING that I am"), and
// `dump` (of all resources) also insists that the local address is configured on this host; with a
// resource name, `dump RES` prints the same complaint but exits 0, so the tests dump everything.
#include <evos/drbd/mirror_config.hpp>
#include <evos/proc/run.hpp>

#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace evos;
using namespace evos::drbd;

namespace {

using evos::test::TempDir;

Mirror mirror(const std::string& local_name, const std::string& local_address, const std::string& peer_address) {
  Mirror m;
  m.resource = "vm-web1";
  m.minor = 1000;
  m.hosts[0] = Host{.name = local_name, .node_id = 0, .address = local_address, .disk = "/dev/vg0/vm-web1"};
  m.hosts[1] = Host{.name = "beta", .node_id = 1, .address = peer_address, .disk = "/dev/vg0/vm-web1"};
  m.split_brain_notify = Handler{"/usr/lib/drbd/notify-split-brain.sh", {"root"}};
  return m;
}

// Writes the resource and a drbd.conf that includes only it (no global_common.conf).
fs::path write_config(const TempDir& dir, const Mirror& m) {
  auto text = render_res(m);
  REQUIRE(text);
  const fs::path res = dir.path() / (m.resource + ".res");
  std::ofstream(res) << *text;
  const fs::path conf = dir.path() / "drbd.conf";
  std::ofstream(conf) << "include \"" << res.string() << "\";\n";
  return conf;
}

proc::Completed drbdadm(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> argv{"drbdadm"};
  argv.insert(argv.end(), args.begin(), args.end());
  proc::Options options;
  options.env = env;
  auto ran = proc::run(argv, Deadline::after(Millis(20000)), options);
  if (!ran) FAIL("drbdadm (drbd-utils) must be installed: " << ran.error().message());
  INFO(proc::describe(argv) << "\nstdout:\n" << ran->out << "\nstderr:\n" << ran->err);
  return *ran;
}

// drbdadm aligns values with a varying number of spaces; compare with runs of blanks collapsed.
std::string squeeze(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out += c;
  }
  return out;
}

bool has(const std::string& text, const std::string& part) { return squeeze(text).find(squeeze(part)) != std::string::npos; }

std::string host_name() {
  auto ran = proc::run({"uname", "-n"}, Deadline::after(Millis(5000)));
  REQUIRE(ran);
  std::string name = ran->out;
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  return name;
}

}  // namespace

TEST_CASE("real drbdadm dumps the rendered resource for the host named by uname") {
  TempDir dir("evos-drbdadm");
  std::string me = host_name();
  std::map<std::string, std::string> env;
  if (!validate(mirror(me, "127.0.0.1:7789", "198.18.0.2:7789"))) {
    WARN("host name '" << me << "' is not an RFC 1123 name evos accepts; using __DRBD_NODE__=alpha");
    me = "alpha";
    env["__DRBD_NODE__"] = me;
  }
  const fs::path conf = write_config(dir, mirror(me, "127.0.0.1:7789", "198.18.0.2:7789"));
  const auto dump = drbdadm({"-c", conf.string(), "dump"}, env);
  REQUIRE(dump.exit_code == 0);
  CHECK(has(dump.out, "resource vm-web1 on " + me + ": not ignored, not stacked"));
  CHECK(has(dump.out, "fencing          resource-and-stonith;"));
  CHECK(has(dump.out, "allow-two-primaries  no;"));
  CHECK(has(dump.out, "after-sb-1pri    discard-secondary;"));
  CHECK(has(dump.out, "verify-alg       sha256;"));
  CHECK(has(dump.out, "auto-promote      no;"));
  CHECK(has(dump.out, "fence-peer       /usr/lib/drbd/crm-fence-peer.9.sh;"));
  CHECK(has(dump.out, "split-brain      \"/usr/lib/drbd/notify-split-brain.sh root\";"));
  CHECK(has(dump.out, "address          ipv4 198.18.0.2:7789;"));

  const auto up = drbdadm({"-c", conf.string(), "-d", "up", "vm-web1"}, env);
  REQUIRE(up.exit_code == 0);
  CHECK(has(up.out, "drbdsetup new-resource vm-web1 0 --auto-promote=no\n"));
  CHECK(has(up.out, "drbdsetup new-minor vm-web1 1000 0\n"));
  CHECK(has(up.out, "drbdsetup new-peer vm-web1 1 --_name=beta"));
  CHECK(has(up.out, "--after-sb-0pri=discard-zero-changes --allow-two-primaries=no --fencing=resource-and-stonith --protocol=C"));
  CHECK(has(up.out, "--_name=beta --verify-alg=sha256 --rr-conflict=disconnect"));
  CHECK(has(up.out, "drbdsetup new-path vm-web1 1 ipv4:127.0.0.1:7789 ipv4:198.18.0.2:7789\n"));
  CHECK(has(up.out, "drbdsetup attach 1000 /dev/vg0/vm-web1 /dev/vg0/vm-web1 internal --on-io-error=detach\n"));
  CHECK(has(up.out, "drbdsetup connect vm-web1 1\n"));
  // Online verify (evosctl mirror verify): drbdadm starts it with the peer, volume by volume.
  const auto verify = drbdadm({"-c", conf.string(), "-d", "verify", "vm-web1"}, env);
  REQUIRE(verify.exit_code == 0);
  CHECK(has(verify.out, "drbdsetup verify vm-web1 1 0\n"));
}

TEST_CASE("real drbdadm reads both sides with the __DRBD_NODE__ override") {
  TempDir dir("evos-drbdadm");
  Mirror m = mirror("alpha", "[::1]:7789", "[fd00::2]:7789");
  m.allow_two_primaries = true;
  const fs::path conf = write_config(dir, m);
  const auto dump = drbdadm({"-c", conf.string(), "dump"}, {{"__DRBD_NODE__", "alpha"}});
  REQUIRE(dump.exit_code == 0);
  CHECK(has(dump.err, "PRETENDING that I am >>alpha<<"));
  CHECK(has(dump.out, "address          ipv6 [::1]:7789;"));
  CHECK(has(dump.out, "allow-two-primaries  yes;"));

  const auto alpha = drbdadm({"-c", conf.string(), "-d", "up", "vm-web1"}, {{"__DRBD_NODE__", "alpha"}});
  REQUIRE(alpha.exit_code == 0);
  CHECK(has(alpha.out, "--allow-two-primaries=yes"));
  CHECK(has(alpha.out, "drbdsetup new-path vm-web1 1 ipv6:\\[::1\\]:7789 ipv6:\\[fd00::2\\]:7789\n"));
  // The peer's side: node id 1, connecting to alpha. (`dump` would refuse here: fd00::2 is not an
  // address of this machine.)
  const auto beta = drbdadm({"-c", conf.string(), "-d", "up", "vm-web1"}, {{"__DRBD_NODE__", "beta"}});
  REQUIRE(beta.exit_code == 0);
  CHECK(has(beta.out, "drbdsetup new-resource vm-web1 1 --auto-promote=no\n"));
  CHECK(has(beta.out, "drbdsetup new-peer vm-web1 0 --_name=alpha"));
  // The migration window opens without a restart: net-options on the running connection.
  const auto window = drbdadm({"-c", conf.string(), "-d", "net-options", "--allow-two-primaries=yes", "vm-web1"},
                              {{"__DRBD_NODE__", "alpha"}});
  REQUIRE(window.exit_code == 0);
  CHECK(has(window.out, "drbdsetup net-options vm-web1 1"));
  CHECK(has(window.out, "--allow-two-primaries=yes"));
}

TEST_CASE("real drbdadm refuses a dump whose local address is not on this host") {
  TempDir dir("evos-drbdadm");
  const fs::path conf = write_config(dir, mirror("alpha", "198.18.0.1:7789", "198.18.0.2:7789"));
  const auto dump = drbdadm({"-c", conf.string(), "dump"}, {{"__DRBD_NODE__", "alpha"}});
  CHECK(dump.exit_code == 10);
  CHECK(has(dump.err, "IP 198.18.0.1 not found on this host."));
}

TEST_CASE("real drbdadm dumps the lab addresses inside a private network namespace") {
  // Like the suite's other root tests this fails rather than pass unchecked: Catch2 2.13 (Debian
  // 12) has no SKIP, and a return here would count as a pass.
  if (geteuid() != 0) FAIL("needs root: the private network namespace needs unshare --net");
  TempDir dir("evos-drbdadm");
  const fs::path conf = write_config(dir, mirror("alpha", "198.18.0.1:7789", "198.18.0.2:7789"));
  // A fixed script; the configuration path is an argument, never part of the script text.
  auto ran = proc::run({"unshare", "--net", "--", "sh", "-c",
                        "ip link set lo up && ip addr add 198.18.0.1/32 dev lo && exec drbdadm -c \"$1\" dump",
                        "sh", conf.string()},
                       Deadline::after(Millis(20000)), proc::Options{.env = {{"__DRBD_NODE__", "alpha"}}});
  REQUIRE(ran);
  INFO(ran->err);
  REQUIRE(ran->exit_code == 0);
  CHECK(has(ran->out, "address          ipv4 198.18.0.1:7789;"));
}
