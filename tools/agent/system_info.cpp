#include "tools/agent/system_info.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace certctl::agent {

host_info read_host_info() {
  host_info h;
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) == 0) h.hostname = name;
  struct utsname u {};
  if (::uname(&u) == 0) {
    h.os = std::string(u.sysname) + " " + u.release;
    h.architecture = u.machine;
  }
  struct ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return h;
  std::string v4, v6, loop;
  for (auto* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || (a->ifa_flags & IFF_UP) == 0) continue;
    char buf[INET6_ADDRSTRLEN] = {};
    const bool lo = (a->ifa_flags & IFF_LOOPBACK) != 0;
    if (a->ifa_addr->sa_family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
      ::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
      if (lo && loop.empty()) loop = buf;
      if (!lo && v4.empty()) v4 = buf;
    } else if (a->ifa_addr->sa_family == AF_INET6 && !lo && v6.empty()) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr)) continue;
      ::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
      v6 = buf;
    }
  }
  ::freeifaddrs(list);
  h.ip_address = !v4.empty() ? v4 : !v6.empty() ? v6 : loop;
  return h;
}

}  // namespace certctl::agent
