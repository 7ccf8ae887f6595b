// tls-alpn-01 (gateways/acme/tls_alpn01) against a real TLS server started in the test: it
// answers with an acme-tls/1 certificate made here with OpenSSL (RFC 8737 §3), or with one
// that breaks exactly one rule, and records the SNI it was sent.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <csignal>
#include <mutex>
#include <thread>

#include "gateways/acme/tls_alpn01.hpp"
#include "infra/crypto/sha256.hpp"
#include "infra/net/outbound_guard.hpp"

using namespace certctl::gateways::acme;
namespace net = certctl::net;

namespace {

const std::string identifier = "www.example.test";
const std::string key_auth = "token-abc.thumbprint-xyz";

struct cert_options {
  bool critical = true;
  bool extra_san = false;
  bool with_extension = true;
  std::string key_authorization = key_auth;
  std::string san = identifier;
};

void add_ext(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  BOOST_REQUIRE(ext != nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

/// A self-signed P-256 certificate as a tls-alpn-01 client presents it (RFC 8737 §3).
std::pair<EVP_PKEY*, X509*> make_cert(const cert_options& o) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  BOOST_REQUIRE(key != nullptr);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("acme"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_set_pubkey(cert, key);
  add_ext(cert, NID_subject_alt_name,
          "DNS:" + o.san + (o.extra_san ? ",DNS:other.example.test" : ""));
  if (o.with_extension) {
    const auto digest = certctl::crypto::sha256_of(o.key_authorization);
    std::string der("\x04\x20", 2);
    der.append(reinterpret_cast<const char*>(digest.data()), digest.size());
    ASN1_OCTET_STRING* value = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(value, reinterpret_cast<const unsigned char*>(der.data()),
                          static_cast<int>(der.size()));
    ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, oid, o.critical ? 1 : 0, value);
    BOOST_REQUIRE(ext != nullptr);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    ASN1_OBJECT_free(oid);
    ASN1_OCTET_STRING_free(value);
  }
  BOOST_REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
  return {key, cert};
}

/// A TLS server on 127.0.0.1 that negotiates acme-tls/1 (unless told not to) with `cert`.
class alpn_server {
 public:
  explicit alpn_server(const cert_options& o, bool select_alpn = true) : select_alpn_(select_alpn) {
    std::signal(SIGPIPE, SIG_IGN);  // the server side writes to clients that hung up
    auto [key, cert] = make_cert(o);
    ctx_ = SSL_CTX_new(TLS_server_method());
    BOOST_REQUIRE(SSL_CTX_use_certificate(ctx_, cert) == 1);
    BOOST_REQUIRE(SSL_CTX_use_PrivateKey(ctx_, key) == 1);
    X509_free(cert);
    EVP_PKEY_free(key);
    SSL_CTX_set_alpn_select_cb(ctx_, &alpn_server::select, this);
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    BOOST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    BOOST_REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    BOOST_REQUIRE(::listen(fd_, 8) == 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~alpn_server() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  tls_alpn01_target target() const { return {"127.0.0.1", port_}; }
  std::string sni() {
    std::lock_guard<std::mutex> lock(mu_);
    return sni_;
  }

 private:
  static int select(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                    const unsigned char* in, unsigned int inlen, void* arg) {
    auto* self = static_cast<alpn_server*>(arg);
    // Recorded while the ClientHello is processed, i.e. before the client can finish: after
    // SSL_accept the client may already have checked the certificate and moved on.
    if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->sni_ = name;
    }
    const std::string offered(reinterpret_cast<const char*>(in), inlen);
    if (!self->select_alpn_ || offered != std::string("\x0a") + "acme-tls/1")
      return SSL_TLSEXT_ERR_NOACK;
    *out = in + 1;
    *outlen = in[0];
    return SSL_TLSEXT_ERR_OK;
  }
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, c);
      SSL_accept(ssl);
      SSL_shutdown(ssl);
      SSL_free(ssl);
      ::close(c);
    }
  }

  bool select_alpn_;
  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::string sni_;
  std::thread thread_;
};

