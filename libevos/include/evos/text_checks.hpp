// Checks on untrusted text (OCF parameters, names read from files and other tools' output).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace evos::text {

// The first problem with `value` as text at all, or nullopt: invalid UTF-8, a control
// character (newline included), or more than `max_bytes` bytes.
std::optional<std::string> text_problem(std::string_view value, std::size_t max_bytes);

// The character classes evos accepts in identifiers, paths and URIs. They exclude white space,
// quotes, '$', '`', '\', ';'-free shell metacharacters where the syntax allows, so a value can
// never be misread by anything downstream (evos itself never uses a shell).
enum class Syntax {
  any_text,   // only text_problem() applies
  token,      // [A-Za-z0-9._+:@-]: domain and node names, suffixes
  path,       // absolute path of [A-Za-z0-9._/+@:,=-]
  uri,        // scheme ':' then [A-Za-z0-9._~:/?#@&+,;=%[]-]
  node_template,  // a token that may contain %n
  uri_template,   // a uri that may contain %n
};

std::optional<std::string> syntax_problem(std::string_view value, Syntax syntax);

// A printable rendering of untrusted bytes for messages: non-printables as \xNN, cut at 64 bytes.
std::string quote_for_message(std::string_view value);

}  // namespace evos::text
