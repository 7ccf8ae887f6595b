#pragma once
/// The relying parties' door (DESIGN §10): CRLs and OCSP under /.well-known/pki/ (RFC 8615),
/// public as RFC 5280 and RFC 6960 require, on the HTTPS port and on the plain-HTTP PKI port
/// (CERTCTL_PKI_HTTP_PORT: clients fetch revocation data over http, or TLS would need
/// revocation data to start).
///
///   GET  /.well-known/pki/crl/{issuer_id}                DER CRL, ETag + Cache-Control, 304
///   POST /.well-known/pki/ocsp/{issuer_id}               application/ocsp-request body
///   GET  /.well-known/pki/ocsp/{issuer_id}/{serial_hex}  status of one serial (SHA-1 CertID)
///   GET  /.well-known/pki/ocsp/{issuer_id}/{base64 req}  RFC 6960 appendix A.1 GET form
///
/// HTTP statuses for what is not OCSP at all (unknown issuer 404, wrong method 405, wrong
/// media type 415, body over the limit 413); a request that is OCSP but wrong gets an OCSP
/// error response with HTTP 200 (malformedRequest, unauthorized, ...), as RFC 6960 §2.3 says.
///
/// Not routed through http::router: the base64 GET form may contain '/' and so has no fixed
/// number of path segments, and a lookup that takes microseconds should not pay for auth,
/// position waits and the access log.

#include <cstddef>
#include <optional>
#include <string>

#include "gateways/http/http_server.hpp"
#include "gateways/http/http_types.hpp"
#include "gateways/pki/pki_listener.hpp"
#include "infra/crypto/ocsp.hpp"

namespace certctl::actors {
class revocation_cache;
}

namespace certctl::gateways::pki {

inline constexpr const char* path_prefix = "/.well-known/pki/";

struct pki_options {
  size_t max_ocsp_body = crypto::max_ocsp_request_der;  ///< larger POST bodies get 413
  /// Cache-Control max-age of CRLs; never beyond nextUpdate. Short, because a revocation
  /// replaces the CRL at once and caches should notice within minutes, not a day.
  int crl_max_age_s = 300;
  int ocsp_get_max_age_s = 300;  ///< Cache-Control of GET OCSP responses (RFC 5019 §6)
};

class pki_handler {
 public:
  /// `cache` must outlive the handler.
  explicit pki_handler(actors::revocation_cache& cache, pki_options options = {});

  /// True when `path` is under /.well-known/pki/.
  static bool handles(const std::string& path);

  /// Answers one request under /.well-known/pki/ (404 for other paths). Never throws.
  http::response handle(const http::raw_request& req) const;

  /// The answer when it is a pre-signed OCSP response ready in memory (one CertID, no nonce,
  /// POST or GET form), else nullopt: never blocks, for pki_listener's I/O threads. What it
  /// declines, handle() answers (signing, syncing, loading an issuer, every error).
  std::optional<http::response> answer_from_cache(const http::raw_request& req) const;

  /// The same error shape for problems the transport found (413 before the body was read).
  http::response transport_error(const http::raw_request& req, int status) const;

 private:
  http::response crl(const http::raw_request& req, const std::string& issuer_id) const;
  http::response ocsp(const http::raw_request& req, const std::string& issuer_id,
                      const std::string& tail) const;

  actors::revocation_cache& cache_;
  pki_options options_;
};

/// For the plain-HTTP PKI listener: /.well-known/pki/* and nothing else.
http::dispatcher pki_only(const pki_handler& h);

/// For the event-driven PKI listener: the cache's ready answers on the I/O threads, the rest
/// on its workers. `h` must outlive the listener.
listener_handler pki_listener_handler(const pki_handler& h);

/// For the HTTPS listener: /.well-known/pki/* to `h`, everything else to `inner`.
http::dispatcher with_pki(const pki_handler& h, http::dispatcher inner);

}  // namespace certctl::gateways::pki
