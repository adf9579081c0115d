#include <evos/cluster/crm_template.hpp>

namespace evos::cluster {

Result<std::string> render_template(std::string_view text, const std::map<std::string, std::string>& values) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto at = text.find('@', i);
    if (at == std::string_view::npos) break;
    std::size_t end = at + 1;
    while (end < text.size() && ((text[end] >= 'A' && text[end] <= 'Z') || (text[end] >= '0' && text[end] <= '9') || text[end] == '_'))
      ++end;
    out.append(text.substr(i, at - i));
    if (end < text.size() && text[end] == '@' && end > at + 1) {
      const std::string name(text.substr(at + 1, end - at - 1));
      auto value = values.find(name);
      if (value == values.end()) return make_error(Errc::invalid_argument, "template placeholder @{}@ has no value", name);
      out += value->second;
      i = end + 1;
    } else {
      out += '@';  // a lone '@' (e.g. in a comment or address) is text
      i = at + 1;
    }
  }
  out.append(text.substr(i));
  return out;
}

}  // namespace evos::cluster
