#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto {

std::string_view to_string(ext_key_usage u) {
  switch (u) {
    case ext_key_usage::server_auth:
      return "serverAuth";
    case ext_key_usage::client_auth:
      return "clientAuth";
    case ext_key_usage::email_protection:
      return "emailProtection";
    case ext_key_usage::code_signing:
      return "codeSigning";
    case ext_key_usage::time_stamping:
      return "timeStamping";
    case ext_key_usage::ocsp_signing:
      return "OCSPSigning";
  }
  return "unknown";
}

std::optional<ext_key_usage> parse_ext_key_usage(std::string_view name) {
  for (auto u :
       {ext_key_usage::server_auth, ext_key_usage::client_auth, ext_key_usage::email_protection,
        ext_key_usage::code_signing, ext_key_usage::time_stamping, ext_key_usage::ocsp_signing}) {
    if (to_string(u) == name) return u;
  }
  return std::nullopt;
}

}  // namespace certctl::crypto
