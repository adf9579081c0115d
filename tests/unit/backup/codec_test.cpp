#include <evos/backup/codec.hpp>

#include <catch2/catch.hpp>

#include <random>
#include <tuple>

using namespace evos;
using namespace evos::backup;

namespace {

std::vector<std::uint8_t> sample(std::size_t size, unsigned seed, bool compressible) {
  std::mt19937 random(seed);
  std::vector<std::uint8_t> v(size);
  for (std::size_t i = 0; i < size; ++i) v[i] = compressible ? static_cast<std::uint8_t>("evos backup "[i % 12]) : static_cast<std::uint8_t>(random());
  return v;
}

Key fixed_key(std::uint8_t seed) {
  Key k;
  for (std::size_t i = 0; i < 32; ++i) {
    k.cipher[i] = static_cast<std::uint8_t>(seed + i);
    k.id[i] = static_cast<std::uint8_t>(seed * 3 + i);
  }
  return k;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a chunk round-trips through the codec, compressed or not, encrypted or not") {
  for (bool encrypted : {false, true}) {
    const Codec codec = encrypted ? Codec(fixed_key(1)) : Codec();
    for (bool compressible : {false, true}) {
      const auto data = sample(1 << 20, 7, compressible);
      const Digest id = codec.digest(data);
      auto blob = codec.encode(BlobKind::chunk, data, id);
      REQUIRE(blob);
      if (compressible) CHECK(blob->size() < data.size() / 10);
      // Random data does not shrink: stored as is, plus the header (and nonce and tag).
      if (!compressible) CHECK(blob->size() == data.size() + blob_header_size + (encrypted ? 28 : 0));
      auto back = codec.decode(BlobKind::chunk, *blob, id, "chunk x");
      REQUIRE(back);
      CHECK(*back == data);
    }
  }
}

TEST_CASE("encode_into reuses one buffer: each blob is what encode gives, whatever the buffer held before") {
  for (bool encrypted : {false, true}) {
    const Codec codec = encrypted ? Codec(fixed_key(2)) : Codec();
    std::vector<std::uint8_t> buffer(64, 0xff);  // garbage where the header goes
    // Large and incompressible first, so the later, smaller blobs land on stale bytes.
    for (auto [size, seed, compressible] : {std::tuple{1u << 20, 3u, false}, std::tuple{1u << 16, 4u, true},
                                             std::tuple{1u << 18, 5u, false}, std::tuple{1u, 6u, true}}) {
      const auto data = sample(size, seed, compressible);
      const Digest id = codec.digest(data);
      auto blob = codec.encode_into(BlobKind::chunk, data, id, buffer);
      REQUIRE(blob);
      CHECK(blob->data() == buffer.data());
      CHECK(buffer.size() >= (1u << 20));  // grown once, never shrunk
      auto whole = codec.encode(BlobKind::chunk, data, id);
      REQUIRE(whole);
      CHECK(blob->size() == whole->size());
      auto back = codec.decode(BlobKind::chunk, *blob, id, "chunk y");
      REQUIRE(back);
      CHECK(*back == data);
    }
  }
}

TEST_CASE("an encrypted store names chunks by a keyed digest, not by their SHA-256") {
  const auto data = sample(4096, 1, false);
  CHECK(Codec().digest(data) != Codec(fixed_key(1)).digest(data));
  CHECK(Codec(fixed_key(1)).digest(data) != Codec(fixed_key(2)).digest(data));
  CHECK(Codec(fixed_key(1)).digest(data) == Codec(fixed_key(1)).digest(data));
  // SHA-256 of "abc" (FIPS 180-2 test vector): the plain store's names are plain SHA-256.
  const std::string abc = "abc";
  CHECK(to_hex(Codec().digest(std::span(reinterpret_cast<const std::uint8_t*>(abc.data()), 3))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("every single flipped byte of a blob is detected") {
  for (bool encrypted : {false, true}) {
    const Codec codec = encrypted ? Codec(fixed_key(5)) : Codec();
    const auto data = sample(3000, 3, true);
    const Digest id = codec.digest(data);
    auto blob = codec.encode(BlobKind::chunk, data, id);
    REQUIRE(blob);
    for (std::size_t i = 0; i < blob->size(); ++i) {
      auto damaged = *blob;
      damaged[i] ^= 0x20;
      auto r = codec.decode(BlobKind::chunk, damaged, id, "chunk x");
      INFO("encrypted " << encrypted << ", byte " << i);
      REQUIRE_FALSE(r);
      CHECK(has(r.error().message(), "chunk x"));
    }
  }
}

TEST_CASE("truncated, foreign and mismatched blobs are refused with the reason") {
  const Codec codec;
  const auto data = sample(5000, 9, true);
  const Digest id = codec.digest(data);
  auto blob = codec.encode(BlobKind::chunk, data, id);
  REQUIRE(blob);
  for (std::size_t keep : {std::size_t{0}, std::size_t{10}, blob_header_size, blob->size() - 1}) {
    auto cut = std::vector<std::uint8_t>(blob->begin(), blob->begin() + static_cast<long>(keep));
    auto r = codec.decode(BlobKind::chunk, cut, id, "chunk t");
    REQUIRE_FALSE(r);
    CHECK(has(r.error().message(), "chunk t is damaged"));
  }
  Digest other = id;
  other[0] ^= 1;
  auto wrong_name = codec.decode(BlobKind::chunk, *blob, other, "chunk n");
  REQUIRE_FALSE(wrong_name);
  CHECK(has(wrong_name.error().message(), "names another chunk"));
  auto wrong_kind = codec.decode(BlobKind::manifest, *blob, std::nullopt, "manifest m");
  REQUIRE_FALSE(wrong_kind);
  CHECK(has(wrong_kind.error().message(), "another kind"));
  auto future = *blob;
  future[8] |= 0x80;
  auto unknown = codec.decode(BlobKind::chunk, future, id, "chunk f");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code() == Errc::unimplemented);
}

TEST_CASE("keys: a wrong key, a missing key and a plain blob in an encrypted store are refused") {
  const auto data = sample(2000, 4, true);
  const Codec mine(fixed_key(1));
  const Digest id = mine.digest(data);
  auto blob = mine.encode(BlobKind::chunk, data, id);
  REQUIRE(blob);
  auto other = Codec(fixed_key(2)).decode(BlobKind::chunk, *blob, id, "chunk k");
  REQUIRE_FALSE(other);
  CHECK(has(other.error().message(), "authentication tag"));
  auto none = Codec().decode(BlobKind::chunk, *blob, id, "chunk k");
  REQUIRE_FALSE(none);
  CHECK(has(none.error().message(), "encrypted: give the store's key"));
  // Downgrade: an attacker who can write the store puts a plain blob under a chunk's name.
  auto plain = Codec().encode(BlobKind::chunk, data, id);
  REQUIRE(plain);
  auto downgraded = mine.decode(BlobKind::chunk, *plain, id, "chunk d");
  REQUIRE_FALSE(downgraded);
  CHECK(has(downgraded.error().message(), "not encrypted"));
}

TEST_CASE("key files round-trip, carry a fingerprint, and bad ones are named") {
  auto key = generate_key();
  REQUIRE(key);
  const std::string text = format_key_file(*key);
  auto back = parse_key_file(text);
  REQUIRE(back);
  CHECK(back->cipher == key->cipher);
  CHECK(back->id == key->id);
  CHECK(key_fingerprint(*key).size() == 16);
  CHECK(key_fingerprint(*key) != key_fingerprint(fixed_key(1)));
  for (const char* bad : {"", "{}", "[1]", R"({"format":"evos-backup-key","version":2})",
                          R"({"format":"evos-backup-key","version":1,"cipher_key":"00"})"}) {
    auto r = parse_key_file(bad);
    INFO(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::invalid_config);
  }
  std::string tampered = text;
  const auto at = tampered.find("\"id_key\": \"") + 11;
  tampered[at] = tampered[at] == 'a' ? 'b' : 'a';
  auto r = parse_key_file(tampered);
  REQUIRE_FALSE(r);
  CHECK(has(r.error().message(), "fingerprint"));
}

TEST_CASE("digests print as 64 hex digits and parse back; anything else is refused") {
  Digest d{};
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(i * 7);
  auto back = parse_digest(to_hex(d), "x");
  REQUIRE(back);
  CHECK(*back == d);
  CHECK_FALSE(parse_digest("abc", "x"));
  CHECK_FALSE(parse_digest(std::string(64, 'g'), "x"));
  CHECK(parse_digest(std::string(64, 'A'), "x"));
}
