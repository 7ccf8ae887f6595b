#pragma once
/// ACME errors on the wire: RFC 7807 problem documents with the RFC 8555 §6.7 error URNs. This
/// is the ACME gateway's one error-to-wire table (DESIGN §10).

#include <optional>
#include <string>

#include "gateways/http/http_types.hpp"
#include "infra/crypto/jws.hpp"

namespace certctl::gateways::acme {

struct problem {
  problem() = default;
  problem(std::string t, int s, std::string d)
      : type(std::move(t)), status(s), detail(std::move(d)) {}

  std::string type;  ///< short name: "malformed", "badNonce", ... (rendered as the URN)
  int status = 400;
  std::string detail;
  std::optional<int> retry_after_seconds;  ///< rateLimited: sent as Retry-After
  bool list_algorithms = false;            ///< badSignatureAlgorithm: adds "algorithms"
};

problem malformed(std::string detail, int status = 400);
problem unauthorized(std::string detail);
problem not_found_problem(std::string detail);

/// The problem for a JWS parse or verification failure (a bad signature is "malformed").
problem from_jws_error(const crypto::jws_error& e);

/// application/problem+json with "type": "urn:ietf:params:acme:error:<type>".
http::response render(const problem& p);

}  // namespace certctl::gateways::acme
