#include "gateways/acme/dns01.hpp"

#include "infra/crypto/jwk.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::gateways::acme {

std::string dns01_txt_value(const std::string& key_authorization) {
  const auto digest = crypto::sha256_of(key_authorization);
  return crypto::base64url_encode(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::optional<std::string> check_dns01(const std::string& domain,
                                       const std::string& key_authorization,
                                       const resolver_address& resolver,
                                       std::chrono::milliseconds timeout, std::string* log_detail) {
  const std::string name = "_acme-challenge." + domain;
  auto values = lookup_txt(name, resolver, timeout);
  if (!values) {
    if (log_detail != nullptr) *log_detail = "dns-01: " + values.error().message;
    return "dns-01: the DNS lookup of " + name + " failed";
  }
  if (values->empty()) return "dns-01: no TXT record at " + name;
  const std::string expected = dns01_txt_value(key_authorization);
  // Several values are normal (a renewal racing an older record, several orders at once).
  for (const auto& v : *values)
    if (v == expected) return std::nullopt;
  return "dns-01: no TXT record at " + name + " holds the expected digest (" +
         std::to_string(values->size()) + " found)";
}

}  // namespace certctl::gateways::acme
