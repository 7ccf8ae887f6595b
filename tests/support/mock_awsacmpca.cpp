#include "tests/support/mock_awsacmpca.hpp"

#include <httplib.h>

#include <chrono>
#include <regex>
#include <stdexcept>
#include <thread>

#include "events/json.hpp"
#include "events/time.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/random.hpp"
#include "infra/crypto/sigv4.hpp"
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
  res.set_content(body.dump(), "application/x-amz-json-1.1");
}

void aws_error(httplib::Response& res, int status, const std::string& type,
               const std::string& message) {
  events::json_object e;
  e.set("__type", type).set("message", message);
  reply(res, status, e);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// Why the request's SigV4 signature is not acceptable ("" when it is), with the AWS error
/// type to answer in `type`.
std::string check_signature(const httplib::Request& req, const mock_awsacmpca_state& s,
                            std::string& type, std::string& key_id) {
  static const std::regex auth_re(
      R"(AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, )"
      R"(SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64}))");
  std::smatch m;
  const std::string auth = req.get_header_value("Authorization");
  type = "IncompleteSignatureException";
  if (!std::regex_match(auth, m, auth_re)) return "Authorization header malformed";
  key_id = m[1];
  const auto key = s.keys.find(key_id);
  type = "UnrecognizedClientException";
  if (key == s.keys.end()) return "The security token included in the request is invalid.";
  type = "InvalidSignatureException";
  if (m[3] != s.region) return "Credential should be scoped to a valid region.";
  if (m[4] != "acm-pca") return "Credential should be scoped to correct service: 'acm-pca'.";
  const std::string amz_date = req.get_header_value("X-Amz-Date");
  if (amz_date.size() != 16 || amz_date.substr(0, 8) != m[2].str())
    return "Date in Credential scope does not match YYYYMMDD from X-Amz-Date";
  auto when = events::parse_rfc3339(amz_date.substr(0, 4) + "-" + amz_date.substr(4, 2) + "-" +
                                    amz_date.substr(6, 2) + "T" + amz_date.substr(9, 2) + ":" +
                                    amz_date.substr(11, 2) + ":" + amz_date.substr(13, 2) + "Z");
  if (!when || std::llabs(*when / 1000000 - now_s()) > 300) return "Signature expired";
  const std::string signed_headers = m[5];
  for (const char* required : {"host", "x-amz-date", "x-amz-target"})
    if ((";" + signed_headers + ";").find(std::string(";") + required + ";") == std::string::npos)
      return std::string("SignedHeaders must include ") + required;
  const std::string& session = key->second.second;
  if (!session.empty()) {
    type = "UnrecognizedClientException";
    if (req.get_header_value("X-Amz-Security-Token") != session)
      return "The security token included in the request is invalid.";
    if ((";" + signed_headers + ";").find(";x-amz-security-token;") == std::string::npos)
      return "x-amz-security-token must be signed";
    type = "InvalidSignatureException";
  }
  crypto::sigv4_request r;
  r.method = req.method;
  r.path = req.path;
  r.body = req.body;
  size_t start = 0;
  while (start <= signed_headers.size()) {
    size_t semi = signed_headers.find(';', start);
    if (semi == std::string::npos) semi = signed_headers.size();
    const std::string name = signed_headers.substr(start, semi - start);
    if (!req.has_header(name.c_str())) return "signed header " + name + " is missing";
    r.headers.emplace_back(name, req.get_header_value(name.c_str()));
    start = semi + 1;
  }
  const auto expected =
      crypto::sigv4_sign(r, {amz_date, s.region, "acm-pca"}, {key_id, key->second.first});
  if (expected.signature != m[6].str())
    return "The request signature we calculated does not match the signature you provided.";
  type.clear();
  return {};
}

events::json_object certificate_body(const mock_pca_certificate& c, const std::string& root) {
  events::json_object out;
  out.set("Certificate", c.pem).set("CertificateChain", root);
  return out;
}

}  // namespace

