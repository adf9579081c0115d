#include <evos/backup/codec.hpp>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zstd.h>

#include <cstring>
#include <memory>

namespace evos::backup {
namespace {

constexpr std::uint8_t magic[8] = {'E', 'V', 'O', 'S', 'B', 'L', 'B', '1'};
constexpr std::uint8_t flag_zstd = 1;
constexpr std::uint8_t flag_aes_gcm = 2;
constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;
constexpr int zstd_level = 1;  // issue 13: ≈1.5 GB/s here, most of the ratio of higher levels on disk images
constexpr char fingerprint_label[] = "evos-backup-key-fingerprint";

void put_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t get_u32(const std::uint8_t* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{p[i]} << (8 * i);
  return v;
}

Digest hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
  Digest out{};
  std::size_t len = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(), data.data(), data.size(), out.data(),
            out.size(), &len);
  return out;
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

struct ZstdCFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct ZstdDFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

// One context per thread: backup and restore run several encoders at once.
ZSTD_CCtx* compressor() {
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdCFree> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* decompressor() {
  thread_local std::unique_ptr<ZSTD_DCtx, ZstdDFree> ctx(ZSTD_createDCtx());
  return ctx.get();
}

Error bad(std::string_view what, std::string_view problem) {
  return make_error(Errc::backend, "{} is damaged: {}", what, problem);
}

}  // namespace

Result<Key> generate_key() {
  Key key;
  if (RAND_bytes(key.cipher.data(), static_cast<int>(key.cipher.size())) != 1 ||
      RAND_bytes(key.id.data(), static_cast<int>(key.id.size())) != 1)
    return Error(Errc::backend, "cannot make a key: the system's random source failed (OpenSSL RAND_bytes)");
  return key;
}

std::string format_key_file(const Key& key) {
  nlohmann::ordered_json j;
  j["format"] = "evos-backup-key";
  j["version"] = 1;
  j["cipher_key"] = bytes_to_hex(key.cipher.data(), key.cipher.size());
  j["id_key"] = bytes_to_hex(key.id.data(), key.id.size());
  j["fingerprint"] = key_fingerprint(key);
  return j.dump(2) + "\n";
}

Result<Key> parse_key_file(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error(Errc::invalid_config, "the key file is not an evos backup key (not JSON)");
  if (j.value("format", "") != "evos-backup-key") return Error(Errc::invalid_config, "the key file is not an evos backup key (no format \"evos-backup-key\")");
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int>() != 1)
    return Error(Errc::invalid_config, "the key file has a version this evos does not know (it knows 1)");
  Key key;
  for (auto [name, out] : {std::pair{"cipher_key", &key.cipher}, std::pair{"id_key", &key.id}}) {
    if (!j.contains(name) || !j[name].is_string()) return make_error(Errc::invalid_config, "the key file has no {}", name);
    auto d = parse_digest(j[name].get<std::string>(), fmt::format("the key file's {}", name));
    if (!d) return Error(Errc::invalid_config, d.error().message());
    *out = *d;
  }
  if (j.contains("fingerprint") && j["fingerprint"] != key_fingerprint(key))
    return Error(Errc::invalid_config, "the key file is damaged: its keys do not match its fingerprint");
  return key;
}

std::string key_fingerprint(const Key& key) {
  const auto mac = hmac_sha256(key.id, std::span(reinterpret_cast<const std::uint8_t*>(fingerprint_label),
                                                 sizeof fingerprint_label - 1));
  return bytes_to_hex(mac.data(), 8);
}

