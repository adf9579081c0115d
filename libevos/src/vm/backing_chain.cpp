#include <evos/vm/backing_chain.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace evos::vm {

Result<std::vector<std::string>> parse_backing_chain(std::string_view text) {
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error(Errc::invalid_config, "qemu-img info printed something that is not JSON");
  if (j.is_object()) j = nlohmann::json::array({j});
  if (!j.is_array() || j.empty()) return Error(Errc::invalid_config, "qemu-img info printed no image");
  std::vector<std::string> chain;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& image = j[i];
    if (!image.is_object() || !image.contains("filename") || !image["filename"].is_string())
      return make_error(Errc::invalid_config, "qemu-img info: image {} of the chain has no filename", i);
    const auto it = image.find("full-backing-filename");
    if (it == image.end()) {
      if (image.contains("backing-filename"))
        return make_error(Errc::invalid_config, "qemu-img info: image {} names a backing file without its full path", i);
      if (i + 1 != j.size())
        return make_error(Errc::invalid_config, "qemu-img info: image {} has no backing file but the chain goes on", i);
      break;
    }
    if (!it->is_string() || it->get<std::string>().empty())
      return make_error(Errc::invalid_config, "qemu-img info: image {} has a malformed full-backing-filename", i);
    chain.push_back(it->get<std::string>());
  }
  return chain;
}

std::vector<BackingUse> backing_uses(const std::vector<std::string>& ours,
                                     const std::map<std::string, std::vector<std::string>>& chains) {
  const std::set<std::string> mine(ours.begin(), ours.end());
  std::vector<BackingUse> out;
  for (const auto& [image, chain] : chains) {
    if (mine.count(image)) continue;  // our own overlays go with us
    for (const auto& b : chain)
      if (mine.count(b)) {
        out.push_back({image, b});
        break;
      }
  }
  return out;
}

}  // namespace evos::vm
