#include <evos/error.hpp>

namespace evos {

std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_config: return "invalid configuration";
    case Errc::invalid_argument: return "invalid argument";
    case Errc::not_installed: return "not installed";
    case Errc::permission_denied: return "permission denied";
    case Errc::unimplemented: return "not implemented";
    case Errc::not_found: return "not found";
    case Errc::timeout: return "timed out";
    case Errc::backend: return "backend error";
  }
  return "unknown error";
}

Error Error::context(std::string_view doing) && {
  message_ = fmt::format("{}: {}", doing, message_);
  return std::move(*this);
}

Error Error::context(std::string_view doing) const& { return Error(*this).context(doing); }

}  // namespace evos
