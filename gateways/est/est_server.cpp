// Routes, authentication, trust anchors, rate limits and the admin view of the EST server.
#include "gateways/est/est_server.hpp"

#include <chrono>
#include <iostream>

#include "actors/workflows/profile_policy.hpp"
#include "events/time.hpp"
#include "gateways/est/est_impl.hpp"
#include "gateways/est/est_wire.hpp"
#include "gateways/http/constant_time.hpp"
#include "gateways/http/json.hpp"
#include "infra/crypto/pkcs7_certs.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::gateways::est {
namespace {

constexpr std::int64_t day_seconds = 24 * 3600;
/// Rate-limit keys kept at most; beyond it, expired keys are dropped first.
constexpr std::size_t max_rate_keys = 100000;

const char* const counter_names[counter_count] = {
    "success_simpleenroll", "success_simplereenroll", "success_serverkeygen",
    "auth_failed_basic",    "auth_failed_mtls",       "auth_failed_channel_binding",
    "csr_invalid",          "csr_policy_violation",   "csr_signature_mismatch",
    "rate_limited",         "issuer_error",           "internal_error"};

std::string base_path(bool mtls, const std::string& path_id) {
  return std::string(mtls ? "/.well-known/est-mtls" : "/.well-known/est") +
         (path_id.empty() ? "" : "/" + path_id);
}

std::vector<crypto::bytes> chain_of(const http::raw_request& raw) {
  std::vector<crypto::bytes> out;
  for (const auto& der : raw.peer_certificates) out.emplace_back(der.begin(), der.end());
  return out;
}

crypto::crypto_result<done> verify_with(const std::shared_ptr<const crypto::trust_bundle>& trust,
                                        const std::vector<crypto::bytes>& chain, std::int64_t now) {
  if (!trust) return crypto::crypto_error{"no trust anchor is loaded for this profile"};
  return trust->verify_client(chain, now);
}

}  // namespace

const char* to_string(counter c) {
  return counter_names[static_cast<std::size_t>(c)];
}

