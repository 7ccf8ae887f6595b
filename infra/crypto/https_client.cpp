#include "infra/crypto/https_client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <vector>

#include "infra/crypto/certificate.hpp"
#include "infra/crypto/detail/openssl.hpp"
#include "infra/crypto/detail/tls_socket.hpp"
#include "infra/crypto/secure_file.hpp"
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

/// Detail prefixes that tls_failure_of() recognises; the rest of the detail is for logs.
constexpr const char* identity_marker = "client identity: ";
constexpr const char* refused_marker = "client certificate refused: ";

/// What identifies a file's content without reading it: a rename over it changes the inode,
/// a rewrite in place the size or the times.
struct file_stamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  bool operator==(const file_stamp& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns &&
           ctime_ns == o.ctime_ns;
  }
};

bool stamp_of(const std::string& path, file_stamp& out, unsigned& mode) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  out.dev = st.st_dev;
  out.ino = st.st_ino;
  out.size = st.st_size;
  out.mtime_ns = std::int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  out.ctime_ns = std::int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
  mode = static_cast<unsigned>(st.st_mode & 07777);
  return true;
}

/// Never prompt on the terminal for an encrypted key: refuse it instead.
int no_password(char*, int, int, void*) {
  return 0;
}

/// The files a context is built from, in a fixed order, with their stamps; an error names
/// the file that cannot be used.
result<std::vector<file_stamp>, outbound_error> stamps_of(const https_options& o) {
  std::vector<file_stamp> out;
  unsigned mode = 0;
  if (!o.ca_bundle_path.empty()) {
    file_stamp s;
    if (!stamp_of(o.ca_bundle_path, s, mode))
      return fail(outbound_errc::invalid_request,
                  "cannot read the CA bundle '" + o.ca_bundle_path + "'");
    out.push_back(s);
  }
  if (o.client_cert_path.empty() != o.client_key_path.empty())
    return fail(outbound_errc::invalid_request,
                std::string(identity_marker) + "give both the certificate and the key file");
  if (o.client_cert_path.empty()) return out;
  for (const auto* path : {&o.client_cert_path, &o.client_key_path}) {
    file_stamp s;
    if (!stamp_of(*path, s, mode))
      return fail(outbound_errc::invalid_request,
                  std::string(identity_marker) + "cannot read '" + *path + "'");
    if (path == &o.client_key_path && (mode & 077) != 0) {
      char text[8];
      std::snprintf(text, sizeof text, "%04o", mode);
      return fail(outbound_errc::invalid_request,
                  std::string(identity_marker) + "key file '" + *path +
                      "' is accessible by group or others (mode " + text + "); chmod 600 it");
    }
    out.push_back(s);
  }
  return out;
}

result<std::shared_ptr<SSL_CTX>, outbound_error> build_context(const https_options& options) {
  ERR_clear_error();
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()), ssl_ctx_free{});
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
  if (options.client_cert_path.empty()) return ctx;
  SSL_CTX_set_default_passwd_cb(ctx.get(), no_password);
  auto bad = [&](const std::string& what) {
    return fail(outbound_errc::invalid_request,
                identity_marker + detail::openssl_error(what).message);
  };
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), options.client_cert_path.c_str()) != 1)
    return bad("certificate '" + options.client_cert_path + "'");
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), options.client_key_path.c_str(), SSL_FILETYPE_PEM) !=
      1)
    return bad("key '" + options.client_key_path +
               "' is not an unencrypted PEM key that matches the certificate");
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return bad("key '" + options.client_key_path + "' does not match the certificate");
  return ctx;
}

/// The TLS alerts a server sends when it will not take our certificate (or got none).
bool is_refusal(unsigned long e) {
  if (ERR_GET_LIB(e) != ERR_LIB_SSL) return false;
  switch (ERR_GET_REASON(e)) {
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
      return true;
    default:
      return false;
  }
}

/// `what` and the drained OpenSSL queue; `refused` when one entry is a certificate refusal.
std::string drain_errors(const std::string& what, bool& refused) {
  std::string out = what;
  char buf[256];
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    refused = refused || is_refusal(e);
    ERR_error_string_n(e, buf, sizeof buf);
    out += std::string(": ") + buf;
  }
  return out;
}

}  // namespace

struct tls_context_cache::impl {
  std::mutex mu;
  std::string ca, cert, key;  ///< the paths the context was built from
  std::vector<file_stamp> stamps;
  std::shared_ptr<SSL_CTX> ctx;
  int builds = 0;
};

