#include "gateways/acme/problem.hpp"

#include "gateways/http/json.hpp"

namespace certctl::gateways::acme {

problem malformed(std::string detail, int status) {
  return {"malformed", status, std::move(detail)};
}

problem unauthorized(std::string detail) {
  return {"unauthorized", 403, std::move(detail)};
}

problem not_found_problem(std::string detail) {
  return {"malformed", 404, std::move(detail)};
}

problem from_jws_error(const crypto::jws_error& e) {
  switch (e.code) {
    case crypto::jws_errc::bad_signature_algorithm: {
      problem p{"badSignatureAlgorithm", 400, e.message};
      p.list_algorithms = true;
      return p;
    }
    case crypto::jws_errc::bad_public_key:
      return {"badPublicKey", 400, e.message};
    case crypto::jws_errc::bad_signature:
    case crypto::jws_errc::malformed:
      break;
  }
  // An oversized body is still "malformed", but 413 tells a client not to retry it unchanged.
  const bool too_large = e.message.find("exceeds the") != std::string::npos;
  return malformed(e.message, too_large ? 413 : 400);
}

http::response render(const problem& p) {
  http::json_writer w;
  w.begin_object()
      .field("type", "urn:ietf:params:acme:error:" + p.type)
      .field("detail", p.detail)
      .field("status", static_cast<std::int64_t>(p.status));
  if (p.list_algorithms) {
    w.key("algorithms").begin_array();
    for (const char* a : {"RS256", "ES256", "ES384", "EdDSA"}) w.string(a);
    w.end_array();
  }
  w.end_object();
  http::response r;
  r.status = p.status;
  r.content_type = "application/problem+json";
  r.body = w.str();
  if (p.retry_after_seconds) r.with_header("Retry-After", std::to_string(*p.retry_after_seconds));
  return r;
}

}  // namespace certctl::gateways::acme
