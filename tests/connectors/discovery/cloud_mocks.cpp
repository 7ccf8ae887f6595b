#include "tests/connectors/discovery/cloud_mocks.hpp"

#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "events/json.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/jwt.hpp"
#include "infra/crypto/random.hpp"
#include "infra/crypto/sigv4.hpp"
#include "tests/support/fixed_port.hpp"

namespace certctl::testing {

/// An HTTPS server on 127.0.0.1:port on its own thread.
class cloud_server {
 public:
  cloud_server(const mock_ca_material& ca, int port)
      : server(ca.serving_cert_path.c_str(), ca.serving_key_path.c_str()) {
    if (!testing::bind_fixed_port(server, port))
      throw std::runtime_error("cloud mock: cannot bind 127.0.0.1:" + std::to_string(port));
  }
  void start() {
    thread = std::thread([this] { server.listen_after_bind(); });
    for (int i = 0; i < 5000 && !server.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~cloud_server() {
    server.stop();
    if (thread.joinable()) thread.join();
  }
  httplib::SSLServer server;
  std::thread thread;
};

namespace {

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void reply(httplib::Response& res, int status, const events::json_object& body,
           const char* type = "application/json") {
  res.status = status;
  res.set_content(body.dump(), type);
}

std::string hex_token() {
  auto r = crypto::random_bytes(16);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (auto b : r) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

std::string url_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> form_fields(const std::string& body) {
  std::map<std::string, std::string> out;
  std::stringstream in(body);
  std::string pair;
  while (std::getline(in, pair, '&')) {
    const auto eq = pair.find('=');
    out[url_decode(pair.substr(0, eq))] =
        eq == std::string::npos ? "" : url_decode(pair.substr(eq + 1));
  }
  return out;
}

/// The bearer token of the request when it is one the mock issued; "" otherwise.
std::string bearer(const httplib::Request& req, const std::vector<std::string>& issued) {
  const std::string h = req.get_header_value("Authorization");
  if (h.rfind("Bearer ", 0) != 0) return "";
  const std::string t = h.substr(7);
  for (const auto& i : issued)
    if (i == t) return t;
  return "";
}

std::string b64(const std::string& raw) {
  return crypto::base64_encode(raw);
}

// --- AWS ----------------------------------------------------------------------------------

/// AWS's JSON 1.1 error body.
void aws_error(httplib::Response& res, int status, const std::string& type,
               const std::string& message) {
  events::json_object e;
  e.set("__type", type).set("message", message);
  reply(res, status, e, "application/x-amz-json-1.1");
}

/// Recomputes the request's SigV4 signature the way the service does; "" when it holds.
std::string check_sigv4(const httplib::Request& req, const mock_aws_state& s) {
  const std::string auth = req.get_header_value("Authorization");
  const std::string prefix = "AWS4-HMAC-SHA256 Credential=";
  if (auth.rfind(prefix, 0) != 0) return "missing or non-SigV4 Authorization";
  const auto signed_at = auth.find(", SignedHeaders=");
  const auto sig_at = auth.find(", Signature=");
  if (signed_at == std::string::npos || sig_at == std::string::npos)
    return "malformed Authorization";
  const std::string credential = auth.substr(prefix.size(), signed_at - prefix.size());
  const std::string signed_headers = auth.substr(signed_at + 16, sig_at - signed_at - 16);
  const std::string amz_date = req.get_header_value("X-Amz-Date");
  if (amz_date.size() != 16) return "missing X-Amz-Date";
  const std::string expected_scope = s.access_key_id + "/" + amz_date.substr(0, 8) + "/" +
                                     s.region + "/secretsmanager/aws4_request";
  if (credential != expected_scope) return "credential scope " + credential;
  std::tm tm{};
  strptime(amz_date.c_str(), "%Y%m%dT%H%M%SZ", &tm);
  if (std::llabs(static_cast<long long>(timegm(&tm)) - now_s()) > 300) return "stale X-Amz-Date";
  if (signed_headers.find("host") == std::string::npos ||
      signed_headers.find("x-amz-date") == std::string::npos ||
      signed_headers.find("x-amz-target") == std::string::npos)
    return "host, x-amz-date and x-amz-target must be signed";
  crypto::sigv4_request r;
  r.method = req.method;
  r.path = req.path;
  r.body = req.body;
  std::stringstream names(signed_headers);
  std::string name;
  while (std::getline(names, name, ';')) {
    if (!req.has_header(name.c_str())) return "signed header " + name + " not sent";
    r.headers.emplace_back(name, req.get_header_value(name.c_str()));
  }
  const auto expected = crypto::sigv4_sign(r, {amz_date, s.region, "secretsmanager"},
                                           {s.access_key_id, s.secret_access_key});
  if (auth != expected.authorization) return "signature mismatch";
  return "";
}

bool aws_matches(const mock_aws_secret& secret, const events::json_object& request) {
  for (const auto& f : request.object_array("Filters")) {
    const auto values = f.str_array("Values");
    const std::string key = f.str("Key");
    bool any = false;
    for (const auto& v : values) {
      if (key == "tag-key") any = any || secret.tags.count(v) > 0;
      if (key == "tag-value")
        for (const auto& [k, tv] : secret.tags) any = any || tv == v;
      if (key == "name") any = any || secret.name.rfind(v, 0) == 0;
    }
    if (!any) return false;
  }
  return true;
}

}  // namespace

mock_aws_sm::mock_aws_sm(const mock_ca_material& ca, int port)
    : state_(std::make_shared<mock_aws_state>()),
      server_(std::make_unique<cloud_server>(ca, port)),
      port_(port) {
  auto st = state_;
  server_->server.Post("/", [st](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(st->mutex);
    if (req.get_header_value("Content-Type") != "application/x-amz-json-1.1") {
      ++st->refused;
      st->last_error = "content type";
      return aws_error(res, 400, "SerializationException", "wrong content type");
    }
    if (auto why = check_sigv4(req, *st); !why.empty()) {
      ++st->refused;
      st->last_error = why;
      return aws_error(res, 403, "InvalidSignatureException", why);
    }
    auto body = events::json_object::parse(req.body);
    if (!body) return aws_error(res, 400, "SerializationException", "body is not JSON");
    const std::string target = req.get_header_value("X-Amz-Target");
    if (target == "secretsmanager.ListSecrets") {
      ++st->list_calls;
      std::vector<const mock_aws_secret*> matching;
      for (const auto& s : st->secrets)
        if (aws_matches(s, *body)) matching.push_back(&s);
      const size_t from = static_cast<size_t>(std::atoi(body->str("NextToken", "0").c_str()));
      std::string list = "[";
      size_t i = from;
      for (; i < matching.size() && i < from + static_cast<size_t>(st->page_size); ++i) {
        events::json_object entry;
        entry
            .set("ARN", "arn:aws:secretsmanager:" + st->region +
                            ":123456789012:secret:" + matching[i]->name + "-AbCdEf")
            .set("Name", matching[i]->name);
        std::string tags = "[";
        for (const auto& [k, v] : matching[i]->tags) {
          events::json_object t;
          t.set("Key", k).set("Value", v);
          tags += (tags.size() > 1 ? "," : "") + t.dump();
        }
        entry.set_raw("Tags", tags + "]");
        list += (list.size() > 1 ? "," : "") + entry.dump();
      }
      events::json_object out;
      out.set_raw("SecretList", list + "]");
      if (i < matching.size()) out.set("NextToken", std::to_string(i));
      return reply(res, 200, out, "application/x-amz-json-1.1");
    }
    if (target == "secretsmanager.GetSecretValue") {
      ++st->get_calls;
      const std::string id = body->str("SecretId");
      for (const auto& s : st->secrets) {
        const std::string arn =
            "arn:aws:secretsmanager:" + st->region + ":123456789012:secret:" + s.name + "-AbCdEf";
        if (id != s.name && id != arn) continue;
        events::json_object out;
        out.set("ARN", arn).set("Name", s.name).set("VersionId", "v1");
        if (!s.secret_binary.empty())
          out.set("SecretBinary", b64(s.secret_binary));
        else
          out.set("SecretString", s.secret_string);
        return reply(res, 200, out, "application/x-amz-json-1.1");
      }
      return aws_error(res, 400, "ResourceNotFoundException",
                       "Secrets Manager can't find the specified secret.");
    }
    return aws_error(res, 400, "UnknownOperationException", target);
  });
  server_->start();
}

mock_aws_sm::~mock_aws_sm() = default;
std::string mock_aws_sm::url() const {
  return "https://127.0.0.1:" + std::to_string(port_);
}

// --- Azure --------------------------------------------------------------------------------

mock_azure_kv::mock_azure_kv(const mock_ca_material& ca, int port)
    : state_(std::make_shared<mock_azure_state>()),
      server_(std::make_unique<cloud_server>(ca, port)),
      port_(port) {
  auto st = state_;
  const std::string base = url();
  auto azure_error = [](httplib::Response& res, int status, const std::string& code,
                        const std::string& message) {
    events::json_object inner;
    inner.set("code", code).set("message", message);
    events::json_object e;
    e.set_raw("error", inner.dump());
    reply(res, status, e);
  };
  server_->server.Post(
      R"(/([^/]+)/oauth2/v2\.0/token)", [st](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard<std::mutex> lock(st->mutex);
        ++st->token_calls;
        const auto f = form_fields(req.body);
        auto refuse = [&](const std::string& error, const std::string& why) {
          ++st->refused;
          st->last_error = why;
          events::json_object e;
          e.set("error", error).set("error_description", why);
          reply(res, 400, e);
        };
        if (req.get_header_value("Content-Type") != "application/x-www-form-urlencoded")
          return refuse("invalid_request", "token request must be form-encoded");
        if (req.matches[1] != st->tenant_id) return refuse("invalid_tenant", "unknown tenant");
        if (f.count("grant_type") == 0 || f.at("grant_type") != "client_credentials")
          return refuse("unsupported_grant_type", "grant_type");
        if (f.count("scope") == 0 || f.at("scope") != "https://vault.azure.net/.default")
          return refuse("invalid_scope", "scope");
        if (f.count("client_id") == 0 || f.at("client_id") != st->client_id ||
            f.count("client_secret") == 0 || f.at("client_secret") != st->client_secret)
          return refuse("invalid_client", "AADSTS7000215: Invalid client secret provided.");
        const std::string token = hex_token();
        st->tokens.push_back(token);
        events::json_object out;
        out.set("token_type", "Bearer")
            .set("expires_in", 3599)
            .set("ext_expires_in", 3599)
            .set("access_token", token);
        reply(res, 200, out);
      });
  auto authorised = [st, azure_error](const httplib::Request& req, httplib::Response& res) {
    if (bearer(req, st->tokens).empty()) {
      ++st->refused;
      st->last_error = "bearer token";
      res.set_header("WWW-Authenticate",
                     "Bearer authorization=\"https://login.microsoftonline.com/" + st->tenant_id +
                         "\", resource=\"https://vault.azure.net\"");
      azure_error(res, 401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.");
      return false;
    }
    if (req.get_param_value("api-version") != "7.4") {
      ++st->refused;
      st->last_error = "api-version";
      azure_error(res, 400, "BadParameter", "The specified version is not supported.");
      return false;
    }
    return true;
  };
  server_->server.Get("/certificates", [st, authorised, base](const httplib::Request& req,
                                                              httplib::Response& res) {
    std::lock_guard<std::mutex> lock(st->mutex);
    if (!authorised(req, res)) return;
    ++st->list_calls;
    const size_t from = static_cast<size_t>(std::atoi(req.get_param_value("$skiptoken").c_str()));
    const size_t page = 2;
    std::string value = "[";
    size_t i = 0;
    for (const auto& [name, der] : st->certificates) {
      if (i >= from && i < from + page) {
        events::json_object item;
        item.set("id", base + "/certificates/" + name).set_raw("attributes", "{\"enabled\":true}");
        value += (value.size() > 1 ? "," : "") + item.dump();
      }
      ++i;
    }
    events::json_object out;
    out.set_raw("value", value + "]");
    if (from + page < st->certificates.size())
      out.set("nextLink",
              (st->next_link_base.empty() ? base : st->next_link_base) +
                  "/certificates?api-version=7.4&$skiptoken=" + std::to_string(from + page));
    else
      out.set_null("nextLink");
    reply(res, 200, out);
  });
  server_->server.Get(
      R"(/certificates/([^/]+)/?)",
      [st, authorised, azure_error, base](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard<std::mutex> lock(st->mutex);
        if (!authorised(req, res)) return;
        ++st->get_calls;
        const std::string name = req.matches[1];
        auto it = st->certificates.find(name);
        if (it == st->certificates.end())
          return azure_error(
              res, 404, "CertificateNotFound",
              "A certificate with (name/id) " + name + " was not found in this key vault.");
        events::json_object out;
        out.set("id", base + "/certificates/" + name + "/3f1c2bd0a1e54c6e8d1f0e9a7b6c5d4e")
            .set("kid", base + "/keys/" + name + "/3f1c2bd0a1e54c6e8d1f0e9a7b6c5d4e")
            .set("cer", b64(it->second))
            .set_raw("attributes", "{\"enabled\":true}");
        reply(res, 200, out);
      });
  server_->start();
}

mock_azure_kv::~mock_azure_kv() = default;
std::string mock_azure_kv::url() const {
  return "https://127.0.0.1:" + std::to_string(port_);
}

// --- GCP ----------------------------------------------------------------------------------

mock_gcp_sm::mock_gcp_sm(const mock_ca_material& ca, int port)
    : state_(std::make_shared<mock_gcp_state>()),
      server_(std::make_unique<cloud_server>(ca, port)),
      port_(port) {
  auto st = state_;
  const std::string token_uri = url() + "/token";
  auto gcp_error = [](httplib::Response& res, int status, const std::string& s,
                      const std::string& message) {
    events::json_object inner;
    inner.set("code", status).set("message", message).set("status", s);
    events::json_object e;
    e.set_raw("error", inner.dump());
    reply(res, status, e);
  };
  server_->server.Post(
      "/token", [st, token_uri](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard<std::mutex> lock(st->mutex);
        ++st->token_calls;
        const auto f = form_fields(req.body);
        auto refuse = [&](const std::string& why) {
          ++st->refused;
          st->last_error = why;
          events::json_object e;
          e.set("error", "invalid_grant").set("error_description", why);
          reply(res, 400, e);
        };
        if (f.count("grant_type") == 0 ||
            f.at("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer")
          return refuse("grant_type");
        auto key = crypto::parse_jwk(st->public_jwk);
        if (!key) return refuse("mock has no key");
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
        const std::string token = "ya29." + hex_token();
        st->tokens.push_back(token);
        events::json_object out;
        out.set("access_token", token).set("expires_in", 3599).set("token_type", "Bearer");
        reply(res, 200, out);
      });
  auto authorised = [st, gcp_error](const httplib::Request& req, httplib::Response& res) {
    if (!bearer(req, st->tokens).empty()) return true;
    ++st->refused;
    st->last_error = "bearer token";
    gcp_error(res, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
    return false;
  };
  server_->server.Get(
      R"(/v1/projects/([^/]+)/secrets)",
      [st, authorised, gcp_error](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard<std::mutex> lock(st->mutex);
        if (!authorised(req, res)) return;
        if (req.matches[1] != st->project)
          return gcp_error(res, 403, "PERMISSION_DENIED", "project");
        ++st->list_calls;
        // filter=labels.KEY=VALUE (the subset of the list filter syntax the source sends).
        std::string fk, fv;
        const std::string filter = req.get_param_value("filter");
        if (!filter.empty()) {
          if (filter.rfind("labels.", 0) != 0 || filter.find('=') == std::string::npos)
            return gcp_error(res, 400, "INVALID_ARGUMENT", "filter");
          fk = filter.substr(7, filter.find('=') - 7);
          fv = filter.substr(filter.find('=') + 1);
        }
        std::vector<const mock_gcp_secret*> matching;
        for (const auto& s : st->secrets) {
          auto it = s.labels.find(fk);
          if (fk.empty() || (it != s.labels.end() && it->second == fv)) matching.push_back(&s);
        }
        const size_t from =
            static_cast<size_t>(std::atoi(req.get_param_value("pageToken").c_str()));
        const size_t page = 2;
        std::string list = "[";
        size_t i = from;
        for (; i < matching.size() && i < from + page; ++i) {
          events::json_object item;
          item.set("name", "projects/" + st->project + "/secrets/" + matching[i]->name)
              .set("labels", matching[i]->labels)
              .set("createTime", "2026-01-01T00:00:00Z");
          list += (list.size() > 1 ? "," : "") + item.dump();
        }
        events::json_object out;
        out.set_raw("secrets", list + "]");
        if (i < matching.size()) out.set("nextPageToken", std::to_string(i));
        out.set("totalSize", static_cast<std::int64_t>(matching.size()));
        reply(res, 200, out);
      });
  server_->server.Get(
      R"(/v1/projects/([^/]+)/secrets/([^/]+)/versions/latest:access)",
      [st, authorised, gcp_error](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard<std::mutex> lock(st->mutex);
        if (!authorised(req, res)) return;
        ++st->access_calls;
        for (const auto& s : st->secrets) {
          if (s.name != req.matches[2]) continue;
          events::json_object payload;
          payload.set("data", b64(s.data));
          events::json_object out;
          out.set("name", "projects/123456789/secrets/" + s.name + "/versions/1")
              .set_raw("payload", payload.dump());
          return reply(res, 200, out);
        }
        gcp_error(res, 404, "NOT_FOUND", "Secret not found");
      });
  server_->start();
}

mock_gcp_sm::~mock_gcp_sm() = default;
std::string mock_gcp_sm::url() const {
  return "https://127.0.0.1:" + std::to_string(port_);
}

}  // namespace certctl::testing
