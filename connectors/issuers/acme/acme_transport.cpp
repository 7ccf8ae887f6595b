#include "connectors/issuers/acme/acme_transport.hpp"

#include <algorithm>
#include <cctype>

namespace certctl::connectors::acme {
namespace {

constexpr int max_nonce_retries = 5;
constexpr size_t max_pooled_nonces = 16;

issuer_error unavailable(std::string m) {
  return {issuer_errc::unavailable, std::move(m)};
}

}  // namespace

certctl::result<https_url, std::string> parse_https_url(const std::string& url) {
  const std::string scheme = "https://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    return std::string("'" + url + "' is not an https:// URL (RFC 8555 §6.1 requires HTTPS)");
  const std::string rest = url.substr(scheme.size());
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  https_url out;
  out.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.empty() || authority.find('@') != std::string::npos)
    return std::string("'" + url + "' has no usable host");
  size_t colon = authority.rfind(':');
  const size_t bracket = authority.rfind(']');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    const std::string port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }))
      return std::string("'" + url + "' has a bad port");
    out.port = std::stoi(port);
    if (out.port < 1 || out.port > 65535) return std::string("'" + url + "' has a bad port");
    authority.resize(colon);
  }
  out.host = authority;
  return out;
}

std::string acme_response::header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return {};
}

events::json_object acme_response::json() const {
  return events::json_object::parse(body).value_or(events::json_object{});
}

std::int64_t acme_response::retry_after_seconds() const {
  const std::string v = header("retry-after");
  if (v.empty() || v.size() > 9 ||
      !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); }))
    return 0;  // an HTTP-date is rare from ACME CAs; the caller's own backoff applies then
  return std::stoll(v);
}

issuer_error problem_error(const std::string& what, const acme_response& r) {
  const auto p = r.json();
  std::string type = p.str("type");
  const std::string prefix = "urn:ietf:params:acme:error:";
  if (type.compare(0, prefix.size(), prefix) == 0) type = type.substr(prefix.size());
  std::string text = what + ": HTTP " + std::to_string(r.status);
  if (!type.empty()) text += " " + type;
  if (p.has("detail")) text += ": " + p.str("detail").substr(0, 400);
  // Subproblems (RFC 8555 §6.7.1) name the identifier that failed.
  for (const auto& sub : p.object_array("subproblems")) {
    text += "; " + sub.str("detail").substr(0, 200);
    if (text.size() > 1200) break;
  }
  const std::int64_t retry = r.retry_after_seconds();
  if (r.status == 429 || type == "rateLimited") {
    if (retry > 0) text += " (retry after " + std::to_string(retry) + " s)";
    return unavailable(text);
  }
  // badNonce after our retries: the next attempt gets fresh nonces, so it is transient.
  if (r.status >= 500 || type == "serverInternal" || type == "badNonce") return unavailable(text);
  return {issuer_errc::invalid_request, text};
}

acme_transport::acme_transport(settings s) : settings_(std::move(s)) {}

certctl::result<acme_response, issuer_error> acme_transport::post(const std::string& url,
                                                                  const std::string& content_type,
                                                                  const std::string& body) const {
  auto u = parse_https_url(url);
  if (!u) return issuer_error{issuer_errc::invalid_request, u.error()};
  net::http_get_request req;
  req.host = u->host;
  req.port = u->port;
  req.path = u->path;
  req.method = content_type.empty() ? "GET" : "POST";
  req.body = body;
  if (!content_type.empty()) req.headers.push_back({"Content-Type", content_type});
  auto r = crypto::https_get(*settings_.guard, req, settings_.limits, settings_.tls);
  if (!r) {
    // The detail (address, TLS reason) is the operator's own CA endpoint, not a client's
    // input, so it is shown: "connection refused" is what tells them the CA is down.
    return unavailable(std::string("ACME CA ") + u->host + ":" + std::to_string(u->port) +
                       " unreachable (" + net::to_string(r.error().code) +
                       "): " + r.error().detail);
  }
  acme_response out;
  out.status = r->status;
  out.body = std::move(r->body);
  out.headers = std::move(r->headers);
  return out;
}

certctl::result<acme_response, issuer_error> acme_transport::get(const std::string& url) const {
  return post(url, "", "");
}

certctl::result<acme_directory, issuer_error> acme_transport::directory(const std::string& url) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (directory_) return *directory_;
  }
  auto r = get(url);
  if (!r) return r.error();
  if (r->status != 200) return problem_error("ACME directory " + url, *r);
  const auto d = r->json();
  acme_directory dir;
  dir.new_nonce = d.str("newNonce");
  dir.new_account = d.str("newAccount");
  dir.new_order = d.str("newOrder");
  dir.revoke_cert = d.str("revokeCert");
  dir.renewal_info = d.str("renewalInfo");
  if (d.is_object("meta")) {
    auto meta = events::json_object::parse(d.raw("meta")).value_or(events::json_object{});
    dir.eab_required = meta.boolean("externalAccountRequired");
    if (meta.is_object("profiles")) {
      auto profiles =
          events::json_object::parse(meta.raw("profiles")).value_or(events::json_object{});
      dir.profiles = profiles.keys();
    }
  }
  if (dir.new_nonce.empty() || dir.new_account.empty() || dir.new_order.empty())
    return issuer_error{issuer_errc::invalid_request,
                        "ACME directory " + url + " lacks newNonce, newAccount or newOrder"};
  std::lock_guard<std::mutex> lock(mu_);
  directory_ = dir;
  return dir;
}

certctl::result<std::string, issuer_error> acme_transport::take_nonce() {
  std::string new_nonce_url;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!nonces_.empty()) {
      std::string n = std::move(nonces_.back());
      nonces_.pop_back();
      return n;
    }
    if (!directory_)
      return issuer_error{issuer_errc::internal, "ACME nonce wanted before the directory"};
    new_nonce_url = directory_->new_nonce;
  }
  auto r = get(new_nonce_url);  // RFC 8555 §7.2: GET answers 204 with a Replay-Nonce
  if (!r) return r.error();
  const std::string n = r->header("replay-nonce");
  if (n.empty()) return problem_error("ACME newNonce gave no Replay-Nonce", *r);
  return n;
}

void acme_transport::keep_nonce(const acme_response& r) {
  const std::string n = r.header("replay-nonce");
  if (n.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (nonces_.size() >= max_pooled_nonces) nonces_.erase(nonces_.begin());
  nonces_.push_back(n);
}

certctl::result<acme_response, issuer_error> acme_transport::signed_post(
    const crypto::jws_signer& signer, const std::string& kid, const std::string& url,
    const std::string& payload) {
  for (int attempt = 0;; ++attempt) {
    auto nonce = take_nonce();
    if (!nonce) return nonce.error();
    auto jws = signer.sign(*nonce, url, kid, payload);
    if (!jws) return issuer_error{issuer_errc::internal, "signing the ACME request failed"};
    auto r = post(url, "application/jose+json", *jws);
    if (!r) return r.error();
    keep_nonce(*r);
    if (r->status >= 400 && attempt + 1 < max_nonce_retries &&
        r->json().str("type") == "urn:ietf:params:acme:error:badNonce")
      continue;  // §6.5: the error response carried a fresh nonce, now in the pool
    return r;
  }
}

}  // namespace certctl::connectors::acme