constexpr std::chrono::milliseconds timeout{3000};

/// The test servers listen on loopback, which the guard refuses unless listed.
const net::outbound_guard loopback_allowed{{*net::parse_cidr("127.0.0.1/32")}};

std::string failure(const cert_options& o, bool select_alpn = true) {
  alpn_server s(o, select_alpn);
  return check_tls_alpn01(identifier, key_auth, s.target(), timeout, loopback_allowed)
      .value_or("(passed)");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_alpn01)

BOOST_AUTO_TEST_CASE(a_correct_acme_tls_certificate_passes_and_sni_is_the_identifier) {
  alpn_server s(cert_options{});
  auto r = check_tls_alpn01(identifier, key_auth, s.target(), timeout, loopback_allowed);
  BOOST_TEST(!r.has_value(), r.value_or(""));
  BOOST_TEST(s.sni() == identifier);
  // The identifier compares case-insensitively, as DNS names do.
  cert_options upper;
  upper.san = "WWW.Example.TEST";
  alpn_server u(upper);
  BOOST_TEST(
      !check_tls_alpn01(identifier, key_auth, u.target(), timeout, loopback_allowed).has_value());
}

BOOST_AUTO_TEST_CASE(each_broken_rule_fails_with_its_reason) {
  cert_options o;
  o.key_authorization = "token-abc.another-account";
  BOOST_TEST(failure(o).find("SHA-256 of the key authorization") != std::string::npos);
  o = {};
  o.critical = false;
  BOOST_TEST(failure(o).find("not critical") != std::string::npos);
  o = {};
  o.extra_san = true;
  BOOST_TEST(failure(o).find("exactly one name") != std::string::npos);
  o = {};
  o.san = "other.example.test";
  BOOST_TEST(failure(o).find("names 'other.example.test'") != std::string::npos);
  o = {};
  o.with_extension = false;
  BOOST_TEST(failure(o).find("no acmeIdentifier") != std::string::npos);
  BOOST_TEST(failure(cert_options{}, false).find("did not select") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(nothing_listening_or_not_tls_fails_within_the_timeout) {
  // A port with a listener that never speaks TLS: the handshake times out.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  BOOST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  BOOST_REQUIRE(::listen(fd, 1) == 0);
  const int port = ntohs(a.sin_port);
  const auto start = std::chrono::steady_clock::now();
  auto r = check_tls_alpn01(identifier, key_auth, {"127.0.0.1", port},
                            std::chrono::milliseconds(300), loopback_allowed);
  BOOST_TEST(r.has_value());
  BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(2)));
  ::close(fd);
  // Now closed: connection refused. The client learns only the generic text; the server
  // log gets the cause.
  std::string detail;
  auto refused = check_tls_alpn01(identifier, key_auth, {"127.0.0.1", port}, timeout,
                                  loopback_allowed, &detail);
  BOOST_REQUIRE(refused.has_value());
  BOOST_TEST(*refused == std::string("tls-alpn-01: ") + net::outbound_error::public_message());
  BOOST_TEST(detail.find("connect_failed") != std::string::npos, detail);
  BOOST_TEST(detail.find(std::to_string(port)) != std::string::npos, detail);
}

BOOST_AUTO_TEST_CASE(loopback_is_refused_without_the_allow_list_with_the_same_generic_text) {
  alpn_server s(cert_options{});
  std::string detail;
  auto r =
      check_tls_alpn01(identifier, key_auth, s.target(), timeout, net::outbound_guard{}, &detail);
  BOOST_REQUIRE(r.has_value());
  // Identical to a refused connection: no oracle for what listens where.
  BOOST_TEST(*r == std::string("tls-alpn-01: ") + net::outbound_error::public_message());
  BOOST_TEST(r->find("127.0.0.1") == std::string::npos);
  BOOST_TEST(r->find(std::to_string(s.target().port)) == std::string::npos);
  BOOST_TEST(detail.find("refused_address") != std::string::npos, detail);
  BOOST_TEST(s.sni().empty());  // nothing reached the listener
}

BOOST_AUTO_TEST_SUITE_END()