struct mock_awsacmpca::server {
  server(const mock_ca_material& ca, int port)
      : https(ca.serving_cert_path.c_str(), ca.serving_key_path.c_str()) {
    https.set_tcp_nodelay(true);
    if (!bind_fixed_port(https, port))
      throw std::runtime_error("mock ACM PCA: cannot bind 127.0.0.1:" + std::to_string(port));
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

mock_awsacmpca::mock_awsacmpca(const mock_ca_material& ca, int port)
    : state_(std::make_shared<mock_awsacmpca_state>()),
      server_(std::make_unique<server>(ca, port)),
      port_(port) {
  auto st = state_;
  const auto material = ca;
  server_->https.Post("/", [st, material](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(st->mutex);
    if (req.get_header_value("Content-Type") != "application/x-amz-json-1.1")
      return aws_error(res, 400, "SerializationException", "wrong Content-Type");
    std::string type, key_id;
    if (auto why = check_signature(req, *st, type, key_id); !why.empty()) {
      st->last_error = type + ": " + why;
      return aws_error(res, 403, type, why);
    }
    st->access_keys_seen.push_back(key_id);
    if (st->throttle_next > 0) {
      --st->throttle_next;
      ++st->throttled;
      return aws_error(res, 400, "ThrottlingException", "Rate exceeded");
    }
    const std::string target = req.get_header_value("X-Amz-Target");
    if (st->deny_access)
      return aws_error(
          res, 400, "AccessDeniedException",
          "User is not authorized to perform: acm-pca:" + target.substr(target.find('.') + 1));
    auto body = events::json_object::parse(req.body);
    if (!body) return aws_error(res, 400, "SerializationException", "body is not JSON");
    if (body->str("CertificateAuthorityArn") != st->ca_arn)
      return aws_error(
          res, 400, "ResourceNotFoundException",
          "Could not find certificate authority " + body->str("CertificateAuthorityArn"));

    if (target == "ACMPrivateCA.IssueCertificate") {
      ++st->issue_calls;
      static const std::regex algorithms("SHA(256|384|512)WITH(RSA|ECDSA)");
      if (!std::regex_match(body->str("SigningAlgorithm"), algorithms))
        return aws_error(res, 400, "InvalidArgsException", "SigningAlgorithm");
      // The mock CA's key is ECDSA: an RSA algorithm is refused as AWS refuses a mismatch.
      if (body->str("SigningAlgorithm").find("ECDSA") == std::string::npos)
        return aws_error(res, 400, "InvalidArgsException",
                         "The signing algorithm does not match the CA's key algorithm");
      auto validity = events::json_object::parse(body->raw("Validity"));
      std::int64_t seconds = 0;
      if (validity && validity->str("Type") == "DAYS") seconds = validity->int64("Value") * 86400;
      if (validity && validity->str("Type") == "ABSOLUTE")
        seconds = validity->int64("Value") - now_s();
      if (seconds <= 0) return aws_error(res, 400, "InvalidArgsException", "Validity");
      const std::string token = body->str("IdempotencyToken");
      // The JSON protocol sends blobs as standard base64: map it to base64url to decode.
      std::string decoded;
      {
        std::string b = body->str("Csr");
        for (auto& ch : b) {
          if (ch == '+') ch = '-';
          if (ch == '/') ch = '_';
        }
        while (!b.empty() && b.back() == '=') b.pop_back();
        auto d = crypto::base64url_decode(b);
        if (d) decoded = *d;
      }
      if (st->malformed_csr || decoded.empty() || !crypto::parse_csr(decoded))
        return aws_error(res, 400, "MalformedCSRException",
                         "The certificate signing request is invalid.");
      mock_pca_certificate c;
      c.arn = st->ca_arn + "/certificate/" + crypto::random_hex(16);
      c.pem = mock_sign(material, decoded, seconds);
      c.serial_hex_lower = lower(crypto::parse_certificate(c.pem)->serial_hex);
      c.signing_algorithm = body->str("SigningAlgorithm");
      c.validity_json = validity->dump();
      c.template_arn = body->str("TemplateArn");
      c.polls_left = st->pending_polls;
      if (!token.empty()) st->idempotency_tokens.insert(token);
      st->certificates.push_back(c);
      events::json_object out;
      out.set("CertificateArn", c.arn);
      return reply(res, 200, out);
    }
    if (target == "ACMPrivateCA.GetCertificate") {
      ++st->get_calls;
      for (auto& c : st->certificates)
        if (c.arn == body->str("CertificateArn")) {
          if (st->fail_requests)
            return aws_error(res, 400, "RequestFailedException",
                             "The request to issue the certificate failed.");
          if (c.polls_left > 0) {
            --c.polls_left;
            return aws_error(res, 400, "RequestInProgressException",
                             "The request is still in progress.");
          }
          return reply(res, 200, certificate_body(c, material.root_pem));
        }
      return aws_error(res, 400, "ResourceNotFoundException", "Certificate not found");
    }
    if (target == "ACMPrivateCA.RevokeCertificate") {
      static const std::regex reasons(
          "UNSPECIFIED|KEY_COMPROMISE|CERTIFICATE_AUTHORITY_COMPROMISE|AFFILIATION_CHANGED|"
          "SUPERSEDED|CESSATION_OF_OPERATION|PRIVILEGE_WITHDRAWN|A_A_COMPROMISE");
      if (!std::regex_match(body->str("RevocationReason"), reasons))
        return aws_error(res, 400, "InvalidArgsException", "RevocationReason");
      std::string serial = lower(body->str("CertificateSerial"));
      serial.erase(std::remove(serial.begin(), serial.end(), ':'), serial.end());
      for (auto& c : st->certificates)
        if (c.serial_hex_lower == serial) {
          if (!c.revocation_reason.empty())
            return aws_error(res, 400, "RequestAlreadyProcessedException",
                             "The certificate is already revoked.");
          c.revocation_reason = body->str("RevocationReason");
          return reply(res, 200, events::json_object{});
        }
      return aws_error(res, 400, "ResourceNotFoundException", "Certificate not found");
    }
    if (target == "ACMPrivateCA.GetCertificateAuthorityCertificate") {
      events::json_object out;
      out.set("Certificate", material.root_pem);
      return reply(res, 200, out);
    }
    aws_error(res, 400, "UnknownOperationException", target);
  });
  server_->start();
}

mock_awsacmpca::~mock_awsacmpca() = default;

std::string mock_awsacmpca::url() const {
  return "https://127.0.0.1:" + std::to_string(port_);
}

// --- IMDSv2 ---------------------------------------------------------------------------------

struct mock_imds::server {
  explicit server(int port) {
    http.set_tcp_nodelay(true);
    if (!bind_fixed_port(http, port))
      throw std::runtime_error("mock IMDS: cannot bind 127.0.0.1:" + std::to_string(port));
  }
  void start() {
    thread = std::thread([this] { http.listen_after_bind(); });
    for (int i = 0; i < 5000 && !http.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~server() {
    http.stop();
    if (thread.joinable()) thread.join();
  }
  httplib::Server http;
  std::thread thread;
};

mock_imds::mock_imds(int port)
    : state_(std::make_shared<mock_imds_state>()),
      server_(std::make_unique<server>(port)),
      port_(port) {
  auto st = state_;
  server_->http.Put("/latest/api/token", [st](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(st->mutex);
    const std::string ttl = req.get_header_value("X-aws-ec2-metadata-token-ttl-seconds");
    if (ttl.empty() || !std::regex_match(ttl, std::regex("[0-9]{1,5}")) || std::stoi(ttl) < 1 ||
        std::stoi(ttl) > 21600) {
      res.status = 400;
      return;
    }
    ++st->token_puts;
    const std::string token = "AQAEA" + crypto::random_hex(20);
    st->session_tokens.insert(token);
    res.set_header("X-aws-ec2-metadata-token-ttl-seconds", ttl);
    res.set_content(token, "text/plain");
  });
  auto authorised = [st](const httplib::Request& req, httplib::Response& res) {
    if (st->session_tokens.count(req.get_header_value("X-aws-ec2-metadata-token"))) return true;
    ++st->refused;
    res.status = 401;  // IMDSv2 only: a GET without a session token is refused
    return false;
  };
  server_->http.Get("/latest/meta-data/iam/security-credentials/",
                    [st, authorised](const httplib::Request& req, httplib::Response& res) {
                      std::lock_guard<std::mutex> lock(st->mutex);
                      if (!authorised(req, res)) return;
                      res.set_content(st->role, "text/plain");
                    });
  server_->http.Get(R"(/latest/meta-data/iam/security-credentials/([^/]+))",
                    [st, authorised](const httplib::Request& req, httplib::Response& res) {
                      std::lock_guard<std::mutex> lock(st->mutex);
                      if (!authorised(req, res)) return;
                      if (req.matches[1] != st->role) {
                        res.status = 404;
                        return;
                      }
                      ++st->credential_gets;
                      events::json_object o;
                      o.set("Code", "Success")
                          .set("LastUpdated", events::format_rfc3339(now_s() * 1000000))
                          .set("Type", "AWS-HMAC")
                          .set("AccessKeyId", st->access_key_id)
                          .set("SecretAccessKey", st->secret)
                          .set("Token", st->token)
                          .set("Expiration",
                               events::format_rfc3339((now_s() + st->expires_in) * 1000000));
                      res.set_content(o.dump(), "text/plain");
                    });
  server_->start();
}

mock_imds::~mock_imds() = default;

std::string mock_imds::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

}  // namespace certctl::testing
