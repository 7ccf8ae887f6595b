#pragma once
/// dns-01 (RFC 8555 §8.4): the TXT record "_acme-challenge.<domain>" must hold
/// base64url(SHA-256(key authorization)).

#include <chrono>
#include <optional>
#include <string>

#include "gateways/acme/dns_client.hpp"

namespace certctl::gateways::acme {

/// base64url(SHA-256(key_authorization)): the TXT value dns-01 expects.
std::string dns01_txt_value(const std::string& key_authorization);

/// Why `domain` (no "*.": a wildcard's authorization names its base domain) fails dns-01,
/// in words fit for the ACME client; nullopt when one of its TXT values is the expected
/// digest. A failed lookup answers without the resolver's address (an internal detail of the
/// deployment); that detail goes to `*log_detail` when given.
std::optional<std::string> check_dns01(const std::string& domain,
                                       const std::string& key_authorization,
                                       const resolver_address& resolver,
                                       std::chrono::milliseconds timeout,
                                       std::string* log_detail = nullptr);

}  // namespace certctl::gateways::acme
