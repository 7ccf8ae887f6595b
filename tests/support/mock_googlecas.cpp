#include "tests/support/mock_googlecas.hpp"

#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <stdexcept>
#include <thread>

#include "events/json.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/jwt.hpp"
#include "infra/crypto/random.hpp"
#include "tests/support/fixed_port.hpp"

namespace certctl::testing {
namespace {

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void reply(httplib::Response& res, int status, const events::json_object& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void rpc_error(httplib::Response& res, int status, const std::string& code,
               const std::string& message) {
  events::json_object inner;
  inner.set("code", status).set("message", message).set("status", code);
  events::json_object e;
  e.set_raw("error", inner.dump());
  reply(res, status, e);
}

std::string url_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> form_fields(const std::string& body) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < body.size()) {
    size_t amp = body.find('&', start);
    if (amp == std::string::npos) amp = body.size();
    const std::string pair = body.substr(start, amp - start);
    const size_t eq = pair.find('=');
    if (eq != std::string::npos)
      out[url_decode(pair.substr(0, eq))] = url_decode(pair.substr(eq + 1));
    start = amp + 1;
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

struct mock_googlecas::server {
  server(const mock_ca_material& ca, int port)
      : https(ca.serving_cert_path.c_str(), ca.serving_key_path.c_str()) {
    https.set_tcp_nodelay(true);
    if (!bind_fixed_port(https, port))
      throw std::runtime_error("mock Google CAS: cannot bind 127.0.0.1:" + std::to_string(port));
  }
  void start() {
    thread = std::thread([this] { https.listen_after_bind(); });
    for (int i = 0; i < 5000 && !https.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~server() {
    https.stop();
    if (thread.joinable()) thread.join();
  }
  httplib::SSLServer https;
  std::thread thread;
};

mock_googlecas::mock_googlecas(const mock_ca_material& ca, int port)
    : state_(std::make_shared<mock_googlecas_state>()),
      server_(std::make_unique<server>(ca, port)),
      port_(port) {
  auto st = state_;
  const std::string token_uri = token_url();

  server_->https.Post(
      "/token", [st, token_uri](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard<std::mutex> lock(st->mutex);
        const auto f = form_fields(req.body);
        auto refuse = [&](const std::string& why) {
          st->last_error = "token: " + why;
          events::json_object e;
          e.set("error", "invalid_grant").set("error_description", why);
          reply(res, 400, e);
        };
        if (f.count("grant_type") == 0 ||
            f.at("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer")
          return refuse("grant_type");
        auto key = crypto::parse_jwk(st->public_jwk);
        if (!key) return refuse("the mock knows no service-account key");
        auto jws = crypto::verify_compact_jws(f.count("assertion") ? f.at("assertion") : "", *key);
        if (!jws) return refuse("Invalid JWT Signature.");
        auto header = events::json_object::parse(jws->header_json);
        auto claims = events::json_object::parse(jws->payload_json);
        if (!header || !claims) return refuse("malformed JWT");
        if (header->str("alg") != "RS256") return refuse("alg must be RS256");
        if (header->str("kid") != st->private_key_id) return refuse("kid");
        if (claims->str("iss") != st->client_email) return refuse("iss");
        if (claims->str("aud") != token_uri) return refuse("aud");
        if (claims->str("scope").find("https://www.googleapis.com/auth/cloud-platform") ==
            std::string::npos)
          return refuse("scope");
        const auto iat = claims->int64("iat"), exp = claims->int64("exp");
        if (std::llabs(iat - now_s()) > 300 || exp <= iat || exp - iat > 3600)
          return refuse("Invalid JWT: Token must be a short-lived token (60 minutes)");
        const std::string token = "ya29." + crypto::random_hex(24);
        st->tokens[token] = now_s() + st->token_lifetime;
        ++st->token_exchanges;
        events::json_object out;
        out.set("access_token", token)
            .set("expires_in", st->token_lifetime)
            .set("token_type", "Bearer");
        reply(res, 200, out);
      });

  // Every API call: the delay, the bearer token, the injected failures. True when it may go on.
  auto admit = [st](const httplib::Request& req, httplib::Response& res) {
    std::chrono::milliseconds delay;
    {
      std::lock_guard<std::mutex> lock(st->mutex);
      delay = st->delay;
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    std::lock_guard<std::mutex> lock(st->mutex);
    if (st->revoke_all_tokens) {
      st->tokens.clear();
      st->revoke_all_tokens = false;
    }
    const std::string auth = req.get_header_value("Authorization");
    const std::string token = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "";
    auto it = st->tokens.find(token);
    if (it == st->tokens.end() || it->second <= now_s()) {
      st->last_error = "bearer token";
      rpc_error(res, 401, "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token.");
      return false;
    }
    if (st->deny_permission) {
      rpc_error(res, 403, "PERMISSION_DENIED",
                "Permission 'privateca.certificates.create' denied on resource");
      return false;
    }
    if (st->throttle_next > 0) {
      --st->throttle_next;
      res.set_header("Retry-After", st->retry_after);
      rpc_error(res, 429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'requests'");
      return false;
    }
    return true;
  };
  auto known_pool = [st](const httplib::Request& req, httplib::Response& res) {
    if (req.matches[1] == st->project && req.matches[2] == st->location &&
        req.matches[3] == st->pool)
      return true;
    rpc_error(res, 404, "NOT_FOUND",
              "Resource 'projects/" + std::string(req.matches[1]) + "/locations/" +
                  std::string(req.matches[2]) + "/caPools/" + std::string(req.matches[3]) +
                  "' was not found");
    return false;
  };
  const std::string pool_re = R"(/v1/projects/([^/]+)/locations/([^/]+)/caPools/([^/:]+))";
  const auto ca_root = ca.root_pem;
  const auto material = ca;

  server_->https.Post(pool_re + "/certificates", [st, admit, known_pool, material](
                                                     const httplib::Request& req,
                                                     httplib::Response& res) {
    if (!admit(req, res)) return;
    std::lock_guard<std::mutex> lock(st->mutex);
    if (!known_pool(req, res)) return;
    ++st->create_calls;
    if (st->no_enabled_ca)
      return rpc_error(res, 400, "FAILED_PRECONDITION", "There are no enabled CAs in the CA Pool.");
    if (st->reject_csr)
      return rpc_error(res, 400, "INVALID_ARGUMENT",
                       "The CSR's key type is not allowed by the CA pool's issuance policy.");
    const std::string id = req.get_param_value("certificateId");
    const std::string request_id = req.get_param_value("requestId");
    if (!std::regex_match(id, std::regex("[a-zA-Z0-9_-]{1,63}")))
      return rpc_error(res, 400, "INVALID_ARGUMENT", "certificate_id is invalid");
    const std::string name = "projects/" + st->project + "/locations/" + st->location +
                             "/caPools/" + st->pool + "/certificates/" + id;
    auto body = events::json_object::parse(req.body);
    if (!body) return rpc_error(res, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    // A retried create with the same requestId answers the first result.
    if (auto prior = st->request_ids.find(request_id);
        !request_id.empty() && prior != st->request_ids.end()) {
      for (const auto& c : st->certificates)
        if (c.name == prior->second) {
          events::json_object out;
          out.set("name", c.name).set("pemCertificate", c.pem);
          out.set("pemCertificateChain", std::vector<std::string>{material.root_pem});
          return reply(res, 200, out);
        }
    }
    const std::string lifetime = body->str("lifetime");
    std::smatch m;
    if (!std::regex_match(lifetime, m, std::regex("([0-9]+)s")))
      return rpc_error(res, 400, "INVALID_ARGUMENT", "lifetime must be a duration in seconds");
    auto csr = crypto::parse_csr(body->str("pemCsr"));
    if (!csr) return rpc_error(res, 400, "INVALID_ARGUMENT", "pem_csr: failed to parse the CSR");
    const std::string pem = mock_sign(material, body->str("pemCsr"), std::stoll(m[1]));
    auto info = crypto::parse_certificate(pem);
    mock_cas_certificate c{name, pem, lower(info->serial_hex), "", lifetime};
    st->certificates.push_back(c);
    if (!request_id.empty()) st->request_ids[request_id] = name;
    events::json_object out;
    out.set("name", name).set("pemCertificate", pem).set("lifetime", lifetime);
    out.set("pemCertificateChain", std::vector<std::string>{material.root_pem});
    reply(res, 200, out);
  });

  server_->https.Get(pool_re + "/certificates", [st, admit, known_pool](const httplib::Request& req,
                                                                        httplib::Response& res) {
    if (!admit(req, res)) return;
    std::lock_guard<std::mutex> lock(st->mutex);
    if (!known_pool(req, res)) return;
    const std::string filter = req.get_param_value("filter");
    std::smatch m;
    if (!std::regex_match(
            filter, m,
            std::regex(
                R"re(certificate_description\.subject_description\.hex_serial_number="([0-9a-f]+)")re")))
      return rpc_error(res, 400, "INVALID_ARGUMENT", "unsupported filter");
    std::vector<std::string> found;
    for (const auto& c : st->certificates)
      if (c.serial_hex_lower == m[1].str()) {
        events::json_object o;
        o.set("name", c.name).set("pemCertificate", c.pem);
        if (!c.revocation_reason.empty()) {
          events::json_object r;
          r.set("revocationState", c.revocation_reason);
          o.set_raw("revocationDetails", r.dump());
        }
        found.push_back(o.dump());
      }
    std::string joined;
    for (const auto& f : found) joined += (joined.empty() ? "" : ",") + f;
    events::json_object out;
    if (!found.empty()) out.set_raw("certificates", "[" + joined + "]");
    reply(res, 200, out);
  });

  server_->https.Post(pool_re + R"(/certificates/([^/:]+):revoke)",
                      [st, admit, known_pool](const httplib::Request& req, httplib::Response& res) {
                        if (!admit(req, res)) return;
                        std::lock_guard<std::mutex> lock(st->mutex);
                        if (!known_pool(req, res)) return;
                        auto body = events::json_object::parse(req.body);
                        static const std::regex reasons(
                            "REVOCATION_REASON_UNSPECIFIED|KEY_COMPROMISE|CERTIFICATE_AUTHORITY_"
                            "COMPROMISE|AFFILIATION_CHANGED|SUPERSEDED|CESSATION_OF_OPERATION|"
                            "CERTIFICATE_HOLD|PRIVILEGE_WITHDRAWN|ATTRIBUTE_AUTHORITY_COMPROMISE");
                        if (!body || !std::regex_match(body->str("reason"), reasons))
                          return rpc_error(res, 400, "INVALID_ARGUMENT", "reason");
                        for (auto& c : st->certificates)
                          if (c.name.substr(c.name.rfind('/') + 1) == req.matches[4].str()) {
                            if (!c.revocation_reason.empty())
                              return rpc_error(res, 400, "FAILED_PRECONDITION",
                                               "Certificate is already revoked.");
                            c.revocation_reason = body->str("reason");
                            events::json_object out;
                            out.set("name", c.name).set("pemCertificate", c.pem);
                            return reply(res, 200, out);
                          }
                        rpc_error(res, 404, "NOT_FOUND", "Certificate not found");
                      });

  server_->https.Post(
      pool_re + ":fetchCaCerts",
      [st, admit, known_pool, ca_root](const httplib::Request& req, httplib::Response& res) {
        if (!admit(req, res)) return;
        std::lock_guard<std::mutex> lock(st->mutex);
        if (!known_pool(req, res)) return;
        events::json_object chain;
        chain.set("certificates", std::vector<std::string>{ca_root});
        events::json_object out;
        out.set_raw("caCerts", "[" + chain.dump() + "]");
        reply(res, 200, out);
      });
  server_->start();
}

mock_googlecas::~mock_googlecas() = default;

std::string mock_googlecas::url() const {
  return "https://127.0.0.1:" + std::to_string(port_);
}

std::string mock_googlecas::service_account_json(const std::string& key_pem) {
  auto pub = crypto::jwk_of_private_key(key_pem);
  if (!pub) throw std::runtime_error("service account key: " + pub.error().message);
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->public_jwk = pub->canonical_json;
  events::json_object o;
  o.set("type", "service_account")
      .set("project_id", state_->project)
      .set("private_key_id", state_->private_key_id)
      .set("private_key", key_pem)
      .set("client_email", state_->client_email)
      .set("client_id", "100000000000000000001")
      .set("token_uri", token_url());
  return o.dump();
}

}  // namespace certctl::testing
