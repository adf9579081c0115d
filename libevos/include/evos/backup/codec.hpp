// evos::backup::Codec: how one piece of backup data (a chunk of a disk, a manifest) becomes the
// bytes stored in a file, and back, with every check on the way back. One blob layout for both
// (docs/backup-format.md, "Blobs"): a 48-byte header (magic, flags, kind, plain size, digest),
// for encrypted stores a 12-byte nonce and 16-byte GCM tag, then the payload (zstd level 1 unless
// that does not shrink it, AES-256-GCM on top when a key is given, the header as associated data).
//
// Decoding never returns data that differs from what was encoded: the digest of the decoded bytes
// must equal the header's (and, for a chunk, its name), so a flipped, truncated or swapped file is
// an error naming the problem, never a silent difference.
#pragma once

#include <evos/backup/digest.hpp>
#include <evos/error.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace evos::backup {

// The two secrets of an encrypted store, from its key file (docs/backup.md, "Encryption").
struct Key {
  std::array<std::uint8_t, 32> cipher{};  // AES-256-GCM
  std::array<std::uint8_t, 32> id{};      // HMAC-SHA-256 for chunk names: the store leaks no content hashes
};

// A new key from the system's random source (OpenSSL RAND_bytes).
Result<Key> generate_key();
// The key file's text (JSON, docs/backup-format.md "Key file") and its parser: a clear error
// for anything else.
std::string format_key_file(const Key& key);
Result<Key> parse_key_file(std::string_view text);
// 16 hex digits that identify a key without revealing it (HMAC of a fixed label): the store
// records it so a wrong key is named as such before any data is read.
std::string key_fingerprint(const Key& key);

enum class BlobKind : std::uint8_t { chunk = 1, manifest = 2 };

inline constexpr std::size_t blob_header_size = 48;
inline constexpr std::size_t max_blob_plain_size = 64u << 20;  // chunks are at most 64 MiB

class Codec {
 public:
  explicit Codec(std::optional<Key> key = std::nullopt) : key_(std::move(key)) {}

  [[nodiscard]] bool encrypted() const noexcept { return key_.has_value(); }

  // SHA-256, or HMAC-SHA-256 with the id key.
  [[nodiscard]] Digest digest(std::span<const std::uint8_t> data) const;

  // The blob for `data` whose digest() is `id`; `compress` false stores it as is (already
  // compressed data, or a test that wants to know where the bytes are).
  [[nodiscard]] Result<std::vector<std::uint8_t>> encode(BlobKind kind, std::span<const std::uint8_t> data,
                                                         const Digest& id, bool compress = true) const;
  // The same blob, built in `out` (grown when too small, otherwise reused: a backup worker keeps
  // one); the span is valid until `out` changes.
  [[nodiscard]] Result<std::span<const std::uint8_t>> encode_into(BlobKind kind, std::span<const std::uint8_t> data,
                                                                  const Digest& id, std::vector<std::uint8_t>& out,
                                                                  bool compress = true) const;

  // The content of `blob`, checked: magic, known flags, the expected kind, encryption matching
  // the store (an unencrypted blob in an encrypted store is refused: no downgrade), the GCM tag,
  // the decompressed size and the digest. `expected` (a chunk's file name) must equal the header's
  // digest. `what` names the blob in messages ("chunk 3f2a…", "manifest web1/20261206T…").
  [[nodiscard]] Result<std::vector<std::uint8_t>> decode(BlobKind kind, std::span<const std::uint8_t> blob,
                                                         const std::optional<Digest>& expected,
                                                         std::string_view what) const;

 private:
  std::optional<Key> key_;
};

}  // namespace evos::backup
