#include "domain/network_scan.hpp"

#include <arpa/inet.h>

#include <cstdlib>

#include "domain/rules.hpp"

namespace certctl::domain {

bool valid_scan_cidr(const std::string& text, std::string& why) {
  const auto slash = text.find('/');
  const std::string addr = text.substr(0, slash);
  const bool v6 = addr.find(':') != std::string::npos;
  unsigned char buf[16];
  if (inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), buf) != 1) {
    why = "'" + text + "' is not an IP address or CIDR range";
    return false;
  }
  if (slash == std::string::npos) return true;  // one host
  const std::string len = text.substr(slash + 1);
  if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos) {
    why = "'" + text + "' has an invalid prefix length";
    return false;
  }
  const int prefix = std::atoi(len.c_str());
  const int max = v6 ? 128 : 32;
  const int min = v6 ? min_ipv6_scan_prefix : min_ipv4_scan_prefix;
  if (prefix > max) {
    why = "'" + text + "' has an invalid prefix length";
    return false;
  }
  if (prefix < min) {
    why = "'" + text + "' is larger than /" + std::to_string(min) + " (4096 addresses)";
    return false;
  }
  return true;
}

std::vector<std::int64_t> scan_ports(const events::json_object& d) {
  // The field kind ('n') admits only digits, '-', ',' and brackets; anything else is no list.
  std::vector<std::int64_t> out;
  const std::string raw = d.raw("ports");
  std::string number;
  for (char c : raw) {
    if ((c >= '0' && c <= '9') || c == '-') {
      if (number.size() < 12) number += c;
    } else if (c == ',' || c == ']') {
      if (!number.empty()) out.push_back(std::strtoll(number.c_str(), nullptr, 10));
      number.clear();
    } else if (c != '[' && c != ' ') {
      return {};
    }
  }
  return out;
}

std::optional<domain_error> check_network_scan_target(const events::json_object& d) {
  if (d.str("name").size() > 255) return invalid("field 'name' is longer than 255 characters");
  const auto cidrs = d.str_array("cidrs");
  if (cidrs.empty()) return invalid("field 'cidrs' must list at least one range");
  if (cidrs.size() > max_scan_cidrs)
    return invalid("field 'cidrs' holds at most " + std::to_string(max_scan_cidrs) + " ranges");
  for (const auto& c : cidrs) {
    std::string why;
    if (!valid_scan_cidr(c, why)) return invalid("cidrs: " + why);
  }
  const auto list = scan_ports(d);
  if (list.empty() || list.size() > static_cast<size_t>(max_scan_ports))
    return invalid("field 'ports' must list 1 to " + std::to_string(max_scan_ports) + " ports");
  for (auto p : list)
    if (p < 1 || p > 65535) return invalid("ports: " + std::to_string(p) + " is not 1-65535");
  const auto hours = d.int64("scan_interval_hours", 0);
  if (hours < 1 || hours > 8760) return invalid("field 'scan_interval_hours' must be 1-8760");
  const auto timeout = d.int64("timeout_ms", 0);
  if (timeout < 100 || timeout > 60000) return invalid("field 'timeout_ms' must be 100-60000");
  return std::nullopt;
}

}  // namespace certctl::domain
