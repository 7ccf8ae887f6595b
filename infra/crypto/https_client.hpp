#pragma once
/// HTTPS GET through the outbound guard (infra/net): the guard resolves, checks and connects;
/// this adds TLS 1.2+ with the peer's chain verified against a CA bundle and its name (or IP
/// address) checked against the certificate, then the same request head, caps, deadline and
/// response parser as the plain http_get. For connectors and notifiers that call out over
/// HTTPS; OpenSSL stays inside infra/crypto.
///
/// Mutual TLS: with client_cert_path and client_key_path set, that identity is presented when
/// the server asks for one (commercial CAs authenticate API clients this way). The key file
/// must not be readable by group or others. A tls_context_cache keeps the TLS context (trust
/// anchors and identity, parsed once) between calls and rebuilds it when any of its files
/// changes (device, inode, size, mtime or ctime), so `mv -f new.crt client.crt` takes effect
/// on the next call without a restart; a file that cannot be read then fails the call rather
/// than serving the old identity.

#include <memory>
#include <string>

#include "infra/crypto/crypto_error.hpp"
#include "infra/net/outbound_http.hpp"

namespace certctl::crypto {

/// The TLS context of one connector, reused between calls; thread-safe.
class tls_context_cache {
 public:
  tls_context_cache();
  ~tls_context_cache();
  tls_context_cache(const tls_context_cache&) = delete;
  tls_context_cache& operator=(const tls_context_cache&) = delete;

  /// How many times a context was built (first use and every change of the files).
  int builds() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
  friend struct cache_access;
};

struct https_options {
  /// PEM file of trusted CAs; "" = the system's default trust store.
  std::string ca_bundle_path;
  /// PEM client certificate (leaf first, intermediates after it) and its private key, both or
  /// neither: the identity offered when the server requests a client certificate.
  std::string client_cert_path{};
  std::string client_key_path{};
  /// Where the context is kept between calls; null = built for this call only.
  std::shared_ptr<tls_context_cache> cache{};
};

/// GET https://host:port/path. A failed handshake or verification is connect_failed with the
/// OpenSSL reason in the detail (log only; the client-facing text stays generic). A client
/// identity that cannot be used (missing or unreadable file, key readable by others, key not
/// matching the certificate) is invalid_request, and a server that refuses our certificate is
/// connect_failed; tls_failure_of() tells both apart from other failures.
result<net::http_get_response, net::outbound_error> https_get(const net::outbound_guard& guard,
                                                              const net::http_get_request& req,
                                                              const net::outbound_limits& limits,
                                                              const https_options& options);

enum class tls_failure {
  other,
  client_identity,      ///< our certificate or key files cannot be used (detail says why)
  client_cert_refused,  ///< the server rejected or required our client certificate
};
tls_failure tls_failure_of(const net::outbound_error& e);

/// Checks a client identity as https_get would use it: both files readable, the key not
/// readable by group or others, the key matching the certificate, the certificate valid now.
crypto_result<done> check_client_identity(const std::string& cert_path,
                                          const std::string& key_path);

}  // namespace certctl::crypto
