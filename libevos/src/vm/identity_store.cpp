#include <evos/agent_state.hpp>
#include <evos/text_checks.hpp>
#include <evos/vm/identity_store.hpp>

#include <fmt/core.h>

#include <evos/file/fd.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace evos::vm {
namespace {

constexpr std::size_t max_domain_xml = 4u << 20;

using file::Fd;

}  // namespace

Result<std::string> read_domain_xml(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0)
    return make_error(Errc::not_installed, "cannot read config file {}: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return make_error(Errc::not_installed, "config file {} is not a regular file", path);
  if (static_cast<std::size_t>(st.st_size) > max_domain_xml)
    return make_error(Errc::invalid_config, "config file {} is {} bytes; the limit is {}", path, st.st_size, max_domain_xml);
  std::string xml;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(Errc::not_installed, "cannot read config file {}: {}", path, std::strerror(errno));
    if (n == 0) break;
    xml.append(buf, static_cast<std::size_t>(n));
    if (xml.size() > max_domain_xml) return make_error(Errc::invalid_config, "config file {} grew past the limit", path);
  }
  return xml;
}

IdentityStore::IdentityStore(std::string directory, std::string instance) {
  // An instance name only becomes a file name if it is a plain token.
  if (!instance.empty() && !text::syntax_problem(instance, text::Syntax::token) && instance.find('/') == std::string::npos)
    path_ = directory + "/" + instance;
}

std::string IdentityStore::default_directory() { return agent_state::directory() + "/evos-vm"; }

std::optional<DomainIdentity> IdentityStore::load() const {
  if (path_.empty()) return std::nullopt;
  std::ifstream in(path_);
  DomainIdentity id;
  if (!std::getline(in, id.name) || id.name.empty()) return std::nullopt;
  std::getline(in, id.uuid);
  if (text::syntax_problem(id.name, text::Syntax::token)) return std::nullopt;  // a damaged file is ignored
  return id;
}

void IdentityStore::remember(const DomainIdentity& id, Log& log) const {
  if (path_.empty() || load() == id) return;
  const std::string dir = path_.substr(0, path_.rfind('/'));
  ::mkdir(dir.substr(0, dir.rfind('/')).c_str(), 0755);  // the state directory itself, if missing
  if (auto r = agent_state::write(path_, fmt::format("{}\n{}\n", id.name, id.uuid), 0700); !r)
    log.warning("cannot remember the domain name: {}", r.error().message());
}

}  // namespace evos::vm
