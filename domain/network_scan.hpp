#pragma once
/// The rules of a network scan target (issue 16 item 1): which ranges and ports the TLS
/// scanner may probe. The caps keep one target from turning into a sweep of a whole network:
/// each range at most 4096 addresses (/20 for IPv4, /116 for IPv6), at most 20 ports.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/aggregate.hpp"

namespace certctl::domain {

inline constexpr int max_scan_ports = 20;
inline constexpr int min_ipv4_scan_prefix = 20;   ///< 4096 addresses
inline constexpr int min_ipv6_scan_prefix = 116;  ///< 4096 addresses
inline constexpr size_t max_scan_cidrs = 16;

/// Checks a merged network_scan_target document (name, cidrs, ports, interval, timeout).
std::optional<domain_error> check_network_scan_target(const events::json_object& d);

/// The target's ports (its 'ports' array of integers); empty when absent or malformed.
std::vector<std::int64_t> scan_ports(const events::json_object& d);

/// Checks one range: "a.b.c.d", "a.b.c.d/n" (n >= 20), or IPv6 with n >= 116; `why` says
/// what is wrong.
bool valid_scan_cidr(const std::string& text, std::string& why);

}  // namespace certctl::domain
