#include "gateways/acme/acme_server.hpp"

#include "gateways/acme/acme_impl.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::gateways::acme {

std::string account_id_of(const crypto::jwk& key) {
  const auto raw = crypto::base64url_decode(key.thumbprint).value_or(key.thumbprint);
  return "acct-" + crypto::to_hex(reinterpret_cast<const std::uint8_t*>(raw.data()),
                                  std::min<size_t>(raw.size(), 16));
}

namespace {

/// Shared nonces when the cluster gave a secret and a record, else this node's memory.
nonce_store make_nonces(const acme_options& opt, const acme_dependencies& deps) {
  if (!opt.nonce_secret.empty() && deps.nonce_record)
    return nonce_store(opt.nonce_ttl, opt.nonce_secret, deps.nonce_record);
  return nonce_store(opt.nonce_ttl, opt.max_nonces);
}

}  // namespace

acme_server::impl::impl(acme_options o, acme_dependencies d)
    : opt(std::move(o)), deps(std::move(d)), nonces(make_nonces(opt, deps)) {
  // Always: a profile may switch to challenge mode whatever the server-wide default is.
  for (int i = 0; i < std::max(1, opt.validation_workers); ++i)
    validators.emplace_back([this] { validate_loop(); });
}

acme_server::impl::~impl() {
  {
    std::lock_guard<std::mutex> lock(validation_mu);
    stopping = true;
  }
  validation_cv.notify_all();
  for (auto& t : validators) t.join();
}

acme_server::acme_server(acme_options options, acme_dependencies deps)
    : impl_(std::make_unique<impl>(std::move(options), std::move(deps))) {}

acme_server::~acme_server() = default;

std::string acme_server::impl::url(const request& r, const std::string& tail) const {
  return opt.base_url + r.prefix + "/" + tail;
}

http::response acme_server::impl::json(std::string body, int status) {
  return http::json_response(std::move(body), status);
}

problem acme_server::impl::from_domain(const domain::domain_error& e) {
  switch (e.code) {
    case domain::domain_errc::invalid:
      return malformed(e.message);
    case domain::domain_errc::not_found:
      return not_found_problem(e.message);
    case domain::domain_errc::conflict:
      return {"malformed", 409, e.message};
    case domain::domain_errc::forbidden:
      return unauthorized(e.message);
    case domain::domain_errc::internal:
      return {"serverInternal", 500, e.message};
    case domain::domain_errc::unavailable:
      return {"serverInternal", 503, e.message};
  }
  return {"serverInternal", 500, e.message};
}

namespace {

domain::command make_command(const std::string& name, const std::string& id,
                             events::json_object body, const request& r,
                             const std::string& principal, const std::string& command_id) {
  domain::command cmd;
  cmd.name = name;
  cmd.entity_id = id;
  cmd.body = std::move(body);
  cmd.principal = principal;
  cmd.source_address = r.c.remote_addr();
  cmd.correlation_id = r.c.request_id;
  cmd.command_id = command_id;
  return cmd;
}

}  // namespace

actors::command_result acme_server::impl::exec(const std::string& kind, const std::string& name,
                                               const std::string& id, events::json_object body,
                                               const request& r, const std::string& principal,
                                               const std::string& command_id) {
  auto res =
      deps.runtime.execute(kind, make_command(name, id, std::move(body), r, principal, command_id));
  // Every account change goes through here: the cached view follows it, or is dropped when the
  // outcome is unknown (a timeout may still commit).
  if (kind == "acme_account" && opt.cache_accounts) {
    if (res)
      remember_account(id, res->stream_version, res->view);
    else
      forget_account(id);
  }
  return res;
}

actors::command_result acme_server::impl::read_account(const std::string& account_id) {
  if (opt.cache_accounts) {
    std::lock_guard<std::mutex> lock(account_mu);
    auto it = accounts.find(account_id);
    if (it != accounts.end() &&
        std::chrono::steady_clock::now() - it->second.read_at < opt.account_cache_ttl)
      return actors::command_outcome{it->second.view, 0, it->second.version, false};
  }
  auto res = deps.runtime.read("acme_account", account_id);
  if (res && opt.cache_accounts) remember_account(account_id, res->stream_version, res->view);
  return res;
}

