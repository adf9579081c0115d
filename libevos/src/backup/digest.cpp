#include <evos/backup/digest.hpp>

namespace evos::backup {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string bytes_to_hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0xf];
  }
  return out;
}

std::string to_hex(const Digest& d) { return bytes_to_hex(d.data(), d.size()); }

Result<Digest> parse_digest(std::string_view hex, std::string_view what) {
  if (hex.size() != 64)
    return make_error(Errc::invalid_argument, "{}: a digest is 64 hex digits, not {} characters", what, hex.size());
  Digest d{};
  for (std::size_t i = 0; i < d.size(); ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return make_error(Errc::invalid_argument, "{}: '{}' is not a hex digest", what, hex);
    d[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return d;
}

}  // namespace evos::backup
