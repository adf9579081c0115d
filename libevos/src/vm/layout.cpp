#include <evos/vm/layout.hpp>

#include <evos/vm/domain_copy.hpp>

namespace evos::vm {

Result<VmLayout> layout(std::string_view storage, std::string_view name) {
  if (auto p = name_problem(name)) return Error(Errc::invalid_argument, *p);
  if (storage.empty() || storage.front() != '/')
    return make_error(Errc::invalid_argument, "storage directory '{}' is not an absolute path", storage);
  if (storage.find('\n') != std::string_view::npos || storage.find('\0') != std::string_view::npos)
    return Error(Errc::invalid_argument, "a storage directory holds a newline or NUL");
  std::string s(storage);
  for (std::size_t at = 0; (at = s.find("..", at)) != std::string::npos; ++at) {
    const bool starts = at == 0 || s[at - 1] == '/';
    const bool ends = at + 2 == s.size() || s[at + 2] == '/';
    if (starts && ends) return make_error(Errc::invalid_argument, "storage directory '{}' holds '..'", storage);
  }
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  if (s == "/") s.clear();
  return VmLayout{.storage = s, .name = std::string(name)};
}

}  // namespace evos::vm
