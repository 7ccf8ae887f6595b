// HTTPS GET through the outbound guard (infra/crypto/https_client) against a TLS server on
// loopback started in the test, with certificates made here: the chain is verified against
// the given CA bundle, the IP address or name is checked, and the guard and caps still hold.
#define BOOST_TEST_MODULE infra_crypto_https_client
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "infra/crypto/https_client.hpp"

using namespace certctl;

namespace certctl::net {
std::ostream& operator<<(std::ostream& o, outbound_errc c) {
  return o << to_string(c);
}
}  // namespace certctl::net

namespace {

const net::outbound_guard loopback_allowed{{*net::parse_cidr("127.0.0.1/32")}};

/// A self-signed P-256 certificate (its own trust anchor) for the names in `san`.
std::pair<EVP_PKEY*, X509*> make_cert(const std::string& san) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  BOOST_REQUIRE(key != nullptr);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_set_pubkey(cert, key);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  for (const auto& [nid, value] :
       {std::pair<int, std::string>{NID_subject_alt_name, san},
        std::pair<int, std::string>{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    BOOST_REQUIRE(ext != nullptr);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  BOOST_REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
  return {key, cert};
}

/// `cert` as a PEM CA bundle file in a fresh temporary directory.
std::string write_bundle(X509* cert, const std::string& name) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("certctl-https-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  FILE* f = std::fopen(path.c_str(), "w");
  BOOST_REQUIRE(f != nullptr);
  BOOST_REQUIRE(PEM_write_X509(f, cert) == 1);
  std::fclose(f);
  return path;
}

/// A TLS server on 127.0.0.1 answering every request with `response` (then `endless` 'x's
/// until the client goes, when set).
class tls_server {
 public:
  tls_server(EVP_PKEY* key, X509* cert, std::string response, bool endless = false)
      : response_(std::move(response)), endless_(endless) {
    std::signal(SIGPIPE, SIG_IGN);  // the server side writes to clients that hung up
    ctx_ = SSL_CTX_new(TLS_server_method());
    BOOST_REQUIRE(SSL_CTX_use_certificate(ctx_, cert) == 1);
    BOOST_REQUIRE(SSL_CTX_use_PrivateKey(ctx_, key) == 1);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    BOOST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    BOOST_REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    BOOST_REQUIRE(::listen(fd_, 8) == 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~tls_server() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  int port() const { return port_; }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      timeval tv{2, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, c);
      if (SSL_accept(ssl) == 1) {
        std::string got;
        char buf[1024];
        while (got.find("\r\n\r\n") == std::string::npos) {
          const int n = SSL_read(ssl, buf, sizeof buf);
          if (n <= 0) break;
          got.append(buf, static_cast<std::size_t>(n));
        }
        SSL_write(ssl, response_.data(), static_cast<int>(response_.size()));
        const std::string block(4096, 'x');
        while (endless_ && !stop_ && SSL_write(ssl, block.data(), 4096) > 0) {
        }
        SSL_shutdown(ssl);
      }
      SSL_free(ssl);
      ::close(c);
    }
  }

  std::string response_;
  bool endless_;
  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

net::outbound_limits limits() {
  net::outbound_limits l;
  l.connect_timeout = std::chrono::seconds(3);
  l.io_timeout = std::chrono::seconds(10);
  l.max_response_bytes = 1024;
  return l;
}

net::http_get_request at(int port) {
  net::http_get_request r;
  r.host = "127.0.0.1";
  r.port = port;
  r.path = "/ok";
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_server_whose_chain_and_address_verify_is_read) {
  auto [key, cert] = make_cert("IP:127.0.0.1,DNS:www.example.test");
  const std::string bundle = write_bundle(cert, "good.pem");
  tls_server s(key, cert, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  auto r = crypto::https_get(loopback_allowed, at(s.port()), limits(), {bundle});
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().log_line()));
  BOOST_TEST(r->status == 200);
  BOOST_TEST(r->body == "ok");
  X509_free(cert);
  EVP_PKEY_free(key);
}

BOOST_AUTO_TEST_CASE(an_untrusted_chain_or_a_certificate_for_another_name_is_refused) {
  auto [key, cert] = make_cert("IP:127.0.0.1");
  auto [other_key, other] = make_cert("IP:127.0.0.1");
  const std::string wrong_bundle = write_bundle(other, "other.pem");
  tls_server s(key, cert, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  auto untrusted = crypto::https_get(loopback_allowed, at(s.port()), limits(), {wrong_bundle});
  BOOST_REQUIRE(!untrusted.ok());
  BOOST_TEST(untrusted.error().code == net::outbound_errc::connect_failed);
  BOOST_TEST(untrusted.error().detail.find("verify") != std::string::npos,
             untrusted.error().detail);

  auto [named_key, named] = make_cert("DNS:www.example.test");
  const std::string named_bundle = write_bundle(named, "named.pem");
  tls_server n(named_key, named, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  auto mismatch = crypto::https_get(loopback_allowed, at(n.port()), limits(), {named_bundle});
  BOOST_REQUIRE(!mismatch.ok());
  BOOST_TEST(mismatch.error().code == net::outbound_errc::connect_failed);
  BOOST_TEST(mismatch.error().detail.find("IP address mismatch") != std::string::npos,
             mismatch.error().detail);
  for (auto* c : {cert, other, named}) X509_free(c);
  for (auto* k : {key, other_key, named_key}) EVP_PKEY_free(k);
}

BOOST_AUTO_TEST_CASE(the_guard_and_the_size_cap_hold_over_tls_too) {
  auto [key, cert] = make_cert("IP:127.0.0.1");
  const std::string bundle = write_bundle(cert, "cap.pem");
  tls_server s(key, cert, "HTTP/1.1 200 OK\r\n\r\n", true);
  auto refused = crypto::https_get(net::outbound_guard{}, at(s.port()), limits(), {bundle});
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().code == net::outbound_errc::refused_address);
  auto big = crypto::https_get(loopback_allowed, at(s.port()), limits(), {bundle});
  BOOST_REQUIRE(!big.ok());
  BOOST_TEST(big.error().code == net::outbound_errc::too_large, big.error().log_line());
  auto missing = crypto::https_get(loopback_allowed, at(s.port()), limits(), {"/nonexistent.pem"});
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().code == net::outbound_errc::invalid_request);
  X509_free(cert);
  EVP_PKEY_free(key);
  std::filesystem::remove_all(std::filesystem::path(bundle).parent_path());
}