std::int64_t est_server::impl::now() const {
  if (deps.now) return deps.now();
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void est_server::impl::log(const std::string& line) const {
  if (deps.log)
    deps.log(line);
  else
    std::cerr << line << std::endl;
}

http::response est_server::impl::render(const est_error& e, profile_state& p,
                                        const http::request_context& c) {
  if (e.counted) p.count(*e.counted);
  auto resp = http::error_response(e.status, e.message);
  if (e.status == 401 && e.counted == counter::auth_failed_basic)
    resp.with_header("WWW-Authenticate",
                     "Basic realm=\"certctl EST " +
                         (p.config.path_id.empty() ? std::string("root") : p.config.path_id) +
                         "\"");
  // RFC 7030 §4.2.3: 202 and 503 tell the client when to repeat the request.
  if (e.status == 202 || e.status == 503) resp.with_header("Retry-After", "10");
  if (e.status == 429) resp.with_header("Retry-After", "3600");
  if (e.status == 401 && deps.on_auth_failure) {
    http::auth_event ev;
    ev.principal = "est:" + (p.config.path_id.empty() ? std::string("root") : p.config.path_id);
    ev.remote_addr = c.remote_addr();
    ev.method = c.method();
    ev.path = c.path();
    ev.reason = c.header("Authorization") || !c.raw.peer_certificates.empty()
                    ? http::auth_failure::invalid_credentials
                    : http::auth_failure::missing_credentials;
    ev.request_id = c.request_id;
    deps.on_auth_failure(ev);
  }
  return resp;
}

http::response est_server::impl::cacerts(http::request_context& c, profile_state& p) {
  std::string why;
  auto chain = deps.ca_chain(p.config.issuer_id, why);
  if (!chain) {
    log("est " + p.config.path_id + ": cacerts: issuer " + p.config.issuer_id + ": " + why);
    return render(
        {500, "the profile's issuer has no CA certificate to distribute", counter::internal_error},
        p, c);
  }
  auto p7 = crypto::pkcs7_certs_only_pem(*chain);
  if (!p7) {
    log("est " + p.config.path_id + ": cacerts: " + p7.error().message);
    return render({500, "could not encode the CA certificates", counter::internal_error}, p, c);
  }
  http::response r;
  r.content_type = "application/pkcs7-mime";
  r.body = base64_body(*p7);
  r.with_header("Content-Transfer-Encoding", "base64");
  return r;
}

http::response est_server::impl::csrattrs(http::request_context& c, profile_state& p) {
  csr_attrs_request want;
  want.challenge_password = p.config.channel_binding_required;
  if (!p.config.profile_id.empty()) {
    auto profile = deps.profile(p.config.profile_id);
    if (!profile) {
      log("est " + p.config.path_id + ": profile " + p.config.profile_id + " does not exist");
      return render({500, "the EST profile names a certificate profile that does not exist",
                     counter::internal_error},
                    p, c);
    }
    std::string why;
    auto policy = actors::policy_from_profile(*profile, &why);
    if (!policy)
      return render(
          {500, "certificate profile " + p.config.profile_id + ": " + why, counter::internal_error},
          p, c);
    want.key_algorithms = policy->allowed_keys;
  }
  const auto der = encode_csr_attrs(want);
  if (der.empty()) {
    http::response none;
    none.status = 204;
    return none;
  }
  http::response r;
  r.content_type = "application/csrattrs";
  r.body = base64_body(der);
  r.with_header("Content-Transfer-Encoding", "base64");
  return r;
}

std::optional<est_error> est_server::impl::authenticate(est_request& r, operation op) {
  const auto& cfg = r.p.config;
  const std::string& pid = cfg.path_id;
  auto presented = chain_of(r.c.raw);
  if (r.mtls_route) {
    if (presented.empty())
      return est_error{401, "this route requires a TLS client certificate",
                       counter::auth_failed_mtls};
    auto trust = r.p.trust_bundle();
    auto ok = verify_with(trust, presented, now());
    if (!ok) {
      log("est " + pid + ": mTLS client from " + r.c.remote_addr() +
          " refused: " + ok.error().message);
      return est_error{401, "the TLS client certificate is not trusted for this profile",
                       counter::auth_failed_mtls};
    }
    r.principal = "est:" + (pid.empty() ? std::string("root") : pid) + ":mtls";
    r.client_chain = std::move(presented);
    return std::nullopt;
  }
  if (cfg.mtls_required() && !cfg.basic_required())
    return est_error{
        401, "this profile accepts enrollments only over mTLS at " + base_path(true, pid) + "/",
        counter::auth_failed_mtls};
  std::string how = "anonymous";
  if (cfg.basic_required()) {
    auto creds = basic_credentials(r.c.header("Authorization").value_or(""));
    // Digests first: the comparison then sees equal lengths whatever the password's length.
    const bool ok = creds && http::constant_time_equal(
                                 crypto::to_hex(crypto::sha256_of(creds->second)),
                                 crypto::to_hex(crypto::sha256_of(cfg.enrollment_password)));
    if (!ok)
      return est_error{401,
                       "HTTP Basic authentication with the profile's enrollment password "
                       "is required",
                       counter::auth_failed_basic};
    how = "basic";
  }
  r.principal = "est:" + (pid.empty() ? std::string("root") : pid) + ":" + how;
  // A client certificate on the standard route counts only once verified: against the
  // profile's client CAs, else against the CA that issues for this profile.
  if (!presented.empty()) {
    auto trust = r.p.trust_bundle();
    if (!trust) {
      std::string why;
      if (auto chain = deps.ca_chain(cfg.issuer_id, why)) {
        auto made = crypto::trust_bundle::from_pem(*chain, now());
        if (made) trust = *made;
      }
    }
    auto ok = verify_with(trust, presented, now());
    if (ok)
      r.client_chain = std::move(presented);
    else if (op == operation::simplereenroll)
      return est_error{401, "the TLS client certificate is not trusted for this profile",
                       counter::auth_failed_mtls};
  }
  return std::nullopt;
}

std::optional<est_error> est_server::impl::check_rate(profile_state& p, const std::string& cn,
                                                      const std::string& source) {
  const int limit = p.config.rate_limit_per_principal_24h;
  if (limit <= 0) return std::nullopt;
  const std::int64_t t = now();
  std::lock_guard<std::mutex> lock(p.mu);
  if (p.enrollments.size() >= max_rate_keys) {
    for (auto it = p.enrollments.begin(); it != p.enrollments.end();) {
      if (it->second.empty() || it->second.back() <= t - day_seconds)
        it = p.enrollments.erase(it);
      else
        ++it;
    }
    if (p.enrollments.size() >= max_rate_keys)
      return est_error{429, "too many distinct enrolling devices; try again later",
                       counter::rate_limited};
  }
  auto& times = p.enrollments[cn + "\n" + source];
  while (!times.empty() && times.front() <= t - day_seconds) times.pop_front();
  if (static_cast<int>(times.size()) >= limit)
    return est_error{429,
                     "enrollment limit reached for this common name and address (" +
                         std::to_string(limit) + " per 24 hours)",
                     counter::rate_limited};
  times.push_back(t);
  return std::nullopt;
}

http::response est_server::impl::enroll(http::request_context& c, profile_state& p, bool mtls_route,
                                        operation op) {
  est_request r{c, p, mtls_route, "", {}};
  if (op == operation::serverkeygen && !p.config.serverkeygen_enabled)
    return http::error_response(404, "server-side key generation is not enabled for this profile");
  if (c.body().size() > static_cast<std::size_t>(p.config.max_body_bytes))
    return render(
        {413, "the request body exceeds " + std::to_string(p.config.max_body_bytes) + " bytes",
         counter::csr_invalid},
        p, c);
  if (auto denied = authenticate(r, op)) return render(*denied, p, c);
  auto body = decode_csr_body(c.body(), static_cast<std::size_t>(p.config.max_body_bytes));
  if (!body.error.empty()) return render({400, body.error, counter::csr_invalid}, p, c);
  auto csr = crypto::parse_csr_der(body.der);
  if (!csr) {
    const bool signature = csr.error().message.find("signature") != std::string::npos;
    return render({400, "the CSR was refused: " + csr.error().message,
                   signature ? counter::csr_signature_mismatch : counter::csr_invalid},
                  p, c);
  }
  auto issued = issue(r, op, body.der, *csr);
  if (!issued) return render(issued.error(), p, c);
  return std::move(issued).value();
}

est_server::est_server(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
est_server::~est_server() = default;

certctl::result<std::unique_ptr<est_server>, std::string> est_server::create(
    est_options options, est_dependencies deps) {
  auto m = std::make_unique<impl>(impl{std::move(options), std::move(deps), {}});
  for (const auto& cfg : m->opt.profiles) {
    auto p = std::make_unique<profile_state>();
    p->config = cfg;
    if (cfg.mtls_enabled) {
      auto bundle = crypto::trust_bundle::from_file(cfg.mtls_trust_bundle_path, m->now());
      if (!bundle)
        return "EST profile '" + (cfg.path_id.empty() ? std::string("(root)") : cfg.name) +
               "': " + bundle.error().message;
      p->trust = *bundle;
      p->trust_loaded_at = m->now();
    }
    m->profiles.push_back(std::move(p));
  }
  return std::unique_ptr<est_server>(new est_server(std::move(m)));
}

void est_server::add_routes(http::router& r) {
  auto* m = impl_.get();
  for (auto& ptr : m->profiles) {
    profile_state* p = ptr.get();
    for (bool mtls : {false, true}) {
      if (mtls && !p->config.mtls_enabled) continue;
      const std::string base = base_path(mtls, p->config.path_id);
      r.add("GET", base + "/cacerts", http::role::none,
            [m, p](http::request_context& c) { return m->cacerts(c, *p); });
      r.add("GET", base + "/csrattrs", http::role::none,
            [m, p](http::request_context& c) { return m->csrattrs(c, *p); });
      for (auto [name, op] :
           {std::pair<const char*, operation>{"simpleenroll", operation::simpleenroll},
            {"simplereenroll", operation::simplereenroll},
            {"serverkeygen", operation::serverkeygen}}) {
        r.add(
            "POST", base + "/" + name, http::role::none,
            [m, p, mtls, op = op](http::request_context& c) { return m->enroll(c, *p, mtls, op); });
      }
    }
  }
}

reload_outcome est_server::reload_trust(const std::string& path_id) {
  for (auto& p : impl_->profiles) {
    if (p->config.path_id != path_id) continue;
    if (!p->config.mtls_enabled)
      return {reload_status::mtls_disabled, "mTLS is not enabled for this EST profile"};
    auto bundle = crypto::trust_bundle::from_file(p->config.mtls_trust_bundle_path, impl_->now());
    std::lock_guard<std::mutex> lock(p->mu);
    if (!bundle) {
      p->last_reload_error = bundle.error().message;
      return {reload_status::failed, bundle.error().message};
    }
    p->trust = *bundle;
    p->trust_loaded_at = impl_->now();
    p->last_reload_error.clear();
    return {reload_status::reloaded, ""};
  }
  return {reload_status::unknown_profile, "no EST profile has path id '" + path_id + "'"};
}

std::vector<std::string> est_server::reload_all_trust() {
  std::vector<std::string> failures;
  for (auto& p : impl_->profiles) {
    if (!p->config.mtls_enabled) continue;
    auto out = reload_trust(p->config.path_id);
    if (out.status != reload_status::reloaded)
      failures.push_back("EST profile '" + p->config.path_id + "': " + out.message +
                         " (the previous trust bundle stays in use)");
  }
  return failures;
}

bool est_server::wants_client_certificates() const {
  // simplereenroll authenticates with the certificate being renewed on every profile.
  return !impl_->profiles.empty();
}

std::string est_server::profiles_json() const {
  http::json_writer w;
  w.begin_object().key("profiles").begin_array();
  for (const auto& p : impl_->profiles) {
    const auto& cfg = p->config;
    w.begin_object()
        .field("path_id", cfg.path_id)
        .field("name", cfg.name)
        .field("issuer_id", cfg.issuer_id)
        .field("profile_id", cfg.profile_id)
        .field("mtls_enabled", cfg.mtls_enabled)
        .field("basic_auth_configured", !cfg.enrollment_password.empty())
        .field("channel_binding_required", cfg.channel_binding_required)
        .field("server_keygen_enabled", cfg.serverkeygen_enabled)
        .field("rate_limit_per_principal_24h",
               static_cast<std::int64_t>(cfg.rate_limit_per_principal_24h));
    w.key("allowed_auth_modes").begin_array();
    for (const auto& mode : cfg.allowed_auth_modes) w.string(mode);
    w.end_array();
    w.key("counters").begin_object();
    for (std::size_t i = 0; i < counter_count; ++i)
      w.field(counter_names[i], p->counters[i].load());
    w.end_object();
    if (cfg.mtls_enabled) {
      std::lock_guard<std::mutex> lock(p->mu);
      w.key("trust_anchor").begin_object().field("path", cfg.mtls_trust_bundle_path);
      if (p->trust) {
        w.field("certificates", static_cast<std::int64_t>(p->trust->size()))
            .field("earliest_expiry",
                   events::format_rfc3339(p->trust->earliest_not_after() * 1000000))
            .field("loaded_at", events::format_rfc3339(p->trust_loaded_at * 1000000));
        w.key("subjects").begin_array();
        for (const auto& s : p->trust->subjects()) w.string(s);
        w.end_array();
      }
      if (!p->last_reload_error.empty()) w.field("last_reload_error", p->last_reload_error);
      w.end_object();
    }
    w.end_object();
  }
  w.end_array()
      .field("profile_count", static_cast<std::int64_t>(impl_->profiles.size()))
      .field("generated_at", events::format_rfc3339(impl_->now() * 1000000))
      .end_object();
  return w.str();
}

}  // namespace certctl::gateways::est
