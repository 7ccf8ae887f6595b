#include "infra/crypto/https_client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "infra/crypto/detail/openssl.hpp"
#include "infra/crypto/detail/tls_socket.hpp"
#include "infra/net/sigpipe_blocked.hpp"

namespace certctl::crypto {
namespace {

using detail::arm;
using detail::bare_host;
using detail::fail;
using detail::ssl_ctx_free;
using detail::ssl_free;
using detail::steady;

using net::outbound_errc;
using net::outbound_error;

}  // namespace

result<net::http_get_response, outbound_error> https_get(const net::outbound_guard& guard,
                                                         const net::http_get_request& req,
                                                         const net::outbound_limits& limits,
                                                         const https_options& options) {
  auto request = net::http_request_bytes(req, 443);
  if (!request) return request.error();
  const net::sigpipe_blocked no_sigpipe;
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, ssl_ctx_free> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return fail(outbound_errc::io_error, detail::openssl_error("TLS context").message);
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  // Many servers close without close_notify; a body whose end matters has a length or chunks,
  // which the parser checks, so such a close is an ordinary end of stream.
  SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
  const int loaded =
      options.ca_bundle_path.empty()
          ? SSL_CTX_set_default_verify_paths(ctx.get())
          : SSL_CTX_load_verify_locations(ctx.get(), options.ca_bundle_path.c_str(), nullptr);
  if (loaded != 1)
    return fail(outbound_errc::invalid_request,
                detail::openssl_error("cannot load the CA bundle '" + options.ca_bundle_path + "'")
                    .message);

  auto conn = guard.connect(req.host, req.port, limits);
  if (!conn) return conn.error();
  const auto deadline = steady::now() + limits.io_timeout;
  const std::string peer = net::to_string(conn->peer()) + ":" + std::to_string(req.port);
  std::unique_ptr<SSL, ssl_free> ssl(SSL_new(ctx.get()));
  if (!ssl || SSL_set_fd(ssl.get(), conn->fd()) != 1)
    return fail(outbound_errc::io_error, detail::openssl_error(peer + ": TLS setup").message);
  // The name the certificate must carry: the DNS name (also sent as SNI) or the IP literal.
  const std::string host = bare_host(req.host);
  net::ip_address literal;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
  if (net::parse_ip(host, literal)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1)
      return fail(outbound_errc::invalid_request, peer + ": cannot check IP " + host);
  } else if (SSL_set_tlsext_host_name(ssl.get(), host.c_str()) != 1 ||
             SSL_set1_host(ssl.get(), host.c_str()) != 1) {
    return fail(outbound_errc::invalid_request, peer + ": cannot check the name " + host);
  }
  if (!arm(conn->fd(), deadline))
    return fail(outbound_errc::timeout, peer + ": no time left for the handshake");
  if (SSL_connect(ssl.get()) != 1) {
    const long verify = SSL_get_verify_result(ssl.get());
    std::string why = detail::openssl_error("TLS handshake").message;
    if (verify != X509_V_OK) why += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
    return fail(steady::now() >= deadline ? outbound_errc::timeout : outbound_errc::connect_failed,
                peer + ": " + why);
  }

  std::size_t sent = 0;
  while (sent < request->size()) {
    if (!arm(conn->fd(), deadline))
      return fail(outbound_errc::timeout, peer + ": request not sent in time");
    const int n = SSL_write(ssl.get(), request->data() + sent,
                            static_cast<int>(std::min<std::size_t>(request->size() - sent, 16384)));
    if (n <= 0)
      return fail(outbound_errc::io_error, detail::openssl_error(peer + ": TLS write").message);
    sent += static_cast<std::size_t>(n);
  }

  const std::size_t raw_cap = net::max_raw_response_bytes(limits.max_response_bytes);
  std::string raw;
  bool eof = false;
  for (;;) {
    auto parsed = net::parse_http_response(raw, eof, limits.max_response_bytes);
    if (parsed.status == net::http_parse_status::complete) return std::move(parsed.response);
    if (parsed.status == net::http_parse_status::failed)
      return fail(parsed.error, peer + ": " + parsed.why);
    if (raw.size() >= raw_cap) return fail(outbound_errc::too_large, peer + ": response too large");
    if (!arm(conn->fd(), deadline))
      return fail(outbound_errc::timeout, peer + ": no complete response in time");
    char chunk[4096];
    const int want = static_cast<int>(std::min(sizeof chunk, raw_cap - raw.size()));
    const int n = SSL_read(ssl.get(), chunk, want);
    if (n > 0) {
      raw.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (SSL_get_error(ssl.get(), n) == SSL_ERROR_ZERO_RETURN) {
      eof = true;  // close_notify, or (SSL_OP_IGNORE_UNEXPECTED_EOF) a plain TCP close
      continue;
    }
    return fail(steady::now() >= deadline ? outbound_errc::timeout : outbound_errc::io_error,
                detail::openssl_error(peer + ": TLS read").message);
  }
}

}  // namespace certctl::crypto
