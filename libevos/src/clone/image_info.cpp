#include <evos/clone/image_info.hpp>

#include <nlohmann/json.hpp>

#include <set>

namespace evos::clone {
namespace {

// qemu limits a backing chain by its own open depth; 64 is far beyond any sane chain and keeps a
// hostile document from making us walk millions of entries.
constexpr std::size_t max_chain = 64;

Result<std::optional<std::string>> optional_string(const nlohmann::json& o, const char* key, std::size_t i) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return std::optional<std::string>{};
  if (!it->is_string() || it->get_ref<const std::string&>().empty())
    return make_error(Errc::backend, "qemu-img info: image {} has a \"{}\" that is not a non-empty string", i, key);
  return std::optional<std::string>(it->get<std::string>());
}

}  // namespace

Result<BackingChain> parse_backing_chain(std::string_view json) {
  auto doc = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (doc.is_discarded()) return Error(Errc::backend, "qemu-img info did not print JSON");
  if (!doc.is_array() || doc.empty())
    return Error(Errc::backend, "qemu-img info --backing-chain did not print a non-empty array of images");
  if (doc.size() > max_chain)
    return make_error(Errc::backend, "qemu-img info lists {} images in one backing chain (more than {})", doc.size(), max_chain);
  BackingChain chain;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const auto& o = doc[i];
    if (!o.is_object()) return make_error(Errc::backend, "qemu-img info: image {} is not an object", i);
    ImageInfo info;
    for (const char* key : {"filename", "format"}) {
      auto s = optional_string(o, key, i);
      if (!s) return std::move(s).error();
      if (!*s) return make_error(Errc::backend, "qemu-img info: image {} has no \"{}\"", i, key);
      (std::string(key) == "filename" ? info.filename : info.format) = **s;
    }
    auto size = o.find("virtual-size");
    if (size == o.end() || !size->is_number_unsigned())
      return make_error(Errc::backend, "qemu-img info: image {} ({}) has no non-negative integer \"virtual-size\"", i, info.filename);
    info.virtual_size = size->get<std::uint64_t>();
    auto backing = optional_string(o, "full-backing-filename", i);
    if (!backing) return std::move(backing).error();
    // Older qemu-img prints only "backing-filename" when it is already absolute.
    if (!*backing) {
      backing = optional_string(o, "backing-filename", i);
      if (!backing) return std::move(backing).error();
    }
    info.backing = *backing;
    auto fmt = optional_string(o, "backing-filename-format", i);
    if (!fmt) return std::move(fmt).error();
    info.backing_format = *fmt;
    if (!seen.insert(info.filename).second)
      return make_error(Errc::backend, "qemu-img info: the backing chain loops at {}", info.filename);
    if (i > 0 && chain.back().backing != info.filename)
      return make_error(Errc::backend, "qemu-img info: image {} is {}, but {} names {} as its backing file", i, info.filename,
                        chain.back().filename, chain.back().backing.value_or("none"));
    chain.push_back(std::move(info));
  }
  if (chain.back().backing)
    return make_error(Errc::backend, "qemu-img info: the backing file {} of {} is not in the chain", *chain.back().backing,
                      chain.back().filename);
  return chain;
}

bool chain_has_backing_file(const BackingChain& chain, std::string_view file) {
  for (std::size_t i = 1; i < chain.size(); ++i)
    if (chain[i].filename == file) return true;
  return false;
}

}  // namespace evos::clone
