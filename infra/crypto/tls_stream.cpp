#include "infra/crypto/tls_stream.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>

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

struct tls_stream::impl {
  net::tcp_connection conn;
  std::string host;
  std::string peer;
  net::outbound_limits limits;
  https_options options;
  std::unique_ptr<SSL_CTX, ssl_ctx_free> ctx;
  std::unique_ptr<SSL, ssl_free> ssl;
  std::string buffer;  // read but not yet returned

  impl(net::tcp_connection c, std::string h, int port, net::outbound_limits l, https_options o)
      : conn(std::move(c)),
        host(std::move(h)),
        peer(net::to_string(conn.peer()) + ":" + std::to_string(port)),
        limits(l),
        options(std::move(o)) {}

  ~impl() {
    if (ssl) {
      const net::sigpipe_blocked no_sigpipe;
      arm(conn.fd(), steady::now() + std::chrono::milliseconds(200));
      SSL_shutdown(ssl.get());  // best effort: the peer may already be gone
    }
  }

  result<done, outbound_error> handshake() {
    const net::sigpipe_blocked no_sigpipe;
    detail::clear_errors();
    ctx.reset(SSL_CTX_new(TLS_client_method()));
    if (!ctx) return fail(outbound_errc::io_error, detail::openssl_error("TLS context").message);
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
    const int loaded =
        options.ca_bundle_path.empty()
            ? SSL_CTX_set_default_verify_paths(ctx.get())
            : SSL_CTX_load_verify_locations(ctx.get(), options.ca_bundle_path.c_str(), nullptr);
    if (loaded != 1)
      return fail(
          outbound_errc::invalid_request,
          detail::openssl_error("cannot load the CA bundle '" + options.ca_bundle_path + "'")
              .message);
    ssl.reset(SSL_new(ctx.get()));
    if (!ssl || SSL_set_fd(ssl.get(), conn.fd()) != 1)
      return fail(outbound_errc::io_error, detail::openssl_error(peer + ": TLS setup").message);
    const std::string name = bare_host(host);
    net::ip_address literal;
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
    if (net::parse_ip(name, literal)) {
      if (X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) != 1)
        return fail(outbound_errc::invalid_request, peer + ": cannot check IP " + name);
    } else if (SSL_set_tlsext_host_name(ssl.get(), name.c_str()) != 1 ||
               SSL_set1_host(ssl.get(), name.c_str()) != 1) {
      return fail(outbound_errc::invalid_request, peer + ": cannot check the name " + name);
    }
    const auto deadline = steady::now() + limits.io_timeout;
    if (!arm(conn.fd(), deadline))
      return fail(outbound_errc::timeout, peer + ": no time left for the handshake");
    if (SSL_connect(ssl.get()) != 1) {
      const long verify = SSL_get_verify_result(ssl.get());
      std::string why = detail::openssl_error("TLS handshake").message;
      if (verify != X509_V_OK)
        why += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
      ssl.reset();
      return fail(
          steady::now() >= deadline ? outbound_errc::timeout : outbound_errc::connect_failed,
          peer + ": " + why);
    }
    return done{};
  }
};

tls_stream::tls_stream(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
tls_stream::~tls_stream() = default;
tls_stream::tls_stream(tls_stream&& o) noexcept = default;
tls_stream& tls_stream::operator=(tls_stream&& o) noexcept = default;

result<tls_stream, outbound_error> tls_stream::open(const net::outbound_guard& guard,
                                                    const std::string& host, int port,
                                                    const net::outbound_limits& limits,
                                                    const https_options& options,
                                                    bool implicit_tls) {
  auto conn = guard.connect(host, port, limits);
  if (!conn) return conn.error();
  auto p = std::make_unique<impl>(std::move(*conn), host, port, limits, options);
  if (implicit_tls)
    if (auto r = p->handshake(); !r) return r.error();
  return tls_stream(std::move(p));
}

result<done, outbound_error> tls_stream::start_tls() {
  if (impl_->ssl) return fail(outbound_errc::invalid_request, impl_->peer + ": already TLS");
  impl_->buffer.clear();
  return impl_->handshake();
}

bool tls_stream::secure() const {
  return impl_->ssl != nullptr;
}

const std::string& tls_stream::peer() const {
  return impl_->peer;
}

result<done, outbound_error> tls_stream::write(std::string_view data) {
  const net::sigpipe_blocked no_sigpipe;
  const auto deadline = steady::now() + impl_->limits.io_timeout;
  std::size_t sent = 0;
  while (sent < data.size()) {
    if (!arm(impl_->conn.fd(), deadline))
      return fail(outbound_errc::timeout, impl_->peer + ": write not done in time");
    const std::size_t chunk = std::min<std::size_t>(data.size() - sent, 16384);
    long n = 0;
    if (impl_->ssl) {
      detail::clear_errors();
      n = SSL_write(impl_->ssl.get(), data.data() + sent, static_cast<int>(chunk));
    } else {
      n = ::send(impl_->conn.fd(), data.data() + sent, chunk, MSG_NOSIGNAL);
    }
    if (n <= 0)
      return fail(steady::now() >= deadline ? outbound_errc::timeout : outbound_errc::io_error,
                  impl_->peer + ": write failed");
    sent += static_cast<std::size_t>(n);
  }
  return done{};
}

result<std::string, outbound_error> tls_stream::read_line(std::size_t max_line) {
  const auto deadline = steady::now() + impl_->limits.io_timeout;
  for (;;) {
    if (auto nl = impl_->buffer.find('\n'); nl != std::string::npos) {
      std::string line = impl_->buffer.substr(0, nl);
      impl_->buffer.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (impl_->buffer.size() > max_line)
      return fail(outbound_errc::too_large,
                  impl_->peer + ": line longer than " + std::to_string(max_line) + " bytes");
    if (!arm(impl_->conn.fd(), deadline))
      return fail(outbound_errc::timeout, impl_->peer + ": no complete line in time");
    char chunk[4096];
    long n = 0;
    if (impl_->ssl) {
      const net::sigpipe_blocked no_sigpipe;
      detail::clear_errors();
      n = SSL_read(impl_->ssl.get(), chunk, sizeof chunk);
    } else {
      n = ::recv(impl_->conn.fd(), chunk, sizeof chunk, 0);
    }
    if (n > 0) {
      impl_->buffer.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0 || (impl_->ssl &&
                   SSL_get_error(impl_->ssl.get(), static_cast<int>(n)) == SSL_ERROR_ZERO_RETURN))
      return fail(outbound_errc::io_error, impl_->peer + ": connection closed");
    return fail(steady::now() >= deadline ? outbound_errc::timeout : outbound_errc::io_error,
                impl_->peer + ": read failed");
  }
}

}  // namespace certctl::crypto
