// evos::backup::Digest: the 32-byte name of a chunk (SHA-256 of its content, or HMAC-SHA-256 with
// the store's id key when the store is encrypted; docs/backup-format.md, "Chunks").
#pragma once

#include <evos/error.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace evos::backup {

using Digest = std::array<std::uint8_t, 32>;

// 64 lower-case hex digits.
std::string to_hex(const Digest& d);
// Exactly 64 hex digits (either case); Errc::invalid_argument naming `what` otherwise.
Result<Digest> parse_digest(std::string_view hex, std::string_view what);

// Any byte count as hex / back; used for keys in key files.
std::string bytes_to_hex(const std::uint8_t* data, std::size_t size);

}  // namespace evos::backup
