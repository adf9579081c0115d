// evos::Error and evos::Result: expected failures as values, with context.
// g++ 12 has no std::expected; Result<T> is shaped like it so it can be swapped later.
#pragma once

#include <fmt/core.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace evos {

// What went wrong, in evos terms (not errno, not OCF). Each vocabulary converts it once, at its
// edge: ocf::to_status() for agents, the CLI's exit mapping for evosctl.
enum class Errc {
  invalid_config,     // parameters or files inherently wrong
  invalid_argument,   // a malformed request
  not_installed,      // a binary, file, library or driver missing on this host
  permission_denied,
  unimplemented,
  not_found,
  timeout,
  backend,            // the backend (libvirt, a child process) failed
};

std::string_view to_string(Errc code) noexcept;

class Error {
 public:
  Error(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  // Prefixes what was being done, to which object: "start domain 'web1': <message>".
  [[nodiscard]] Error context(std::string_view doing) &&;
  [[nodiscard]] Error context(std::string_view doing) const&;

  [[nodiscard]] Errc code() const noexcept { return code_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }

 private:
  Errc code_;
  std::string message_;
};

template <class... Args>
[[nodiscard]] Error make_error(Errc code, fmt::format_string<Args...> format, Args&&... args) {
  return Error(code, fmt::format(format, std::forward<Args>(args)...));
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}  // NOLINT: implicit by design

  [[nodiscard]] bool has_value() const noexcept { return !e_; }
  explicit operator bool() const noexcept { return has_value(); }
  const Error& error() const& { return *e_; }
  Error&& error() && { return std::move(*e_); }

 private:
  std::optional<Error> e_;
};

}  // namespace evos
