#include "tests/support/mock_mtls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/signer.hpp"
#include "tests/support/fixed_port.hpp"

namespace certctl::testing {
namespace {

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <class R>
auto must(R r, const char* what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + r.error().message);
  return std::move(r).value();
}

void write(const std::string& path, const std::string& text, unsigned mode) {
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f) throw std::runtime_error("cannot write " + path);
  }
  ::chmod(path.c_str(), mode);
}

/// A certificate for a fresh key under (ca_pem, ca_key_pem), EKU clientAuth; {cert, key}.
std::pair<std::string, std::string> client_cert(const std::string& ca_pem,
                                                const std::string& ca_key_pem,
                                                const std::string& cn) {
  auto key = must(crypto::generate_key(crypto::key_type::ecdsa_p256), "client key");
  auto csr_pem = must(crypto::build_csr({key.pem, cn, {}}), "client csr");
  auto csr = must(crypto::parse_csr(csr_pem), "client csr");
  auto signer = must(crypto::certificate_signer::create(ca_pem, ca_key_pem), "client signer");
  crypto::certificate_template t;
  t.public_key_der = csr.public_key_der;
  t.subject.common_name = cn;
  t.not_before = now_s() - 60;
  t.not_after = now_s() + 86400;
  t.ext_key_usages = {crypto::ext_key_usage::client_auth};
  return {must(signer.sign(t), "client cert"), key.pem};
}

}  // namespace

mtls_client_identity make_client_identity(const std::string& dir, const std::string& name,
                                          const std::string& cn) {
  mtls_client_identity id;
  auto ca_key = must(crypto::generate_key(crypto::key_type::ecdsa_p256), "client CA key");
  crypto::certificate_template root;
  root.subject.common_name = name + " Client CA";
  root.is_ca = true;
  root.not_before = now_s() - 3600;
  root.not_after = now_s() + 365LL * 86400;
  id.ca_pem = must(crypto::self_sign(ca_key.pem, root), "client CA");
  id.ca_key_pem = ca_key.pem;
  id.ca_path = dir + "/" + name + "-client-ca.pem";
  id.cert_path = dir + "/" + name + "-client.pem";
  id.key_path = dir + "/" + name + "-client.key";
  write(id.ca_path, id.ca_pem, 0644);
  auto [cert, key] = client_cert(id.ca_pem, id.ca_key_pem, cn);
  write(id.cert_path, cert, 0644);
  write(id.key_path, key, 0600);
  id.common_name = cn;
  return id;
}

void rotate_client_identity(mtls_client_identity& id, const std::string& new_cn) {
  auto [cert, key] = client_cert(id.ca_pem, id.ca_key_pem, new_cn);
  write(id.cert_path + ".new", cert, 0644);
  write(id.key_path + ".new", key, 0600);
  if (std::rename((id.key_path + ".new").c_str(), id.key_path.c_str()) != 0 ||
      std::rename((id.cert_path + ".new").c_str(), id.cert_path.c_str()) != 0)
    throw std::runtime_error("cannot rotate the client identity");
  id.common_name = new_cn;
}

mtls_server::mtls_server(const mock_ca_material& serving, const std::string& client_ca_path,
                         int port)
    : server_(serving.serving_cert_path.c_str(), serving.serving_key_path.c_str(),
              client_ca_path.empty() ? nullptr : client_ca_path.c_str()),
      port_(port) {
  if (!server_.is_valid()) throw std::runtime_error("mTLS mock: bad server material");
  server_.set_tcp_nodelay(true);
  if (!bind_fixed_port(server_, port))
    throw std::runtime_error("mTLS mock: cannot bind 127.0.0.1:" + std::to_string(port));
}

void mtls_server::start() {
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  for (int i = 0; i < 5000 && !server_.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

mtls_server::~mtls_server() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

std::string client_common_name(const httplib::Request& req) {
  if (req.ssl == nullptr) return {};
  X509* peer = SSL_get1_peer_certificate(req.ssl);
  if (peer == nullptr) return {};
  char cn[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
  X509_free(peer);
  return cn;
}

bool mock_interrupts(mock_ca_behaviour& b, std::mutex& mu, httplib::Response& res,
                     const std::function<std::string(int, const std::string&)>& error_body) {
  std::chrono::milliseconds delay;
  {
    std::lock_guard<std::mutex> lock(mu);
    delay = b.delay;
  }
  if (delay.count() > 0) std::this_thread::sleep_for(delay);
  std::lock_guard<std::mutex> lock(mu);
  if (b.rate_limited > 0) {
    --b.rate_limited;
    res.status = 429;
    res.set_header("Retry-After", "7");
    res.set_content(error_body(429, "Too many requests"), "application/json");
    return true;
  }
  if (b.unauthorised > 0) {
    --b.unauthorised;
    res.status = 401;
    res.set_content(error_body(401, "Unauthorized"), "application/json");
    return true;
  }
  return false;
}

std::pair<std::string, std::string> mock_issue(const mock_ca_material& ca,
                                               const std::string& csr_pem, std::int64_t seconds) {
  const std::string leaf = mock_sign(ca, csr_pem, seconds);
  auto info = must(crypto::parse_certificate(leaf), "issued leaf");
  return {leaf, info.serial_hex};
}

}  // namespace certctl::testing