void acme_server::impl::remember_account(const std::string& account_id, std::int64_t version,
                                         const events::json_object& view) {
  std::lock_guard<std::mutex> lock(account_mu);
  auto it = accounts.find(account_id);
  // A read that raced a newer command must not put the older view back.
  if (it != accounts.end() && it->second.version > version) return;
  if (it == accounts.end() && accounts.size() >= max_accounts) accounts.clear();
  accounts[account_id] = {version, std::chrono::steady_clock::now(), view};
}

void acme_server::impl::forget_account(const std::string& account_id) {
  std::lock_guard<std::mutex> lock(account_mu);
  accounts.erase(account_id);
}

std::vector<actors::command_result> acme_server::impl::exec_all(std::vector<batch_command> cmds,
                                                                const request& r,
                                                                const std::string& principal) {
  return begin_all(std::move(cmds), r, principal)->wait();
}

std::shared_ptr<command_batch> acme_server::impl::begin_all(std::vector<batch_command> cmds,
                                                            const request& r,
                                                            const std::string& principal) {
  auto b = std::make_shared<command_batch>();
  b->out.resize(cmds.size());
  b->left = cmds.size();
  for (size_t i = 0; i < cmds.size(); ++i) {
    auto& c = cmds[i];
    deps.runtime.submit(c.kind,
                        make_command(c.name, c.id, std::move(c.body), r, principal, c.command_id),
                        [b, i](actors::command_result res) {
                          {
                            std::lock_guard<std::mutex> lock(b->mu);
                            b->out[i] = std::move(res);
                            --b->left;
                          }
                          b->cv.notify_one();
                        });
  }
  return b;
}

std::vector<actors::command_result> command_batch::wait() {
  // No deadline of our own: the runtime answers every submitted command, at the latest with
  // `unavailable` once its command timeout passed.
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return left == 0; });
  std::vector<actors::command_result> results;
  results.reserve(out.size());
  for (auto& res : out) results.push_back(std::move(*res));
  return results;
}

void acme_server::impl::submit(const std::string& kind, const std::string& name,
                               const std::string& id, events::json_object body, const request& r,
                               const std::string& principal) {
  deps.runtime.submit(kind, make_command(name, id, std::move(body), r, principal, {}),
                      [](actors::command_result) {});
}

acme_result<events::json_object> acme_server::impl::get(const std::string& kind,
                                                        const std::string& id, const request& r) {
  auto res = deps.runtime.read(kind, id);
  if (!res) return from_domain(res.error());
  return res->view;
}

acme_result<rapidjson::Document> acme_server::impl::payload(const authenticated& a) const {
  auto doc = http::parse_json(a.jws.post_as_get ? std::string_view("{}") : a.jws.payload,
                              opt.max_body_bytes);
  if (!doc) return malformed("payload: " + doc.error().message);
  if (!doc->IsObject()) return malformed("payload is not a JSON object");
  return std::move(doc).value();
}

std::optional<problem> acme_server::impl::check_rate(const std::string& account_id) {
  if (opt.orders_per_hour <= 0) return std::nullopt;
  const auto now = std::chrono::steady_clock::now();
  const auto window = std::chrono::hours(1);
  std::lock_guard<std::mutex> lock(rate_mu);
  auto& q = recent_orders[account_id];
  while (!q.empty() && q.front() + window <= now) q.pop_front();
  if (q.size() >= static_cast<size_t>(opt.orders_per_hour)) {
    problem p{"rateLimited", 429,
              "too many new orders for this account: " + std::to_string(opt.orders_per_hour) +
                  " per hour"};
    const auto wait = std::chrono::duration_cast<std::chrono::seconds>(q.front() + window - now);
    p.retry_after_seconds = static_cast<int>(std::max<std::int64_t>(1, wait.count() + 1));
    return p;
  }
  q.push_back(now);
  return std::nullopt;
}

