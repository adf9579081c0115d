#include <evos/text_checks.hpp>

#include <fmt/core.h>

namespace evos::text {
namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 if it is not well-formed
// (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool in_set(char c, std::string_view extra) { return is_alnum(c) || extra.find(c) != std::string_view::npos; }

std::optional<std::string> check_chars(std::string_view value, std::string_view extra, std::string_view what) {
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (!in_set(value[i], extra))
      return fmt::format("has character {} at position {}, which is not allowed in {}",
                         quote_for_message(value.substr(i, 1)), i + 1, what);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> text_problem(std::string_view value, std::size_t max_bytes) {
  if (value.size() > max_bytes) return fmt::format("is {} bytes long; the limit is {}", value.size(), max_bytes);
  for (std::size_t i = 0; i < value.size();) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7F) return fmt::format("contains a control character (\\x{:02x}) at byte {}", c, i + 1);
    const std::size_t n = utf8_sequence_length(value, i);
    if (n == 0) return fmt::format("is not valid UTF-8 (byte {} is \\x{:02x})", i + 1, c);
    i += n;
  }
  return std::nullopt;
}

std::optional<std::string> syntax_problem(std::string_view value, Syntax syntax) {
  static constexpr std::string_view token_chars = "._+:@-";
  static constexpr std::string_view path_chars = "._/+@:,=-";
  static constexpr std::string_view uri_chars = "._~:/?#@&+,;=%[]-";
  switch (syntax) {
    case Syntax::any_text:
      return std::nullopt;
    case Syntax::token:
      if (value.empty()) return "is empty";
      return check_chars(value, token_chars, "a name");
    case Syntax::node_template:
      return check_chars(value, "._+:@%-", "a name");
    case Syntax::path:
      if (value.empty() || value.front() != '/') return "is not an absolute path";
      if (value.find("/../") != std::string_view::npos || value.ends_with("/.."))
        return "contains a '..' component";
      return check_chars(value, path_chars, "a path");
    case Syntax::uri:
    case Syntax::uri_template: {
      const auto colon = value.find(':');
      if (colon == std::string_view::npos || colon == 0) return "is not a URI (no scheme)";
      for (std::size_t i = 0; i < colon; ++i)
        if (!in_set(value[i], "+.-")) return "has an invalid URI scheme";
      return check_chars(value, uri_chars, "a URI");
    }
  }
  return "has an unknown syntax";
}

std::string quote_for_message(std::string_view value) {
  std::string out = "'";
  const std::size_t limit = 64;
  for (std::size_t i = 0; i < value.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c >= 0x7F || c == '\'' || c == '\\')
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  if (value.size() > limit) out += "...";
  out += "'";
  return out;
}

}  // namespace evos::text
