#include "connectors/issuers/vault/vault_token.hpp"

#include <chrono>
#include <iostream>

namespace certctl::connectors::vault {
namespace {

issuer_error fail(issuer_errc code, std::string message) {
  return issuer_error{code, std::move(message)};
}

/// A token state from an "auth" object (login, renew-self) or a "data" one (lookup-self).
token_state state_of(const events::json_object& doc) {
  token_state s;
  if (doc.is_object("auth")) {
    auto auth = events::json_object::parse(doc.raw("auth")).value_or(events::json_object{});
    s.ttl_seconds = auth.int64("lease_duration");
    s.renewable = auth.boolean("renewable");
  } else if (doc.is_object("data")) {
    auto data = events::json_object::parse(doc.raw("data")).value_or(events::json_object{});
    s.ttl_seconds = data.int64("ttl");
    s.renewable = data.boolean("renewable");
  }
  return s;
}

}  // namespace

std::string vault_errors(const external_ca::http_reply& reply) {
  std::string out;
  for (const auto& e : reply.json.str_array("errors")) out += (out.empty() ? "" : "; ") + e;
  if (out.empty()) out = reply.body.empty() ? "no error text" : reply.body;
  return external_ca::excerpt(out);
}

token_source::token_source(const external_ca::https_client& client, token_config config,
                           observer on_renewal, std::string who)
    : client_(client),
      config_(std::move(config)),
      on_renewal_(std::move(on_renewal)),
      who_(std::move(who)),
      current_(config_.token) {}

token_source::~token_source() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (loop_.joinable()) loop_.join();
}

std::vector<std::pair<std::string, std::string>> token_source::headers(
    const std::string& token) const {
  std::vector<std::pair<std::string, std::string>> h;
  if (!token.empty()) h.emplace_back("X-Vault-Token", token);
  if (!config_.vault_namespace.empty())
    h.emplace_back("X-Vault-Namespace", config_.vault_namespace);
  return h;
}

certctl::result<std::string, issuer_error> token_source::login_locked() {
  events::json_object body;
  body.set("role_id", config_.role_id).set("secret_id", config_.secret_id);
  auto r = client_.call("POST", "/v1/auth/" + config_.approle_mount + "/login", body.dump(),
                        headers({}));
  if (!r) return r.error();
  if (r->status != 200)
    return fail(issuer_errc::unavailable, who_ + ": AppRole login answered " +
                                              std::to_string(r->status) + ": " + vault_errors(*r));
  auto auth = events::json_object::parse(r->json.raw("auth")).value_or(events::json_object{});
  const std::string token = auth.str("client_token");
  if (token.empty()) return fail(issuer_errc::unavailable, who_ + ": AppRole login gave no token");
  current_ = token;
  state_ = state_of(r->json);
  return token;
}

certctl::result<std::string, issuer_error> token_source::token() {
  std::lock_guard<std::mutex> lock(mu_);
  if (current_.empty()) {
    if (config_.role_id.empty())
      return fail(issuer_errc::invalid_request, who_ + ": no token configured");
    auto t = login_locked();
    if (!t) return t;
  }
  start_loop_locked();
  return current_;
}

certctl::result<std::string, issuer_error> token_source::after_denied(const issuer_error& denied) {
  std::lock_guard<std::mutex> lock(mu_);
  if (config_.role_id.empty()) return denied;
  return login_locked();
}

certctl::result<token_state, issuer_error> token_source::lookup() {
  auto t = token();
  if (!t) return t.error();
  auto r = client_.call("GET", "/v1/auth/token/lookup-self", {}, headers(*t));
  if (!r) return r.error();
  if (r->status != 200)
    return fail(issuer_errc::unavailable, who_ + ": token lookup answered " +
                                              std::to_string(r->status) + ": " + vault_errors(*r));
  return state_of(r->json);
}

certctl::result<token_state, issuer_error> token_source::renew_once() {
  std::string token;
  {
    std::lock_guard<std::mutex> lock(mu_);
    token = current_;
  }
  auto report = [this](const char* result) {
    if (on_renewal_) on_renewal_(result);
  };
  auto r = client_.call("POST", "/v1/auth/token/renew-self", "{}", headers(token));
  if (!r) {
    report("failure");
    return r.error();
  }
  if (r->status != 200) {
    report("failure");
    return fail(issuer_errc::unavailable, who_ + ": token renew-self answered " +
                                              std::to_string(r->status) + ": " + vault_errors(*r));
  }
  auto s = state_of(r->json);
  report(s.renewable ? "success" : "not_renewable");
  std::lock_guard<std::mutex> lock(mu_);
  state_ = s;
  return s;
}

void token_source::start_loop_locked() {
  if (!config_.renew || loop_.joinable() || stopping_) return;
  loop_ = std::thread([this] { loop(); });
}

void token_source::loop() {
  // The cadence comes from one lookup-self (token auth) or the login's lease (AppRole).
  token_state s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = state_;
  }
  if (s.ttl_seconds == 0) {
    if (auto l = lookup()) s = *l;
  }
  if (s.ttl_seconds == 0 && config_.role_id.empty()) return;  // a root token never expires
  for (;;) {
    auto wait = std::chrono::seconds(std::max<std::int64_t>(1, s.ttl_seconds / 2));
    std::unique_lock<std::mutex> lock(mu_);
    if (wake_.wait_for(lock, wait, [this] { return stopping_; })) return;
    lock.unlock();
    if (!s.renewable) {
      if (config_.role_id.empty()) {
        std::cerr << who_ << ": WARN Vault token is not renewable; rotate it before it expires\n";
        if (on_renewal_) on_renewal_("not_renewable");
        return;
      }
      std::lock_guard<std::mutex> relog(mu_);
      if (login_locked()) s = state_;
      continue;
    }
    auto r = renew_once();
    if (r) {
      s = *r;
      if (!s.renewable && config_.role_id.empty()) {
        std::cerr << who_ << ": WARN Vault token reached its max TTL; rotate it\n";
        return;
      }
    } else {
      std::cerr << who_ << ": token renewal failed: " << r.error().message << "\n";
      s.ttl_seconds = std::min<std::int64_t>(std::max<std::int64_t>(s.ttl_seconds, 2), 120);
    }
  }
}

}  // namespace certctl::connectors::vault