profile_settings acme_server::impl::settings(const request& r) const {
  profile_settings s{opt.auth_mode, opt.eab_required};
  std::optional<events::json_object> doc = r.profile;
  if (!doc && !r.profile_id.empty() && deps.profile) doc = deps.profile(r.profile_id);
  if (!doc) return s;
  // Values were checked when the profile was written (resource.cpp); an unknown mode there
  // would be a bug, so it falls back to the stricter one.
  if (doc->is_string("acme_auth_mode"))
    s.auth_mode =
        doc->str("acme_auth_mode") == "trust_authenticated" ? "trust_authenticated" : "challenge";
  if (doc->is_bool("acme_eab_required")) s.eab_required = doc->boolean("acme_eab_required");
  return s;
}

acme_result<std::shared_ptr<const crypto::jws_verifier>> acme_server::impl::verifier_of(
    const std::string& jwk_json) {
  {
    std::lock_guard<std::mutex> lock(verifier_mu);
    if (auto it = verifiers.find(jwk_json); it != verifiers.end()) return it->second;
  }
  auto key = crypto::parse_jwk(jwk_json);
  if (!key) return problem{"serverInternal", 500, "stored account key: " + key.error().message};
  auto verifier = crypto::jws_verifier::make(std::move(key).value());
  if (!verifier)
    return problem{"serverInternal", 500, "stored account key: " + verifier.error().message};
  std::lock_guard<std::mutex> lock(verifier_mu);
  if (verifiers.size() >= max_verifiers) verifiers.clear();  // rare: more live accounts than this
  verifiers.emplace(jwk_json, *verifier);
  return *verifier;
}

acme_result<authenticated> acme_server::impl::authenticate(const request& r, key_rule rule) {
  const auto ct = r.c.header("Content-Type").value_or("");
  if (ct.substr(0, ct.find(';')) != "application/jose+json")
    return malformed("Content-Type must be application/jose+json", 415);
  crypto::jws_limits limits;
  limits.max_body = opt.max_body_bytes;
  auto jws = crypto::parse_jws(r.c.body(), limits);
  if (!jws) return from_jws_error(jws.error());
  // RFC 8555 §6.4: the signed url binds the request to this resource, so a signed request
  // cannot be replayed against another endpoint.
  const std::string expected = opt.base_url + r.c.path();
  if (jws->header.url != expected)
    return unauthorized("JWS url '" + jws->header.url + "' does not match the request URL '" +
                        expected + "'");
  authenticated a;
  if (jws->header.key) {
    if (rule == key_rule::kid) return malformed("this request must identify its account by kid");
    a.key = *jws->header.key;
    if (auto ok = crypto::verify_jws(*jws, a.key); !ok) return from_jws_error(ok.error());
  } else {
    if (rule == key_rule::jwk) return malformed("this request must carry the account key as jwk");
    const std::string& kid = jws->header.kid;
    const auto at = kid.rfind("/account/");
    if (kid.rfind(opt.base_url + "/acme/", 0) != 0 || at == std::string::npos)
      return {problem{"accountDoesNotExist", 400, "kid '" + kid + "' is not an account URL"}};
    a.account_id = kid.substr(at + 9);
    auto account = read_account(a.account_id);
    if (!account) {
      if (account.error().code == domain::domain_errc::not_found)
        return {problem{"accountDoesNotExist", 400, "no account " + a.account_id}};
      return from_domain(account.error());
    }
    a.account = account->view;
    if (a.account.str("status") != "valid")
      return unauthorized("account " + a.account_id + " is " + a.account.str("status"));
    auto verifier = verifier_of(a.account.str("jwk"));
    if (!verifier) return verifier.error();
    a.key = (*verifier)->key();
    if (auto ok = (*verifier)->verify(*jws); !ok) return from_jws_error(ok.error());
  }
  // Last, so a request that fails any other check does not burn the client's nonce.
  if (!nonces.consume(jws->header.nonce))
    return problem{"badNonce", 400, "JWS nonce is unknown, expired or already used"};
  a.jws = std::move(jws).value();
  return a;
}

