#pragma once
/// Small helpers the ACME issuer's files share (connectors/issuers/acme only).

#include <optional>
#include <string>

#include "connectors/issuers/issuer.hpp"

namespace certctl::connectors::acme {

issuer_error invalid(std::string m);
issuer_error internal(std::string m);
/// A JSON string literal (quotes included) for `s`.
std::string quoted(const std::string& s);
/// base64url of the DER inside the first PEM block of `pem`.
std::string pem_body_b64url(const std::string& pem);
std::string hex_to_bytes(const std::string& hex);
/// RFC 5280 §5.3.1 reason code of a reason name (camelCase, snake_case or CAPS); nullopt when
/// unknown ("" is unspecified).
std::optional<int> reason_code(const std::string& reason);

}  // namespace certctl::connectors::acme
