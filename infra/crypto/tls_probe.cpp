#include "infra/crypto/tls_probe.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <memory>
#include <optional>

#include "infra/crypto/certificate.hpp"
#include "infra/crypto/detail/openssl.hpp"
#include "infra/crypto/detail/tls_socket.hpp"
#include "infra/crypto/sha256.hpp"
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

/// One CRLF-terminated line of the plain-text phase, at most 4 KiB (a peer cannot make us
/// buffer more). Byte by byte on purpose: nothing after the line may be consumed, because
/// the TLS handshake starts right after the server's go-ahead.
bool read_line(int fd, steady::time_point deadline, std::string& line) {
  line.clear();
  while (line.size() < 4096) {
    if (!arm(fd, deadline)) return false;
    char c = 0;
    const ssize_t n = ::recv(fd, &c, 1, 0);
    if (n <= 0) return false;
    line.push_back(c);
    if (c == '\n') return true;
  }
  return false;
}

bool send_all(int fd, steady::time_point deadline, const std::string& s) {
  std::size_t sent = 0;
  while (sent < s.size()) {
    if (!arm(fd, deadline)) return false;
    const ssize_t n = ::send(fd, s.data() + sent, s.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

/// SMTP (RFC 3207): greeting, EHLO, STARTTLS -> 220. Multi-line replies end with "NNN ".
std::string smtp_starttls(int fd, steady::time_point deadline) {
  std::string line;
  auto reply = [&](const char* code) -> bool {
    for (;;) {
      if (!read_line(fd, deadline, line) || line.size() < 4) return false;
      if (line.compare(0, 3, code) != 0) return false;
      if (line[3] == ' ') return true;
    }
  };
  if (!reply("220")) return "SMTP greeting: " + line;
  if (!send_all(fd, deadline, "EHLO certctl.invalid\r\n") || !reply("250"))
    return "SMTP EHLO: " + line;
  if (!send_all(fd, deadline, "STARTTLS\r\n") || !reply("220")) return "SMTP STARTTLS: " + line;
  return {};
}

/// IMAP (RFC 3501 §6.2.1): "* OK" greeting, then a tagged STARTTLS answered "OK".
std::string imap_starttls(int fd, steady::time_point deadline) {
  std::string line;
  if (!read_line(fd, deadline, line) || line.compare(0, 4, "* OK") != 0)
    return "IMAP greeting: " + line;
  if (!send_all(fd, deadline, "c1 STARTTLS\r\n")) return "IMAP STARTTLS not sent";
  for (;;) {
    if (!read_line(fd, deadline, line)) return "IMAP STARTTLS: no answer";
    if (line.compare(0, 3, "c1 ") == 0)
      return line.compare(0, 6, "c1 OK ") == 0 ? std::string() : "IMAP STARTTLS: " + line;
  }
}

/// The certificate as PEM; nullopt when it does not encode.
std::optional<std::string> pem_of(X509* cert) {
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  if (len <= 0) return std::nullopt;
  const detail::ossl_ptr<unsigned char> der_owner(der);
  auto pem = certificate_der_to_pem(bytes(der, der + len));
  if (!pem) return std::nullopt;
  return std::move(*pem);
}

}  // namespace

result<served_certificate, outbound_error> probe_tls_certificate(
    const net::outbound_guard& guard, const tls_probe_request& req,
    const net::outbound_limits& limits) {
  const net::sigpipe_blocked no_sigpipe;
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, ssl_ctx_free> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return fail(outbound_errc::io_error, detail::openssl_error("TLS context").message);
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // No chain verification: the caller pins the exact leaf by fingerprint (see the header).
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);

  auto conn = guard.connect(req.host, req.port, limits);
  if (!conn) return conn.error();
  const auto deadline = steady::now() + limits.io_timeout;
  const std::string peer = net::to_string(conn->peer()) + ":" + std::to_string(req.port);
  std::string plain_error;
  if (req.starttls == starttls_protocol::smtp) plain_error = smtp_starttls(conn->fd(), deadline);
  if (req.starttls == starttls_protocol::imap) plain_error = imap_starttls(conn->fd(), deadline);
  if (!plain_error.empty())
    return fail(steady::now() >= deadline ? outbound_errc::timeout : outbound_errc::protocol_error,
                peer + ": " + plain_error);

  std::unique_ptr<SSL, ssl_free> ssl(SSL_new(ctx.get()));
  if (!ssl || SSL_set_fd(ssl.get(), conn->fd()) != 1)
    return fail(outbound_errc::io_error, detail::openssl_error(peer + ": TLS setup").message);
  std::string sni = req.server_name;
  net::ip_address literal;
  if (sni.empty() && !net::parse_ip(req.host, literal)) sni = req.host;
  if (!sni.empty() && SSL_set_tlsext_host_name(ssl.get(), sni.c_str()) != 1)
    return fail(outbound_errc::invalid_request, peer + ": cannot send the server name " + sni);
  if (!arm(conn->fd(), deadline))
    return fail(outbound_errc::timeout, peer + ": no time left for the handshake");
  if (SSL_connect(ssl.get()) != 1)
    return fail(steady::now() >= deadline ? outbound_errc::timeout : outbound_errc::connect_failed,
                detail::openssl_error(peer + ": TLS handshake").message);
  detail::ossl_ptr<X509> leaf(SSL_get1_peer_certificate(ssl.get()));
  SSL_shutdown(ssl.get());
  if (!leaf) return fail(outbound_errc::protocol_error, peer + ": no certificate presented");

  auto pem = pem_of(leaf.get());
  if (!pem) return fail(outbound_errc::protocol_error, peer + ": unreadable certificate");
  auto info = parse_certificate(*pem);
  if (!info) return fail(outbound_errc::protocol_error, peer + ": " + info.error().message);
  served_certificate out;
  out.fingerprint_sha256_hex = info->fingerprint_sha256_hex;
  out.serial_hex = info->serial_hex;
  out.pem = std::move(*pem);
  // The client side's chain starts with the leaf; what follows is what the peer sent with it.
  if (STACK_OF(X509)* sent = SSL_get_peer_cert_chain(ssl.get())) {
    for (int i = 1; i < sk_X509_num(sent) && out.chain_pem.size() < max_served_chain; ++i)
      if (auto c = pem_of(sk_X509_value(sent, i))) out.chain_pem.push_back(std::move(*c));
  }
  out.tls_version = SSL_get_version(ssl.get());
  if (const char* cipher = SSL_get_cipher_name(ssl.get())) out.cipher_suite = cipher;
  return out;
}

}  // namespace certctl::crypto