http::response acme_server::impl::directory(const request& r) {
  http::json_writer w;
  w.begin_object()
      .field("newNonce", url(r, "new-nonce"))
      .field("newAccount", url(r, "new-account"))
      .field("newOrder", url(r, "new-order"))
      .field("revokeCert", url(r, "revoke-cert"))
      .field("keyChange", url(r, "key-change"))
      .field("renewalInfo", url(r, "renewal-info"));
  w.key("meta").begin_object();
  if (!opt.terms_of_service.empty()) w.field("termsOfService", opt.terms_of_service);
  if (!opt.website.empty()) w.field("website", opt.website);
  w.key("caaIdentities").begin_array();
  for (const auto& c : opt.caa_identities) w.string(c);
  w.end_array().field("externalAccountRequired", settings(r).eab_required);
  w.key("profiles").begin_object();
  if (!r.profile_id.empty()) {
    std::string description = "certctl certificate profile " + r.profile_id;
    if (deps.profile)
      if (auto p = deps.profile(r.profile_id); p && !p->str("description").empty())
        description = p->str("description");
    w.field(r.profile_id, description);
  }
  w.end_object().end_object().end_object();
  return json(w.str());
}

http::response acme_server::impl::new_nonce(const request& r) {
  http::response resp;
  // RFC 8555 §7.2: 200 for HEAD, 204 for GET; the nonce itself is added by the wrapper.
  resp.status = r.c.method() == "HEAD" ? 200 : 204;
  resp.content_type.clear();
  return resp;
}

void acme_server::add_routes(http::router& router) {
  using handler_fn = http::response (impl::*)(const request&);
  struct route {
    const char* method;
    const char* tail;
    handler_fn fn;
  };
  static const route routes[] = {
      {"GET", "directory", &impl::directory},
      {"GET", "new-nonce", &impl::new_nonce},
      {"POST", "new-account", &impl::new_account},
      {"POST", "account/{id}", &impl::account},
      {"POST", "new-order", &impl::new_order},
      {"POST", "order/{id}", &impl::order},
      {"POST", "order/{id}/finalize", &impl::finalize},
      {"POST", "authz/{id}", &impl::authz},
      {"POST", "challenge/{id}", &impl::challenge},
      {"POST", "cert/{id}", &impl::certificate},
      {"POST", "revoke-cert", &impl::revoke},
      {"POST", "key-change", &impl::key_change},
      {"GET", "renewal-info/{id}", &impl::renewal_info},
  };
  impl* self = impl_.get();
  router.add("POST", "/api/v1/admin/acme/eab-keys", http::role::admin,
             [self](http::request_context& c) { return self->create_eab_key(c); });
  for (const auto& rt : routes) {
    for (const bool per_profile : {false, true}) {
      const std::string pattern =
          std::string(per_profile ? "/acme/profile/{profile}/" : "/acme/") + rt.tail;
      const handler_fn fn = rt.fn;
      router.add(rt.method, pattern, http::role::none,
                 [self, fn, per_profile](http::request_context& c) {
                   request r{c, "/acme", self->opt.default_profile_id, std::nullopt};
                   http::response resp;
                   if (per_profile) {
                     r.profile_id = c.path_param("profile");
                     r.prefix = "/acme/profile/" + r.profile_id;
                     if (self->deps.profile) r.profile = self->deps.profile(r.profile_id);
                   }
                   if (per_profile && self->deps.profile && !r.profile)
                     resp = render(not_found_problem("no certificate profile " + r.profile_id));
                   else
                     resp = (self->*fn)(r);
                   // Every answer carries a fresh nonce (badNonce included) and the index.
                   resp.with_header("Replay-Nonce", self->nonces.issue());
                   resp.with_header("Link", "<" + self->url(r, "directory") + ">;rel=\"index\"");
                   return resp;
                 });
    }
  }
}

}  // namespace certctl::gateways::acme
