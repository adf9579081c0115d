#include <evos/vm/identity.hpp>

namespace evos::vm {

Result<DomainIdentity> resolve_identity(const IdentitySources& sources) {
  if (sources.from_config) {
    const DomainIdentity& id = *sources.from_config;
    if (!sources.domain_param.empty() && sources.domain_param != id.name)
      return make_error(Errc::invalid_config, "parameter 'domain' is '{}' but the config file names domain '{}'",
                        sources.domain_param, id.name);
    return id;
  }
  if (!sources.domain_param.empty()) return DomainIdentity{sources.domain_param, {}};
  if (sources.remembered) return *sources.remembered;
  return make_error(sources.from_config.error().code() == Errc::invalid_config ? Errc::invalid_config : Errc::backend,
                    "{}; no domain name is known otherwise (set the 'domain' parameter)",
                    sources.from_config.error().message());
}

}  // namespace evos::vm
