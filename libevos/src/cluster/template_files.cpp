#include <evos/cluster/template_files.hpp>

#include <fstream>
#include <sstream>

namespace evos::cluster {

Result<std::string> read_template(const std::string& dir, std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos)
    return make_error(Errc::invalid_argument, "template name {} is not a file name", name);
  const std::string path = dir + "/" + std::string(name);
  std::ifstream in(path);
  std::stringstream s;
  if (in) s << in.rdbuf();
  if (!in || in.bad()) return make_error(Errc::not_installed, "cannot read template {}", path);
  return s.str();
}

}  // namespace evos::cluster
