#pragma once
/// IP addresses, CIDR ranges and the classification the outbound guard decides by. Pure
/// functions over bytes (no sockets, no DNS), so every range is unit-tested alone.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "events/result.hpp"

namespace certctl::net {

/// An IPv4 or IPv6 address in network byte order; IPv4 uses the first 4 bytes.
struct ip_address {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};

  std::size_t size() const { return v6 ? 16 : 4; }
  friend bool operator==(const ip_address& a, const ip_address& b) {
    return a.v6 == b.v6 && a.bytes == b.bytes;
  }
};

/// Why an address is not an ordinary public unicast destination (public_unicast: it is).
enum class address_class {
  public_unicast,
  loopback,       ///< 127/8, ::1
  private_use,    ///< 10/8, 172.16/12, 192.168/16, fc00::/7, 64:ff9b:1::/48
  link_local,     ///< 169.254/16 (cloud metadata lives here), fe80::/10
  multicast,      ///< 224/4, ff00::/8
  unspecified,    ///< 0.0.0.0, ::
  broadcast,      ///< 255.255.255.255
  shared_cgnat,   ///< 100.64/10 (RFC 6598)
  documentation,  ///< 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20
  benchmarking,   ///< 198.18/15, 2001:2::/48
  reserved,       ///< 0/8, 192.0.0/24, 240/4, 192.88.99/24, 100::/64, 2001::/23,
                  ///< fec0::/10, ::/96, and IPv6 outside 2000::/3
};

/// A stable lower-case name for logs ("loopback", "link_local", ...).
const char* to_string(address_class c);

/// The class of `a`. IPv6 forms that embed an IPv4 address an IPv4 host would be reached
/// at (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16) take the class of
/// the embedded address: ::ffff:127.0.0.1 is loopback.
address_class classify(const ip_address& a);

/// A dotted IPv4 or textual IPv6 address (no brackets, no zone); false when it is neither.
bool parse_ip(const std::string& text, ip_address& out);
/// The canonical text of `a` (inet_ntop).
std::string to_string(const ip_address& a);

/// An address range: the first `prefix` bits of `base` (host bits zero).
struct cidr {
  ip_address base;
  int prefix = 0;

  /// True when `a` lies in the range. An IPv4 range also matches the IPv4-mapped IPv6 form
  /// of its addresses (a dual-stack socket may report ::ffff:127.0.0.1).
  bool contains(const ip_address& a) const;
  friend bool operator==(const cidr& x, const cidr& y) {
    return x.base == y.base && x.prefix == y.prefix;
  }
};

std::string to_string(const cidr& c);

struct cidr_error {
  std::string message;  ///< names the offending entry
};

/// "a.b.c.d/n" (0-32) or "v6/n" (0-128); a bare address is a host range (/32, /128). Host
/// bits must be zero ("10.0.0.1/8" is refused: it is usually a typo for a host).
result<cidr, cidr_error> parse_cidr(const std::string& text);

/// Comma-separated CIDRs (CERTCTL_OUTBOUND_ALLOW_CIDRS); blanks around entries are ignored,
/// an empty string is an empty list, an empty entry is an error.
result<std::vector<cidr>, cidr_error> parse_cidr_list(const std::string& text);

}  // namespace certctl::net
