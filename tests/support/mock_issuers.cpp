#include "tests/support/mock_issuers.hpp"

#include <httplib.h>

#include <fstream>
#include <stdexcept>
#include <thread>

#include "events/json.hpp"
#include "events/time.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/jwt.hpp"
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

void write(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + path);
}

template <class R>
auto must(R r, const char* what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + r.error().message);
  return std::move(r).value();
}

void json_reply(httplib::Response& res, int status, const events::json_object& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

/// step-ca's error body: {"status": N, "message": "..."}.
void stepca_error(httplib::Response& res, int status, const std::string& message) {
  events::json_object e;
  e.set("status", status).set("message", message);
  json_reply(res, status, e);
}

/// Vault's error body: {"errors": ["..."]}.
void vault_error(httplib::Response& res, int status, const std::string& message) {
  events::json_object e;
  e.set("errors", std::vector<std::string>{message});
  json_reply(res, status, e);
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    const size_t comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? comma : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool within(const std::string& name, const std::string& domain) {
  return name == domain ||
         (name.size() > domain.size() + 1 &&
          name.compare(name.size() - domain.size() - 1, std::string::npos, "." + domain) == 0);
}

}  // namespace

/// An HTTPS server on 127.0.0.1:port on its own thread.
class mock_server {
 public:
  mock_server(const mock_ca_material& ca, int port)
      : server(ca.serving_cert_path.c_str(), ca.serving_key_path.c_str()) {
    server.set_tcp_nodelay(true);
    if (!bind_fixed_port(server, port))
      throw std::runtime_error("mock CA: cannot bind 127.0.0.1:" + std::to_string(port));
  }
  void start() {
    // bind_to_port already listens: connections wait in the backlog until the loop runs.
    thread = std::thread([this] { server.listen_after_bind(); });
    // stop() only stops a server that runs: wait for the loop, or a test that ends at once
    // would leave it accepting forever.
    for (int i = 0; i < 5000 && !server.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~mock_server() {
    server.stop();
    if (thread.joinable()) thread.join();
  }
  httplib::SSLServer server;
  std::thread thread;
};

mock_ca_material make_mock_ca(const std::string& dir, const std::string& name) {
  mock_ca_material m;
  auto root_key = must(crypto::generate_key(crypto::key_type::ecdsa_p256), "root key");
  crypto::certificate_template root;
  root.subject.common_name = name + " Root";
  root.is_ca = true;
  root.not_before = now_s() - 3600;
  root.not_after = now_s() + 10LL * 365 * 86400;
  m.root_pem = must(crypto::self_sign(root_key.pem, root), "root");
  m.root_key_pem = root_key.pem;
  m.root_fingerprint = must(crypto::parse_certificate(m.root_pem), "root").fingerprint_sha256_hex;
  auto serving_key = must(crypto::generate_key(crypto::key_type::ecdsa_p256), "serving key");
  auto csr = must(crypto::build_csr({serving_key.pem, "127.0.0.1", {{}, {"127.0.0.1"}, {}, {}}}),
                  "serving csr");
  const std::string serving = mock_sign(m, csr, 86400, {}, {"127.0.0.1"}, "127.0.0.1");
  m.root_path = dir + "/" + name + "-root.pem";
  m.serving_cert_path = dir + "/" + name + "-serving.pem";
  m.serving_key_path = dir + "/" + name + "-serving.key";
  write(m.root_path, m.root_pem);
  write(m.serving_cert_path, serving);
  write(m.serving_key_path, serving_key.pem);
  return m;
}

std::string mock_sign(const mock_ca_material& ca, const std::string& csr_pem, int64_t seconds,
                      const std::vector<std::string>& dns, const std::vector<std::string>& ips,
                      const std::string& cn) {
  auto signer = must(crypto::certificate_signer::create(ca.root_pem, ca.root_key_pem), "signer");
  auto csr = must(crypto::parse_csr(csr_pem), "csr");
  crypto::certificate_template t;
  t.public_key_der = csr.public_key_der;
  t.subject.common_name = cn.empty() ? csr.common_name : cn;
  t.sans.dns = dns.empty() && ips.empty() ? csr.dns_names : dns;
  t.sans.ip = dns.empty() && ips.empty() ? csr.ip_addresses : ips;
  t.not_before = now_s() - 60;
  t.not_after = now_s() + seconds;
  t.ext_key_usages = {crypto::ext_key_usage::server_auth};
  return must(signer.sign(t), "sign");
}

// ---- step-ca ------------------------------------------------------------------------------

namespace {

/// Checks a one-time token as step-ca's JWK provisioner does; "" when it is good, else why.
std::string check_ott(mock_stepca_state& s, const std::string& ott, const std::string& audience,
                      const std::string& root_fingerprint, events::json_object& claims) {
  auto key = crypto::parse_jwk(s.provisioner_public_jwk);
  if (!key) return "provisioner key: " + key.error().message;
  auto token = crypto::verify_compact_jws(ott, *key);
  if (!token) return token.error().message;
  auto header = events::json_object::parse(token->header_json);
  auto payload = events::json_object::parse(token->payload_json);
  if (!header || !payload) return "token parts are not JSON";
  if (header->str("kid") != s.kid) return "kid " + header->str("kid") + " is not the provisioner's";
  if (header->str("typ") != "JWT") return "typ is not JWT";
  if (payload->str("iss") != s.provisioner_name) return "iss is not the provisioner name";
  if (payload->str("aud") != audience) return "aud " + payload->str("aud") + " != " + audience;
  const auto now = now_s();
  if (payload->int64("exp") < now || payload->int64("nbf") > now + 60) return "token expired";
  if (payload->int64("exp") - payload->int64("iat") > 3600) return "token lives too long";
  if (payload->str("sha") != root_fingerprint) return "sha is not the root fingerprint";
  const std::string jti = payload->str("jti");
  if (jti.empty() || !s.seen_jti.insert(jti).second) return "token reused (jti)";
  claims = *payload;
  return {};
}

}  // namespace

mock_stepca::mock_stepca(const mock_ca_material& ca, int port)
    : state_(std::make_shared<mock_stepca_state>()),
      server_(std::make_unique<mock_server>(ca, port)),
      port_(port) {
  auto st = state_;
  const std::string base = url();
  auto& srv = server_->server;
  srv.Get("/health", [st](const httplib::Request&, httplib::Response& res) {
    std::chrono::milliseconds delay;
    {
      std::lock_guard<std::mutex> lock(st->mutex);
      delay = st->delay;
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    json_reply(res, 200, events::json_object().set("status", "ok"));
  });
  srv.Get("/roots", [ca](const httplib::Request&, httplib::Response& res) {
    json_reply(res, 200, events::json_object().set("crts", std::vector<std::string>{ca.root_pem}));
  });
  srv.Post("/1.0/sign", [st, ca, base](const httplib::Request& req, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(st->mutex);
    const auto delay = st->delay;
    lock.unlock();
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    lock.lock();
    auto body = events::json_object::parse(req.body);
    if (!body) return stepca_error(res, 400, "error decoding json");
    events::json_object claims;
    const std::string why =
        check_ott(*st, body->str("ott"), base + "/1.0/sign", ca.root_fingerprint, claims);
    if (!why.empty()) {
      st->last_error = why;
      return stepca_error(res, 401,
                          "The request lacked necessary authorization to be completed. Please "
                          "see the certificate authority logs for more info.");
    }
    auto csr = crypto::parse_csr(body->str("csr"));
    if (!csr) return stepca_error(res, 400, "error parsing csr");
    // The token names what may be signed: subject CN and SANs must match the CSR's.
    std::vector<std::string> csr_names = csr->dns_names;
    csr_names.insert(csr_names.end(), csr->ip_addresses.begin(), csr->ip_addresses.end());
    auto token_sans = claims.str_array("sans");
    std::set<std::string> a(csr_names.begin(), csr_names.end()),
        b(token_sans.begin(), token_sans.end());
    if (a != b || (claims.str("sub") != csr->common_name && !b.count(claims.str("sub")))) {
      st->last_error = "certificate request does not match the token's subject or sans";
      return stepca_error(res, 403, "certificate request does not contain the valid DNS names");
    }
    std::int64_t lifetime = 86400;
    if (auto until = events::parse_rfc3339(body->str("notAfter")))
      lifetime = *until / 1000000 - now_s();
    if (lifetime <= 0 || lifetime > 400LL * 86400)
      return stepca_error(res, 403, "requested duration is not within the provisioner limits");
    ++st->sign_calls;
    const std::string leaf = mock_sign(ca, body->str("csr"), lifetime);
    events::json_object out;
    out.set("crt", leaf)
        .set("ca", ca.root_pem)
        .set("certChain", std::vector<std::string>{leaf, ca.root_pem});
    json_reply(res, 201, out);
  });
  srv.Post("/1.0/revoke", [st, ca, base](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(st->mutex);
    auto body = events::json_object::parse(req.body);
    if (!body) return stepca_error(res, 400, "error decoding json");
    if (st->fail_revokes > 0) {
      --st->fail_revokes;
      return stepca_error(res, 503, "The certificate authority is temporarily unavailable");
    }
    events::json_object claims;
    const std::string why =
        check_ott(*st, body->str("ott"), base + "/1.0/revoke", ca.root_fingerprint, claims);
    if (!why.empty()) {
      st->last_error = why;
      return stepca_error(res, 401, "The request lacked necessary authorization to be completed.");
    }
    if (claims.str("sub") != body->str("serial"))
      return stepca_error(res, 401, "token subject does not match the serial");
    if (!body->boolean("passive"))
      return stepca_error(res, 501, "non-passive revocation not implemented");
    st->revoked.push_back(body->str("serial"));
    st->revoke_reason_codes.push_back(static_cast<int>(body->int64("reasonCode")));
    json_reply(res, 200, events::json_object().set("status", "ok"));
  });
  server_->start();
}

mock_stepca::~mock_stepca() = default;

std::string mock_stepca::url() const {
  return "https://127.0.0.1:" + std::to_string(port_);
}

// ---- Vault --------------------------------------------------------------------------------

mock_vault::mock_vault(const mock_ca_material& ca, int port)
    : state_(std::make_shared<mock_vault_state>()),
      server_(std::make_unique<mock_server>(ca, port)),
      port_(port) {
  auto st = state_;
  auto& srv = server_->server;
  // Every API path answers 503 while sealed; authenticated ones check the token first.
  auto authorised = [st](const httplib::Request& req, httplib::Response& res) {
    if (st->sealed) {
      vault_error(res, 503, "Vault is sealed");
      return false;
    }
    const std::string token = req.get_header_value("X-Vault-Token");
    st->seen_tokens.push_back(token);
    if (!st->tokens.count(token)) {
      vault_error(res, 403, "permission denied");
      return false;
    }
    return true;
  };
  srv.Get("/v1/sys/health", [st](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(st->mutex);
    events::json_object h;
    h.set("initialized", true).set("sealed", st->sealed).set("standby", false);
    json_reply(res, st->sealed ? 503 : 200, h);
  });
  srv.Get("/v1/auth/token/lookup-self",
          [st, authorised](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard<std::mutex> lock(st->mutex);
            if (!authorised(req, res)) return;
            events::json_object data;
            data.set("ttl", st->token_ttl).set("renewable", st->renewable);
            json_reply(res, 200, events::json_object().set_raw("data", data.dump()));
          });
  srv.Post("/v1/auth/token/renew-self",
           [st, authorised](const httplib::Request& req, httplib::Response& res) {
             std::lock_guard<std::mutex> lock(st->mutex);
             if (!authorised(req, res)) return;
             ++st->renewals;
             events::json_object auth;
             auth.set("client_token", req.get_header_value("X-Vault-Token"))
                 .set("lease_duration", st->token_ttl)
                 .set("renewable", st->renewable);
             json_reply(res, 200, events::json_object().set_raw("auth", auth.dump()));
           });
  srv.Post("/v1/auth/approle/login", [st](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(st->mutex);
    if (st->sealed) return vault_error(res, 503, "Vault is sealed");
    auto body = events::json_object::parse(req.body);
    if (!body || st->role_id.empty() || body->str("role_id") != st->role_id ||
        body->str("secret_id") != st->secret_id)
      return vault_error(res, 400, "invalid role or secret ID");
    ++st->logins;
    const std::string token = "hvs.approle-" + std::to_string(st->logins);
    st->tokens.insert(token);
    events::json_object auth;
    auth.set("client_token", token).set("lease_duration", st->token_ttl).set("renewable", true);
    json_reply(res, 200, events::json_object().set_raw("auth", auth.dump()));
  });
  srv.Post(R"(/v1/pki/sign/([A-Za-z0-9_.-]+))", [st, ca, authorised](const httplib::Request& req,
                                                                     httplib::Response& res) {
    std::unique_lock<std::mutex> lock(st->mutex);
    const auto delay = st->delay;
    lock.unlock();
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    lock.lock();
    if (!authorised(req, res)) return;
    if (req.matches[1] != st->role)
      return vault_error(res, 400, "unknown role: " + std::string(req.matches[1]));
    auto body = events::json_object::parse(req.body);
    if (!body || body->str("csr").empty()) return vault_error(res, 400, "missing csr");
    const std::string cn = body->str("common_name");
    if (!within(cn, st->allowed_domain))
      return vault_error(res, 400, "common name " + cn + " not allowed by this role");
    auto dns = split_commas(body->str("alt_names"));
    for (const auto& d : dns)
      if (!within(d, st->allowed_domain))
        return vault_error(res, 400, "subject alternate name " + d + " not allowed by this role");
    std::int64_t ttl = 30 * 86400;
    const std::string t = body->str("ttl");
    if (!t.empty() && t.back() == 's') ttl = std::stoll(t.substr(0, t.size() - 1));
    auto csr = crypto::parse_csr(body->str("csr"));
    if (!csr) return vault_error(res, 400, "could not parse CSR");
    ++st->sign_calls;
    const std::string leaf =
        mock_sign(ca, body->str("csr"), ttl, dns, split_commas(body->str("ip_sans")), cn);
    auto info = crypto::parse_certificate(leaf);
    std::string serial;  // Vault's form: lower-case hex pairs joined by ':'
    for (size_t i = 0; i < info->serial_hex.size(); i += 2)
      serial += (serial.empty() ? "" : ":") + info->serial_hex.substr(i, 2);
    for (auto& c : serial) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    events::json_object data;
    data.set("certificate", leaf)
        .set("issuing_ca", ca.root_pem)
        .set("ca_chain", std::vector<std::string>{ca.root_pem})
        .set("serial_number", serial)
        .set("expiration", info->not_after);
    json_reply(res, 200, events::json_object().set_raw("data", data.dump()));
  });
  srv.Post("/v1/pki/revoke", [st, authorised](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(st->mutex);
    if (!authorised(req, res)) return;
    auto body = events::json_object::parse(req.body);
    if (!body || body->str("serial_number").empty())
      return vault_error(res, 400, "The serial number must be provided");
    st->revoked.push_back(body->str("serial_number"));
    events::json_object data;
    data.set("revocation_time", now_s());
    json_reply(res, 200, events::json_object().set_raw("data", data.dump()));
  });
  srv.Get("/v1/pki/cert/ca", [st, ca](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(st->mutex);
    if (st->sealed) return vault_error(res, 503, "Vault is sealed");
    events::json_object data;
    data.set("certificate", ca.root_pem);
    json_reply(res, 200, events::json_object().set_raw("data", data.dump()));
  });
  server_->start();
}

mock_vault::~mock_vault() = default;

std::string mock_vault::url() const {
  return "https://127.0.0.1:" + std::to_string(port_);
}

}  // namespace certctl::testing
