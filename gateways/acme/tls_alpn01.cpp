#include "gateways/acme/tls_alpn01.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "infra/crypto/sha256.hpp"
#include "infra/net/sigpipe_blocked.hpp"

namespace certctl::gateways::acme {
namespace {

using steady = std::chrono::steady_clock;
constexpr char alpn_protocol[] = "acme-tls/1";
constexpr char acme_identifier_oid[] = "1.3.6.1.5.5.7.1.31";

struct ssl_ctx_free {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct ssl_free {
  void operator()(SSL* p) const { SSL_free(p); }
};
struct x509_free {
  void operator()(X509* p) const { X509_free(p); }
};
struct names_free {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
struct obj_free {
  void operator()(ASN1_OBJECT* p) const { ASN1_OBJECT_free(p); }
};

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no details";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

/// The certificate checks of RFC 8737 §3 on the presented leaf.
std::optional<std::string> check_certificate(X509* cert, const std::string& identifier,
                                             const std::string& key_authorization) {
  int crit = 0;
  std::unique_ptr<GENERAL_NAMES, names_free> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, nullptr)));
  if (!names) return "the certificate has no (or more than one) subjectAltName extension";
  if (sk_GENERAL_NAME_num(names.get()) != 1)
    return "the subjectAltName must hold exactly one name, it holds " +
           std::to_string(sk_GENERAL_NAME_num(names.get()));
  const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), 0);
  if (name->type != GEN_DNS) return "the subjectAltName entry is not a dNSName";
  const ASN1_IA5STRING* dns = name->d.dNSName;
  const std::string san(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                        static_cast<size_t>(ASN1_STRING_length(dns)));
  if (san.size() != identifier.size() ||
      ::strncasecmp(san.c_str(), identifier.c_str(), san.size()) != 0)
    return "the certificate names '" + san + "', not '" + identifier + "'";

  std::unique_ptr<ASN1_OBJECT, obj_free> oid(OBJ_txt2obj(acme_identifier_oid, 1));
  if (!oid) return "internal: cannot build the acmeIdentifier OID";
  const int at = X509_get_ext_by_OBJ(cert, oid.get(), -1);
  if (at < 0) return "the certificate has no acmeIdentifier extension";
  if (X509_get_ext_by_OBJ(cert, oid.get(), at) >= 0)
    return "the certificate has more than one acmeIdentifier extension";
  X509_EXTENSION* ext = X509_get_ext(cert, at);
  if (X509_EXTENSION_get_critical(ext) != 1) return "the acmeIdentifier extension is not critical";
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
  // extnValue is the DER of Authorization ::= OCTET STRING (SIZE (32)).
  const auto digest = crypto::sha256_of(key_authorization);
  std::string expected("\x04\x20", 2);
  expected.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  const std::string got(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                        static_cast<size_t>(ASN1_STRING_length(value)));
  if (got != expected)
    return "the acmeIdentifier extension does not hold SHA-256 of the key authorization";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_tls_alpn01_certificate(std::string_view der,
                                                        const std::string& identifier,
                                                        const std::string& key_authorization) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<X509, x509_free> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  if (!cert) return "not a DER certificate";
  return check_certificate(cert.get(), identifier, key_authorization);
}

std::optional<std::string> check_tls_alpn01(const std::string& identifier,
                                            const std::string& key_authorization,
                                            const tls_alpn01_target& target,
                                            std::chrono::milliseconds timeout,
                                            const net::outbound_guard& guard,
                                            std::string* log_detail) {
  const auto unreachable = [&](const std::string& detail) -> std::optional<std::string> {
    if (log_detail != nullptr) *log_detail = "tls-alpn-01: " + detail;
    return std::string("tls-alpn-01: ") + net::outbound_error::public_message();
  };
  const net::sigpipe_blocked no_sigpipe;
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, ssl_ctx_free> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return "tls-alpn-01: " + openssl_error();
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);  // RFC 8737 §4
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  const unsigned char protos[] =
      "\x0a"
      "acme-tls/1";
  if (SSL_CTX_set_alpn_protos(ctx.get(), protos, sizeof protos - 1) != 0)
    return "tls-alpn-01: cannot offer ALPN";
  // One budget for connect and handshake together, as before the guard existed.
  net::outbound_limits limits;
  limits.connect_timeout = timeout;
  const auto started = steady::now();
  auto conn = guard.connect(target.host, target.port, limits);
  if (!conn) return unreachable(conn.error().log_line());
  // The handshake's reads and writes are bounded by the time the connect left over.
  const auto left = std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::microseconds>(timeout - (steady::now() - started))
             .count());
  timeval tv{static_cast<time_t>(left / 1000000), static_cast<suseconds_t>(left % 1000000)};
  ::setsockopt(conn->fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(conn->fd(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::unique_ptr<SSL, ssl_free> ssl(SSL_new(ctx.get()));
  if (!ssl || SSL_set_fd(ssl.get(), conn->fd()) != 1 ||
      SSL_set_tlsext_host_name(ssl.get(), identifier.c_str()) != 1)
    return "tls-alpn-01: " + openssl_error();
  std::optional<std::string> result;
  if (SSL_connect(ssl.get()) != 1) {
    result = unreachable("TLS handshake with " + net::to_string(conn->peer()) + ":" +
                         std::to_string(target.port) + " (" + target.host +
                         ") failed: " + openssl_error());
  } else {
    const unsigned char* selected = nullptr;
    unsigned int selected_len = 0;
    SSL_get0_alpn_selected(ssl.get(), &selected, &selected_len);
    std::unique_ptr<X509, x509_free> cert(SSL_get1_peer_certificate(ssl.get()));
    if (selected == nullptr ||
        std::string(reinterpret_cast<const char*>(selected), selected_len) != alpn_protocol)
      result = "tls-alpn-01: the server did not select the acme-tls/1 protocol";
    else if (!cert)
      result = "tls-alpn-01: the server presented no certificate";
    else if (auto why = check_certificate(cert.get(), identifier, key_authorization))
      result = "tls-alpn-01: " + *why;
    SSL_shutdown(ssl.get());
  }
  ssl.reset();  // before the connection closes its socket
  return result;
}

}  // namespace certctl::gateways::acme
