#include "connectors/issuers/issuer.hpp"

namespace certctl::connectors {

std::string_view to_string(issuer_errc c) {
  switch (c) {
    case issuer_errc::invalid_request:
      return "invalid_request";
    case issuer_errc::bad_csr:
      return "bad_csr";
    case issuer_errc::policy_violation:
      return "policy_violation";
    case issuer_errc::unavailable:
      return "unavailable";
    case issuer_errc::internal:
      return "internal";
  }
  return "unknown";
}

}  // namespace certctl::connectors
