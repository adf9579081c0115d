#include <evos/clone/image_info.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::clone;

namespace {

// What qemu-img 7.2 prints for `qemu-img info --backing-chain -U --output=json` of an overlay on
// a template's disk (trimmed of the fields evos does not read).
constexpr char overlay_chain[] = R"([
    {
        "virtual-size": 67108864,
        "filename": "/srv/vms/c1/c1-vda.qcow2",
        "cluster-size": 65536,
        "format": "qcow2",
        "actual-size": 200704,
        "format-specific": {"type": "qcow2", "data": {"compat": "1.1", "refcount-bits": 16}},
        "full-backing-filename": "/srv/vms/tpl/tpl-vda.qcow2",
        "backing-filename": "/srv/vms/tpl/tpl-vda.qcow2",
        "backing-filename-format": "qcow2",
        "dirty-flag": false
    },
    {
        "virtual-size": 67108864,
        "filename": "/srv/vms/tpl/tpl-vda.qcow2",
        "cluster-size": 65536,
        "format": "qcow2",
        "actual-size": 33751040,
        "dirty-flag": false
    }
])";

}  // namespace

TEST_CASE("qemu-img's backing chain of an overlay is read top first", "[clone]") {
  auto chain = parse_backing_chain(overlay_chain);
  REQUIRE(chain);
  REQUIRE(chain->size() == 2);
  CHECK((*chain)[0].filename == "/srv/vms/c1/c1-vda.qcow2");
  CHECK((*chain)[0].format == "qcow2");
  CHECK((*chain)[0].virtual_size == 67108864u);
  CHECK((*chain)[0].backing == "/srv/vms/tpl/tpl-vda.qcow2");
  CHECK((*chain)[0].backing_format == "qcow2");
  CHECK_FALSE((*chain)[1].backing);
  CHECK(chain_has_backing_file(*chain, "/srv/vms/tpl/tpl-vda.qcow2"));
  CHECK_FALSE(chain_has_backing_file(*chain, "/srv/vms/c1/c1-vda.qcow2"));  // the top is the disk itself
  CHECK_FALSE(chain_has_backing_file(*chain, "/srv/vms/tpl/tpl-vdb.qcow2"));
}

TEST_CASE("a standalone image is a chain of one", "[clone]") {
  auto chain = parse_backing_chain(R"([{"virtual-size": 2147483648, "filename": "/a/b.img", "format": "raw"}])");
  REQUIRE(chain);
  CHECK(chain->size() == 1);
  CHECK((*chain)[0].virtual_size == 2147483648u);
  CHECK_FALSE(chain_has_backing_file(*chain, "/a/b.img"));
}

TEST_CASE("an old qemu-img's backing-filename stands in for full-backing-filename", "[clone]") {
  auto chain = parse_backing_chain(
      R"([{"virtual-size": 1, "filename": "/a", "format": "qcow2", "backing-filename": "/b"},
          {"virtual-size": 1, "filename": "/b", "format": "raw"}])");
  REQUIRE(chain);
  CHECK((*chain)[0].backing == "/b");
}

TEST_CASE("hostile or malformed qemu-img output is an error that says what is wrong", "[clone]") {
  auto problem = [](std::string_view json) {
    auto r = parse_backing_chain(json);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::backend);
    return r.error().message();
  };
  CHECK_THAT(problem(""), Catch::Contains("did not print JSON"));
  CHECK_THAT(problem("qemu-img: Could not open '/x': No such file"), Catch::Contains("did not print JSON"));
  CHECK_THAT(problem(R"([{"filename": "/a", "format": "raw", "virtual-size": 1})"), Catch::Contains("did not print JSON"));
  CHECK_THAT(problem("[]"), Catch::Contains("non-empty array"));
  CHECK_THAT(problem(R"({"filename": "/a", "format": "raw", "virtual-size": 1})"), Catch::Contains("non-empty array"));
  CHECK_THAT(problem(R"([42])"), Catch::Contains("image 0 is not an object"));
  CHECK_THAT(problem(R"([{"format": "raw", "virtual-size": 1}])"), Catch::Contains("no \"filename\""));
  CHECK_THAT(problem(R"([{"filename": "/a", "virtual-size": 1}])"), Catch::Contains("no \"format\""));
  CHECK_THAT(problem(R"([{"filename": 7, "format": "raw", "virtual-size": 1}])"), Catch::Contains("\"filename\" that is not"));
  CHECK_THAT(problem(R"([{"filename": "", "format": "raw", "virtual-size": 1}])"), Catch::Contains("\"filename\" that is not"));
  CHECK_THAT(problem(R"([{"filename": "/a", "format": "raw"}])"), Catch::Contains("virtual-size"));
  CHECK_THAT(problem(R"([{"filename": "/a", "format": "raw", "virtual-size": -1}])"), Catch::Contains("virtual-size"));
  CHECK_THAT(problem(R"([{"filename": "/a", "format": "raw", "virtual-size": 1.5}])"), Catch::Contains("virtual-size"));
  CHECK_THAT(problem(R"([{"filename": "/a", "format": "raw", "virtual-size": "1"}])"), Catch::Contains("virtual-size"));
  CHECK_THAT(problem(R"([{"filename": "/a", "format": "qcow2", "virtual-size": 1, "full-backing-filename": ["/b"]}])"),
             Catch::Contains("\"full-backing-filename\" that is not"));
  // A backing file named but not listed: the chain is cut short.
  CHECK_THAT(problem(R"([{"filename": "/a", "format": "qcow2", "virtual-size": 1, "full-backing-filename": "/b"}])"),
             Catch::Contains("/b of /a is not in the chain"));
  // The next image is not the backing file the previous one names.
  CHECK_THAT(problem(R"([{"filename": "/a", "format": "qcow2", "virtual-size": 1, "full-backing-filename": "/b"},
                         {"filename": "/etc/shadow", "format": "raw", "virtual-size": 1}])"),
             Catch::Contains("names /b as its backing file"));
  // An image listed below one without a backing file.
  CHECK_THAT(problem(R"([{"filename": "/a", "format": "raw", "virtual-size": 1},
                         {"filename": "/b", "format": "raw", "virtual-size": 1}])"),
             Catch::Contains("names none as its backing file"));
  // A chain that comes back to an image it passed.
  CHECK_THAT(problem(R"([{"filename": "/a", "format": "qcow2", "virtual-size": 1, "full-backing-filename": "/b"},
                         {"filename": "/b", "format": "qcow2", "virtual-size": 1, "full-backing-filename": "/a"},
                         {"filename": "/a", "format": "qcow2", "virtual-size": 1}])"),
             Catch::Contains("loops at /a"));
}

TEST_CASE("a backing chain of more than 64 images is refused before it is walked", "[clone]") {
  std::string json = "[";
  for (int i = 0; i < 65; ++i) {
    if (i) json += ",";
    json += R"({"filename": "/i)" + std::to_string(i) + R"(", "format": "qcow2", "virtual-size": 1)";
    if (i < 64) json += R"(, "full-backing-filename": "/i)" + std::to_string(i + 1) + R"(")";
    json += "}";
  }
  json += "]";
  auto r = parse_backing_chain(json);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message(), Catch::Contains("65 images"));
}
