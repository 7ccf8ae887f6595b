#include "tests/integration/acme_client.hpp"

#include <boost/test/unit_test.hpp>

#include "infra/crypto/csr.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/jws.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::integration {

std::string acme_response::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

rapidjson::Document acme_response::json() const {
  rapidjson::Document d;
  d.Parse(body.c_str());
  BOOST_REQUIRE_MESSAGE(!d.HasParseError(), "not JSON: " + describe());
  return d;
}

std::string acme_response::problem_type() const {
  rapidjson::Document d;
  d.Parse(body.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("type") || !d["type"].IsString())
    return "";
  const std::string t = d["type"].GetString();
  const std::string prefix = "urn:ietf:params:acme:error:";
  return t.rfind(prefix, 0) == 0 ? t.substr(prefix.size()) : t;
}

std::string acme_response::describe() const {
  return "status " + std::to_string(status) + ": " + body.substr(0, 400);
}

acme_client::acme_client(const server_process& server, crypto::key_type key,
                         const std::string& directory_path)
    : http_(server.client("")), base_("https://127.0.0.1:" + std::to_string(server.port())) {
  auto k = crypto::generate_key(key);
  BOOST_REQUIRE(k.ok());
  key_pem_ = k->pem;
  auto r = http_->Get(directory_path.c_str());
  BOOST_REQUIRE_MESSAGE(r && r->status == 200, "directory not available");
  directory_.Parse(r->body.c_str());
  BOOST_REQUIRE(!directory_.HasParseError() && directory_.IsObject());
}

std::string acme_client::directory_url(const char* name) const {
  BOOST_REQUIRE_MESSAGE(directory_.HasMember(name), std::string("directory lacks ") + name);
  return directory_[name].GetString();
}

std::string acme_client::path_of(const std::string& url) const {
  BOOST_REQUIRE_MESSAGE(url.rfind(base_, 0) == 0, "URL " + url + " is not under " + base_);
  return url.substr(base_.size());
}

std::string acme_client::fresh_nonce() {
  auto r = http_->Head(path_of(directory_url("newNonce")).c_str());
  BOOST_REQUIRE(r);
  BOOST_REQUIRE_EQUAL(r->status, 200);
  const std::string n = r->get_header_value("Replay-Nonce");
  BOOST_REQUIRE(!n.empty());
  return n;
}

std::string acme_client::sign(const std::string& url, const std::string& payload, bool use_jwk,
                              const std::string& nonce) {
  std::string n = nonce;
  if (n.empty()) {
    n = nonce_.empty() ? fresh_nonce() : nonce_;
    nonce_.clear();
  }
  auto body = crypto::sign_jws(key_pem_, n, url, use_jwk || kid_.empty() ? "" : kid_, payload);
  BOOST_REQUIRE(body.ok());
  return *body;
}

acme_response acme_client::send(const std::string& url, const std::string& body,
                                const std::string& content_type) {
  auto r = http_->Post(path_of(url).c_str(), body, content_type.c_str());
  BOOST_REQUIRE_MESSAGE(r, "transport error posting to " + url);
  acme_response out{r->status, r->body, r->headers};
  nonce_ = r->get_header_value("Replay-Nonce");
  return out;
}

acme_response acme_client::post(const std::string& url, const std::string& payload, bool use_jwk) {
  return send(url, sign(url, payload, use_jwk));
}

acme_response acme_client::get(const std::string& url) {
  auto r = http_->Get(path_of(url).c_str());
  BOOST_REQUIRE(r);
  return {r->status, r->body, r->headers};
}

acme_response acme_client::register_account() {
  auto r = post(directory_url("newAccount"), R"({"termsOfServiceAgreed":true})", true);
  if (r.status == 201 || r.status == 200) kid_ = r.header("Location");
  return r;
}

acme_csr make_acme_csr(const std::vector<std::string>& names, const std::string& key_pem) {
  acme_csr out;
  out.key_pem = key_pem;
  if (out.key_pem.empty()) {
    auto k = crypto::generate_key(crypto::key_type::ecdsa_p256);
    BOOST_REQUIRE(k.ok());
    out.key_pem = k->pem;
  }
  crypto::csr_request req;
  req.private_key_pem = out.key_pem;
  req.common_name = names.front();
  req.sans.dns = names;
  auto pem = crypto::build_csr(req);
  BOOST_REQUIRE(pem.ok());
  // PEM body -> DER -> base64url, without OpenSSL in the test.
  std::string b64;
  for (const auto& line : {*pem}) {
    size_t start = line.find('\n') + 1, end = line.find("-----END");
    for (size_t i = start; i < end; ++i)
      if (line[i] != '\n') b64 += line[i];
  }
  std::string std_to_url = b64;
  for (auto& ch : std_to_url) ch = ch == '+' ? '-' : ch == '/' ? '_' : ch;
  while (!std_to_url.empty() && std_to_url.back() == '=') std_to_url.pop_back();
  out.der_b64url = std_to_url;
  return out;
}

std::string eab_for(const acme_client& c, const std::string& kid, const std::string& hmac_key,
                    const std::string& url) {
  auto jwk = crypto::jwk_of_private_key(c.key_pem());
  BOOST_REQUIRE(jwk.ok());
  const std::string prot =
      crypto::base64url_encode(R"({"alg":"HS256","kid":")" + kid + R"(","url":")" + url + "\"}");
  const std::string payload = crypto::base64url_encode(jwk->canonical_json);
  const auto key = crypto::base64url_decode(hmac_key);
  BOOST_REQUIRE(key.has_value());
  const auto mac = crypto::hmac_sha256(*key, prot + "." + payload);
  const std::string sig = crypto::base64url_encode(
      std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  return R"({"protected":")" + prot + R"(","payload":")" + payload + R"(","signature":")" + sig +
         "\"}";
}

}  // namespace certctl::integration
