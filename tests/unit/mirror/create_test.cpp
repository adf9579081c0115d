// evosctl mirror create's decisions (evos::mirror, create.hpp) and the resync safety check.
#include "fake_mirror.hpp"

#include <evos/mirror/admin.hpp>
#include <evos/mirror/create.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::mirror;
using namespace evos::testing;
using drbd::ConnState;
using drbd::DiskState;
using drbd::Role;

TEST_CASE("a --host spec gives the host; malformed ones are refused naming the spec") {
  auto h = parse_host("alpha,0,198.18.1.1:7789,/dev/vg/r0");
  REQUIRE(h);
  CHECK(h->name == "alpha");
  CHECK(h->node_id == 0);
  CHECK(h->address == "198.18.1.1:7789");
  CHECK(h->disk == "/dev/vg/r0");
  CHECK(h->meta_disk == "internal");
  auto meta = parse_host("beta,31,[fd00::2]:7789,/dev/vg/r0,/dev/vg/r0-meta");
  REQUIRE(meta);
  CHECK(meta->node_id == 31);
  CHECK(meta->meta_disk == "/dev/vg/r0-meta");
  for (const char* bad : {"alpha,0,198.18.1.1:7789", "alpha,0,a,b,c,d", "", "alpha"}) {
    INFO(bad);
    auto r = parse_host(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::invalid_argument);
    CHECK(r.error().message().find("expected NAME,NODE_ID,ADDRESS,DISK") != std::string::npos);
  }
  for (const char* bad : {"alpha,32,a,/d", "alpha,-1,a,/d", "alpha,,a,/d", "alpha,x,a,/d", "alpha,100,a,/d", "alpha, 1,a,/d"}) {
    INFO(bad);
    auto r = parse_host(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("is not 0..31") != std::string::npos);
  }
}

TEST_CASE("a mirror plan has two hosts and evos' or LINBIT's fence handler") {
  MirrorRequest req{.name = "r0",
                    .minor = 7,
                    .hosts = {"alpha,0,198.18.1.1:7789,/dev/vg/r0", "beta,1,198.18.1.2:7789,/dev/vg/r0"},
                    .evos_handler = "/usr/libexec/evos/evos-drbd-fence"};
  auto m = plan_mirror(req);
  REQUIRE(m);
  CHECK(m->resource == "r0");
  CHECK(m->minor == 7);
  CHECK(m->hosts[1].name == "beta");
  CHECK(m->fence_peer.path == "/usr/libexec/evos/evos-drbd-fence");
  CHECK(m->fence_peer.args == std::vector<std::string>{"fence"});
  CHECK(m->unfence_peer.args == std::vector<std::string>{"unfence"});
  CHECK(drbd::render_res(*m));

  req.fence_handler = "linbit";
  auto linbit = plan_mirror(req);
  REQUIRE(linbit);
  CHECK(linbit->fence_peer.path == drbd::Mirror{}.fence_peer.path);

  req.fence_handler = "none";
  auto bad = plan_mirror(req);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() == "--fence-handler 'none' is not evos or linbit");

  req.fence_handler = "evos";
  req.hosts.pop_back();
  CHECK(plan_mirror(req).error().message() == "a mirror has exactly two --host options");
  req.hosts = {"alpha,0,a:1,/d", "beta,1,b:1,/d", "gamma,2,c:1,/d"};
  CHECK_FALSE(plan_mirror(req));
  req.hosts = {"alpha,0,a:1,/d", "beta"};
  CHECK(plan_mirror(req).error().message().find("'beta'") != std::string::npos);

  req.name = "all";
  auto name = plan_mirror(req);
  REQUIRE_FALSE(name);
  CHECK(name.error().message().rfind("mirror 'all' ", 0) == 0);
}

TEST_CASE("the .res file goes to /etc/drbd.d unless --output names an absolute plain path") {
  CHECK(*res_file_path("r0", "") == "/etc/drbd.d/r0.res");
  CHECK(*res_file_path("r0", "/tmp/x/r0.res") == "/tmp/x/r0.res");
  CHECK_FALSE(res_file_path("../r0", ""));
  for (const char* bad : {"relative.res", "/tmp/a b.res", "/tmp/$(id).res", "/etc/drbd.d/"}) {
    INFO(bad);
    auto r = res_file_path("r0", bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::invalid_argument);
    CHECK(r.error().message().rfind("--output ", 0) == 0);
  }
}

TEST_CASE("names from the command line are checked before they reach a tool") {
  CHECK(check_mirror_name("r0"));
  CHECK_FALSE(check_mirror_name(""));
  CHECK(check_node_name("alpha", "--discard"));
  for (const char* bad : {"", "-alpha", "--force", "a b", "a;reboot", "a/b"}) {
    INFO(bad);
    auto r = check_node_name(bad, "--discard");
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("--discard") == 0);
    CHECK(r.error().message().find("is not a node name") != std::string::npos);
  }
}

TEST_CASE("a full resync is allowed only from a connected UpToDate peer") {
  CHECK(check_resync(healthy()));
  CHECK(check_resync(syncing_target()));  // the peer is UpToDate: starting over is safe
  auto source = check_resync(syncing_source());  // this node holds the only good copy
  REQUIRE_FALSE(source);
  CHECK(source.error().code() == Errc::invalid_argument);
  CHECK(source.error().message().find("would discard the only good copy") != std::string::npos);
  CHECK_FALSE(check_resync(two_node(Role::primary, DiskState::up_to_date, ConnState::connecting, Role::unknown,
                                    DiskState::dunknown)));
  // A peer that reports UpToDate over a connection that is not Connected is not enough.
  CHECK_FALSE(check_resync(two_node(Role::secondary, DiskState::outdated, ConnState::disconnecting, Role::primary,
                                    DiskState::up_to_date)));
  auto down = check_resync(drbd::ResourceState{.name = "r0"});
  REQUIRE_FALSE(down);
  CHECK(down.error().code() == Errc::not_found);
}