Digest Codec::digest(std::span<const std::uint8_t> data) const {
  if (key_) return hmac_sha256(key_->id, data);
  Digest out{};
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

Result<std::vector<std::uint8_t>> Codec::encode(BlobKind kind, std::span<const std::uint8_t> data, const Digest& id,
                                                bool compress) const {
  std::vector<std::uint8_t> out;
  auto blob = encode_into(kind, data, id, out, compress);
  if (!blob) return std::move(blob).error();
  out.resize(blob->size());
  return out;
}

Result<std::span<const std::uint8_t>> Codec::encode_into(BlobKind kind, std::span<const std::uint8_t> data,
                                                         const Digest& id, std::vector<std::uint8_t>& out,
                                                         bool compress) const {
  if (data.size() > max_blob_plain_size)
    return make_error(Errc::invalid_argument, "a blob holds at most {} bytes, not {}", max_blob_plain_size, data.size());
  const std::size_t extra = key_ ? nonce_size + tag_size : 0;
  const std::size_t room = blob_header_size + extra + (compress ? ZSTD_compressBound(data.size()) : data.size());
  if (out.size() < room) out.resize(room);  // grows once per buffer: no 4 MiB clear for every chunk
  std::uint8_t* header = out.data();
  std::memcpy(header, magic, sizeof magic);
  header[9] = static_cast<std::uint8_t>(kind);
  header[10] = header[11] = 0;  // reserved; `out` may hold another blob's bytes
  put_u32(header + 12, static_cast<std::uint32_t>(data.size()));
  std::memcpy(header + 16, id.data(), id.size());
  std::uint8_t* payload = header + blob_header_size + extra;

  std::uint8_t flags = 0;
  std::size_t payload_size = data.size();
  if (compress) {
    const std::size_t n = ZSTD_compressCCtx(compressor(), payload, room - blob_header_size - extra, data.data(),
                                            data.size(), zstd_level);
    if (ZSTD_isError(n)) return make_error(Errc::backend, "zstd: {}", ZSTD_getErrorName(n));
    if (n < data.size()) {
      flags |= flag_zstd;
      payload_size = n;
    }
  }
  if (!(flags & flag_zstd)) std::memcpy(payload, data.data(), data.size());
  const std::size_t blob_size = blob_header_size + extra + payload_size;

  if (key_) {
    flags |= flag_aes_gcm;
    header[8] = flags;
    std::uint8_t* nonce = header + blob_header_size;
    std::uint8_t* tag = nonce + nonce_size;
    if (RAND_bytes(nonce, nonce_size) != 1) return Error(Errc::backend, "cannot encrypt: the random source failed");
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, nonce_size, nullptr) != 1 ||
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key_->cipher.data(), nonce) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, header, blob_header_size) != 1 ||
        EVP_EncryptUpdate(ctx.get(), payload, &len, payload, static_cast<int>(payload_size)) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), payload + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_size, tag) != 1)
      return Error(Errc::backend, "cannot encrypt: OpenSSL AES-256-GCM failed");
  } else {
    header[8] = flags;
  }
  return std::span<const std::uint8_t>(out.data(), blob_size);
}

Result<std::vector<std::uint8_t>> Codec::decode(BlobKind kind, std::span<const std::uint8_t> blob,
                                                const std::optional<Digest>& expected, std::string_view what) const {
  if (blob.size() < blob_header_size) return bad(what, fmt::format("{} bytes, shorter than a blob header", blob.size()));
  const std::uint8_t* header = blob.data();
  if (std::memcmp(header, magic, sizeof magic) != 0) return bad(what, "it does not start with an evos blob header");
  const std::uint8_t flags = header[8];
  if (flags & ~(flag_zstd | flag_aes_gcm))
    return make_error(Errc::unimplemented, "{} uses flags this evos does not know ({:#x})", what, flags);
  if (header[9] != static_cast<std::uint8_t>(kind)) return bad(what, "the header names another kind of blob");
  if (header[10] != 0 || header[11] != 0) return bad(what, "its header's reserved bytes are not zero");
  const std::uint32_t plain_size = get_u32(header + 12);
  if (plain_size > max_blob_plain_size) return bad(what, fmt::format("it claims {} bytes", plain_size));
  Digest id{};
  std::memcpy(id.data(), header + 16, id.size());
  if (expected && *expected != id) return bad(what, "its header names another chunk");

  const bool is_encrypted = flags & flag_aes_gcm;
  if (is_encrypted && !key_) return make_error(Errc::invalid_config, "{} is encrypted: give the store's key (--key-file)", what);
  if (!is_encrypted && key_) return bad(what, "it is not encrypted, in an encrypted store");
  const std::size_t extra = is_encrypted ? nonce_size + tag_size : 0;
  if (blob.size() < blob_header_size + extra) return bad(what, "truncated before its payload");
  std::span<const std::uint8_t> payload = blob.subspan(blob_header_size + extra);

  std::vector<std::uint8_t> clear;
  if (is_encrypted) {
    clear.resize(payload.size());
    const std::uint8_t* nonce = header + blob_header_size;
    std::uint8_t tag[tag_size];
    std::memcpy(tag, nonce + nonce_size, tag_size);
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    int tail = 0;
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, nonce_size, nullptr) != 1 ||
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_->cipher.data(), nonce) != 1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, header, blob_header_size) != 1 ||
        EVP_DecryptUpdate(ctx.get(), clear.data(), &len, payload.data(), static_cast<int>(payload.size())) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_size, tag) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), clear.data() + len, &tail) != 1)
      return bad(what, "its authentication tag does not match (damaged, or another key)");
    payload = clear;
  }

  std::vector<std::uint8_t> data;
  if (flags & flag_zstd) {
    const unsigned long long size = ZSTD_getFrameContentSize(payload.data(), payload.size());
    if (size != plain_size) return bad(what, "its compressed payload does not hold the size the header says");
    data.resize(plain_size);
    const std::size_t n = ZSTD_decompressDCtx(decompressor(), data.data(), data.size(), payload.data(), payload.size());
    if (ZSTD_isError(n) || n != plain_size) return bad(what, fmt::format("zstd cannot decompress it ({})", ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short"));
  } else {
    if (payload.size() != plain_size) return bad(what, fmt::format("{} payload bytes where the header says {}", payload.size(), plain_size));
    data.assign(payload.begin(), payload.end());
  }
  if (digest(data) != id) return bad(what, "its content does not match its digest");
  return data;
}

}  // namespace evos::backup
