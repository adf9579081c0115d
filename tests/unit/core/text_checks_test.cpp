#include <evos/text_checks.hpp>

#include <catch2/catch.hpp>

using namespace evos::text;

TEST_CASE("text_problem accepts plain UTF-8 and rejects control characters - bad UTF-8 and long values") {
  CHECK_FALSE(text_problem("qemu:///system", 100));
  CHECK_FALSE(text_problem("d\xc3\xa9j\xc3\xa0 vu", 100));  // "déjà vu"
  CHECK(text_problem("a\nb", 100)->find("control character") != std::string::npos);
  CHECK(text_problem("a\tb", 100));
  CHECK(text_problem("a\x7f", 100));
  CHECK(text_problem("\xff", 100)->find("UTF-8") != std::string::npos);
  CHECK(text_problem("\xc0\xaf", 100));        // overlong '/'
  CHECK(text_problem("\xed\xa0\x80", 100));    // UTF-16 surrogate
  CHECK(text_problem("\xe2\x82", 100));        // truncated sequence
  CHECK(text_problem(std::string(101, 'a'), 100)->find("101 bytes") != std::string::npos);
}

TEST_CASE("syntax_problem keeps shell metacharacters out of every syntax") {
  for (auto s : {Syntax::token, Syntax::path, Syntax::uri}) {
    for (const char* bad : {"/a b", "/a'b", "/a\"b", "/$(id)", "/`id`", "/a;b|c", "/a\\b", "/a*b", "/a>b"}) {
      INFO(bad);
      CHECK(syntax_problem(bad, s));
    }
  }
  CHECK_FALSE(syntax_problem("/etc/evos/vm1.xml", Syntax::path));
  CHECK(syntax_problem("etc/vm1.xml", Syntax::path));
  CHECK(syntax_problem("/etc/../shadow", Syntax::path));
  CHECK_FALSE(syntax_problem("qemu+tcp://node2/system", Syntax::uri));
  CHECK_FALSE(syntax_problem("qemu+unix:///system?socket=/tmp/x/libvirt-sock", Syntax::uri));
  CHECK(syntax_problem("no-scheme", Syntax::uri));
  CHECK_FALSE(syntax_problem("vm-01.example_2", Syntax::token));
  CHECK(syntax_problem("", Syntax::token));
}

TEST_CASE("quote_for_message escapes what a log line must not carry") {
  CHECK(quote_for_message("a\nb") == "'a\\x0ab'");
  CHECK(quote_for_message("it's") == "'it\\x27s'");
  CHECK(quote_for_message(std::string(100, 'x')).ends_with("...'"));
}
