#pragma once
/// What the agent reports about its host in every heartbeat (hostname, OS, architecture, an
/// IP address), read from uname(2) and getifaddrs(3).

#include <string>

namespace certctl::agent {

struct host_info {
  std::string hostname;
  std::string os;            ///< e.g. "Linux 6.1.0-18-amd64"
  std::string architecture;  ///< e.g. "x86_64"
  std::string ip_address;    ///< first non-loopback IPv4 (else IPv6, else loopback); "" if none
};

host_info read_host_info();

}  // namespace certctl::agent
