#include <evos/text_checks.hpp>
#include <evos/vm/domain_config.hpp>

#include <pugixml.hpp>

namespace evos::vm {
namespace {

std::string trimmed(const char* text) {
  std::string_view s(text);
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

}  // namespace

Result<DomainIdentity> parse_domain_identity(std::string_view xml) {
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed)
    return make_error(Errc::invalid_config, "domain XML is not well-formed: {} at offset {}", parsed.description(),
                      parsed.offset);
  const auto root = doc.document_element();
  if (std::string_view(root.name()) != "domain")
    return make_error(Errc::invalid_config, "domain XML has root element <{}>, expected <domain>", root.name());
  DomainIdentity id{trimmed(root.child_value("name")), trimmed(root.child_value("uuid"))};
  if (id.name.empty()) return make_error(Errc::invalid_config, "domain XML has no <name>");
  if (auto problem = text::text_problem(id.name, 255))
    return make_error(Errc::invalid_config, "domain name {}", *problem);
  if (auto problem = text::syntax_problem(id.name, text::Syntax::token))
    return make_error(Errc::invalid_config, "domain name {} {}", text::quote_for_message(id.name), *problem);
  if (!id.uuid.empty()) {
    if (auto problem = text::syntax_problem(id.uuid, text::Syntax::token))
      return make_error(Errc::invalid_config, "domain <uuid> {}", *problem);
  }
  return id;
}

}  // namespace evos::vm