tls_context_cache::tls_context_cache() : impl_(std::make_unique<impl>()) {}
tls_context_cache::~tls_context_cache() = default;

int tls_context_cache::builds() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->builds;
}

struct cache_access {
  /// The cached context when its files are unchanged, else a fresh one (kept for next time).
  static result<std::shared_ptr<SSL_CTX>, outbound_error> context(const https_options& o) {
    auto stamps = stamps_of(o);
    if (!stamps) return stamps.error();
    if (!o.cache) return build_context(o);
    auto& c = *o.cache->impl_;
    std::lock_guard<std::mutex> lock(c.mu);
    if (c.ctx && c.ca == o.ca_bundle_path && c.cert == o.client_cert_path &&
        c.key == o.client_key_path && c.stamps == *stamps)
      return c.ctx;
    auto built = build_context(o);
    if (!built) {
      c.ctx.reset();  // never fall back to an identity the files no longer hold
      return built.error();
    }
    c.ca = o.ca_bundle_path;
    c.cert = o.client_cert_path;
    c.key = o.client_key_path;
    c.stamps = std::move(stamps).value();
    c.ctx = *built;
    ++c.builds;
    return c.ctx;
  }
};

tls_failure tls_failure_of(const net::outbound_error& e) {
  if (e.detail.rfind(identity_marker, 0) == 0) return tls_failure::client_identity;
  if (e.detail.rfind(refused_marker, 0) == 0) return tls_failure::client_cert_refused;
  return tls_failure::other;
}

crypto_result<done> check_client_identity(const std::string& cert_path,
                                          const std::string& key_path) {
  https_options o;
  o.client_cert_path = cert_path;
  o.client_key_path = key_path;
  auto ctx = cache_access::context(o);
  if (!ctx) return crypto_error{ctx.error().detail.substr(std::string(identity_marker).size())};
  auto text = read_file(cert_path, max_certificate_pem);
  if (!text) return text.error();
  auto cert = parse_certificate(*text);
  if (!cert) return crypto_error{"certificate '" + cert_path + "': " + cert.error().message};
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  if (cert->not_after < now) return crypto_error{"certificate '" + cert_path + "' has expired"};
  if (cert->not_before > now + 300)
    return crypto_error{"certificate '" + cert_path + "' is not valid yet"};
  return done{};
}

result<net::http_get_response, outbound_error> https_get(const net::outbound_guard& guard,
                                                         const net::http_get_request& req,
                                                         const net::outbound_limits& limits,
                                                         const https_options& options) {
  auto request = net::http_request_bytes(req, 443);
  if (!request) return request.error();
  const net::sigpipe_blocked no_sigpipe;
  auto ctx = cache_access::context(options);
  if (!ctx) return ctx.error();
  ERR_clear_error();

  auto conn = guard.connect(req.host, req.port, limits);
  if (!conn) return conn.error();
  const auto deadline = steady::now() + limits.io_timeout;
  const std::string peer = net::to_string(conn->peer()) + ":" + std::to_string(req.port);
  std::unique_ptr<SSL, ssl_free> ssl(SSL_new(ctx->get()));
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
    bool refused = false;
    std::string why = drain_errors("TLS handshake", refused);
    if (verify != X509_V_OK) why += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
    return fail(steady::now() >= deadline ? outbound_errc::timeout : outbound_errc::connect_failed,
                (refused ? refused_marker : "") + peer + ": " + why);
  }

  std::size_t sent = 0;
  while (sent < request->size()) {
    if (!arm(conn->fd(), deadline))
      return fail(outbound_errc::timeout, peer + ": request not sent in time");
    const int n = SSL_write(ssl.get(), request->data() + sent,
                            static_cast<int>(std::min<std::size_t>(request->size() - sent, 16384)));
    if (n <= 0) {
      // TLS 1.3: the server's verdict on our certificate comes after the handshake, as an
      // alert that may already wait to be read; read it to say why the write failed.
      bool refused = false;
      std::string why = drain_errors(peer + ": TLS write", refused);
      char alert[256];
      if (!refused && SSL_read(ssl.get(), alert, sizeof alert) <= 0)
        why = drain_errors(why, refused);
      return fail(refused ? outbound_errc::connect_failed : outbound_errc::io_error,
                  (refused ? refused_marker : "") + why);
    }
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
    bool refused = false;
    const std::string why = drain_errors(peer + ": TLS read", refused);
    if (refused) return fail(outbound_errc::connect_failed, refused_marker + why);
    return fail(steady::now() >= deadline ? outbound_errc::timeout : outbound_errc::io_error, why);
  }
}

}  // namespace certctl::crypto
