#pragma once
/// PRIVATE to gateways/acme: the server's state and the handlers, split over acme_server.cpp
/// (routing, directory, nonces, JWS authentication), acme_accounts.cpp, acme_orders.cpp
/// (orders, authorizations, challenges, finalize), acme_certs.cpp (download, revocation) and
/// acme_renewal_info.cpp (ARI).

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "gateways/acme/acme_server.hpp"
#include "gateways/acme/nonce_store.hpp"
#include "gateways/acme/problem.hpp"
#include "gateways/http/json.hpp"
#include "infra/crypto/jws.hpp"

namespace certctl::gateways::acme {

template <class T>
using acme_result = certctl::result<T, problem>;

/// One ACME request after routing.
struct request {
  http::request_context& c;
  std::string prefix;      ///< "/acme" or "/acme/profile/<id>"
  std::string profile_id;  ///< "" = none
  /// The profile's definition when the router already looked it up (per-profile routes).
  std::optional<events::json_object> profile;
};

/// The ACME settings in force for one request: the server-wide options, overridden by the
/// profile's acme_auth_mode / acme_eab_required when it sets them.
struct profile_settings {
  std::string auth_mode;
  bool eab_required = false;
  bool challenge() const { return auth_mode == "challenge"; }
};

/// A request whose JWS verified and whose nonce was fresh.
struct authenticated {
  crypto::parsed_jws jws;
  crypto::jwk key;
  std::string account_id;       ///< set for kid requests
  events::json_object account;  ///< the account's view (kid requests)
  std::string principal() const { return "acme:" + account_id; }
};

enum class key_rule { jwk, kid, either };

/// One command of a batch sent with exec_all.
struct batch_command {
  std::string kind;
  std::string name;
  std::string id;
  events::json_object body;
  std::string command_id = {};
};

/// Commands sent together with begin_all, each answered by the runtime; wait() returns their
/// results in the order they were given.
struct command_batch {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<actors::command_result>> out;
  size_t left = 0;
  std::vector<actors::command_result> wait();
};

/// A challenge validation waiting for a worker.
struct validation_job {
  std::string authz_id;
  std::string type;        ///< http-01 | dns-01 | tls-alpn-01
  std::string identifier;  ///< the Host header / SNI / DNS name, whatever address we connect to
  std::string token;
  std::string key_authorization;
  std::string account_id;
  std::string correlation_id;
};

struct acme_server::impl {
  impl(acme_options o, acme_dependencies d);
  ~impl();

  acme_options opt;
  acme_dependencies deps;
  nonce_store nonces;

  /// Account keys as loaded verifiers, by the stored JWK text (RFC 7638 canonical JSON). Only
  /// the parsing is cached: every kid request still takes the account's current view
  /// (read_account), so deactivation and key-change apply at once, and a key's text maps to
  /// one verifier for good.
  std::mutex verifier_mu;
  std::unordered_map<std::string, std::shared_ptr<const crypto::jws_verifier>> verifiers;
  static constexpr size_t max_verifiers = 10000;
  acme_result<std::shared_ptr<const crypto::jws_verifier>> verifier_of(const std::string& jwk_json);

  /// Account views by id (opt.cache_accounts) with the entity version they were read at and
  /// when; a view only replaces one of the same or an older version.
  struct cached_account {
    std::int64_t version = 0;
    std::chrono::steady_clock::time_point read_at;
    events::json_object view;
  };
  std::mutex account_mu;
  std::unordered_map<std::string, cached_account> accounts;
  static constexpr size_t max_accounts = 10000;
  /// The account's current view: from memory when fresh, else from its entity.
  actors::command_result read_account(const std::string& account_id);
  void remember_account(const std::string& account_id, std::int64_t version,
                        const events::json_object& view);
  void forget_account(const std::string& account_id);

  std::mutex rate_mu;
  std::map<std::string, std::deque<std::chrono::steady_clock::time_point>> recent_orders;

  /// Orders per account that may still count as pending (id -> expiry); see check_pending.
  std::mutex pending_mu;
  std::map<std::string, std::map<std::string, std::chrono::steady_clock::time_point>>
      pending_orders;

  std::mutex validation_mu;
  std::condition_variable validation_cv;
  std::deque<validation_job> validations;
  bool stopping = false;
  std::vector<std::thread> validators;

