#pragma once
/// A minimal stub resolver for dns-01: one TXT question to one configured recursive resolver
/// over UDP, again over TCP when the answer is truncated (RFC 1035 §4.2, RFC 7766). Blocking
/// with a deadline; meant for the validation worker threads, never a request thread.

#include <chrono>
#include <string>
#include <vector>

#include "gateways/acme/dns_message.hpp"

namespace certctl::gateways::acme {

struct resolver_address {
  std::string host;  ///< an IP address (or a name the system resolver knows)
  int port = 53;
};

/// "host", "host:port", "[v6]" or "[v6]:port" (CERTCTL_ACME_SERVER_DNS_RESOLVER).
result<resolver_address, dns::error> parse_resolver_address(const std::string& text);

/// The first "nameserver" line of `resolv_conf`, port 53.
result<resolver_address, dns::error> default_resolver(
    const std::string& resolv_conf = "/etc/resolv.conf");

/// The TXT strings of `name` (each record's character-strings joined), following CNAMEs
/// inside the answer. NXDOMAIN and NOERROR without TXT answer an empty list; any other rcode,
/// a timeout or a malformed answer is an error.
result<std::vector<std::string>, dns::error> lookup_txt(const std::string& name,
                                                        const resolver_address& resolver,
                                                        std::chrono::milliseconds timeout);

/// The TXT values for `name` in a decoded answer to a query for it (exposed for tests):
/// records owned by `name` or by a CNAME target reached from it within the answer.
std::vector<std::string> txt_values(const dns::message& answer, const std::string& name);

}  // namespace certctl::gateways::acme
