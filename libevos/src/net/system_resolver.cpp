#include <evos/activity.hpp>
#include <evos/net/system_resolver.hpp>

#include <netdb.h>
#include <sys/socket.h>

#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

namespace evos::net {
namespace {

struct Answer {
  int rc = 0;          // getaddrinfo's code
  int sys_errno = 0;   // for EAI_SYSTEM
  std::string address;
};

// Shared with the worker threads, which may outlive the call (a resolver that never answers).
struct Pending {
  std::mutex mutex;
  std::condition_variable done;
  std::vector<std::optional<Answer>> answers;
  std::size_t left = 0;
};

Answer lookup(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;  // one entry per address instead of one per socket type
  addrinfo* res = nullptr;
  Answer a;
  a.rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  a.sys_errno = errno;
  if (a.rc == 0 && res) {
    char text[NI_MAXHOST];
    const int rc = ::getnameinfo(res->ai_addr, res->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
    if (rc == 0) a.address = text;
    else a.rc = rc;
  }
  if (res) ::freeaddrinfo(res);
  return a;
}

// Names that do not exist are configuration errors; everything else says the resolver cannot
// answer right now (RFC 2553 / glibc's EAI_* codes).
bool does_not_exist(int rc) {
  return rc == EAI_NONAME || rc == EAI_NODATA || rc == EAI_ADDRFAMILY;
}

}  // namespace

Result<std::vector<Target>> SystemResolver::resolve(std::span<const HostSpec> hosts, Deadline deadline) {
  std::vector<Target> out(hosts.size());
  auto pending = std::make_shared<Pending>();
  pending->answers.resize(hosts.size());
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    out[i].spec = hosts[i];
    if (!hosts[i].is_name()) {
      out[i].address = hosts[i].host;
      out[i].family = hosts[i].literal;
      continue;
    }
    ++pending->left;
  }
  Activity activity(fmt::format("resolving {} test IP names", pending->left));
  {
    std::lock_guard lock(pending->mutex);
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      if (!hosts[i].is_name()) continue;
      std::thread([pending, i, host = hosts[i].host] {
        Answer a = lookup(host);
        std::lock_guard inner(pending->mutex);
        pending->answers[i] = std::move(a);
        --pending->left;
        pending->done.notify_all();
      }).detach();
    }
  }

  std::unique_lock lock(pending->mutex);
  pending->done.wait_until(lock, deadline.when(), [&] { return pending->left == 0; });
  std::vector<std::string> missing, transient, unresolved;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (!hosts[i].is_name()) continue;
    const auto& host = hosts[i].host;
    const auto& a = pending->answers[i];
    if (!a) {
      unresolved.push_back(fmt::format("'{}'", host));
    } else if (a->rc != 0) {
      const std::string why = a->rc == EAI_SYSTEM ? std::strerror(a->sys_errno) : ::gai_strerror(a->rc);
      (does_not_exist(a->rc) ? missing : transient).push_back(fmt::format("'{}' ({})", host, why));
    } else {
      out[i].address = a->address;
      out[i].family = literal_family(a->address);
      if (out[i].family == Family::any) transient.push_back(fmt::format("'{}' (unusable address {})", host, a->address));
    }
  }
  auto join = [](const std::vector<std::string>& items) {
    std::string text;
    for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
    return text;
  };
  if (!missing.empty())
    return make_error(Errc::invalid_config, "host_list: {} {} {}", missing.size() == 1 ? "host" : "hosts", join(missing),
                      missing.size() == 1 ? "does not resolve" : "do not resolve");
  if (!transient.empty()) return make_error(Errc::backend, "cannot resolve {} now", join(transient));
  if (!unresolved.empty()) return make_error(Errc::timeout, "resolving {} did not finish in time", join(unresolved));
  return out;
}

}  // namespace evos::net