  // --- shared helpers (acme_server.cpp)
  std::string url(const request& r, const std::string& tail) const;
  acme_result<authenticated> authenticate(const request& r, key_rule rule);
  actors::command_result exec(const std::string& kind, const std::string& name,
                              const std::string& id, events::json_object body, const request& r,
                              const std::string& principal, const std::string& command_id = {});
  /// Sends commands that do not depend on each other at once and waits for all of them, so
  /// they share group commits instead of each waiting out its own; results in `cmds` order.
  std::vector<actors::command_result> exec_all(std::vector<batch_command> cmds, const request& r,
                                               const std::string& principal);
  /// exec_all without the wait: the caller does other blocking work (another command) while
  /// these are in flight, then waits, so all of them share a group commit.
  std::shared_ptr<command_batch> begin_all(std::vector<batch_command> cmds, const request& r,
                                           const std::string& principal);
  /// Sends a command without waiting for its outcome: only for steps whose outcome a later
  /// request derives again anyway (an order turning valid once its certificate is issued).
  void submit(const std::string& kind, const std::string& name, const std::string& id,
              events::json_object body, const request& r, const std::string& principal);
  /// Reads an entity (a no-op command); the problem when it does not exist.
  acme_result<events::json_object> get(const std::string& kind, const std::string& id,
                                       const request& r);
  /// The payload as a JSON object ("{}" for POST-as-GET).
  acme_result<rapidjson::Document> payload(const authenticated& a) const;
  /// The account a key identifies: the one that claimed it by key-change, else the one
  /// registered with it (which may not exist, or may since have replaced the key).
  acme_result<std::string> account_of_key(const crypto::jwk& key, const request& r);
  std::optional<problem> check_rate(const std::string& account_id);
  profile_settings settings(const request& r) const;
  /// Reserves a pending-order slot for `order_id` (acme_pending.cpp); rateLimited when the
  /// account already has pending_orders_max orders that are not yet valid or invalid.
  std::optional<problem> reserve_pending(const request& r, const std::string& account_id,
                                         const std::string& order_id,
                                         std::chrono::steady_clock::time_point expires);
  void release_pending(const std::string& account_id, const std::string& order_id);
  /// Drops an order from the pending count once it is valid or invalid.
  void note_order_status(const events::json_object& order);
  static problem from_domain(const domain::domain_error& e);
  static http::response json(std::string body, int status = 200);

  // --- handlers
  http::response directory(const request& r);
  http::response new_nonce(const request& r);
  http::response new_account(const request& r);
  http::response account(const request& r);
  http::response key_change(const request& r);
  /// Admin API: a new EAB key {key_id, hmac_key}; the HMAC key is shown this once.
  http::response create_eab_key(http::request_context& c);
  /// Checks new-account's externalAccountBinding (RFC 8555 §7.3.4) for `a`'s key and binds
  /// its key id to `account_id` (one account per key id).
  std::optional<problem> bind_eab(const request& r, const authenticated& a,
                                  const rapidjson::Value& eab, const std::string& account_id);
  http::response new_order(const request& r);
  http::response order(const request& r);
  http::response authz(const request& r);
  http::response challenge(const request& r);
  http::response finalize(const request& r);
  http::response certificate(const request& r);
  http::response revoke(const request& r);
  /// GET renewal-info/{base64url(AKI).base64url(serial)} (RFC 9773, acme_renewal_info.cpp).
  http::response renewal_info(const request& r);

  // --- rendering and order progress (acme_orders.cpp)
  std::string account_json(const request& r, const events::json_object& v) const;
  std::string order_json(const request& r, const events::json_object& v) const;
  std::string authz_json(const request& r, const events::json_object& v) const;
  std::string challenge_json(const request& r, const events::json_object& authz,
                             const std::string& type) const;
  /// Moves an order along from what its authorizations and certificate say now.
  events::json_object reconcile(const request& r, events::json_object order,
                                const std::string& principal);
  void validate_loop();
  void run_validation(const validation_job& job);
};

/// "acct-<32 hex>": the account id of a key, from its thumbprint.
std::string account_id_of(const crypto::jwk& key);

}  // namespace certctl::gateways::acme
