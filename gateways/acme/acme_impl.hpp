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

#include "gateways/acme/acme_server.hpp"
#include "gateways/acme/nonce_store.hpp"
#include "gateways/acme/problem.hpp"
#include "gateways/rest/json.hpp"
#include "infra/crypto/jws.hpp"

namespace certctl::gateways::acme {

template <class T>
using acme_result = certctl::result<T, problem>;

/// One ACME request after routing.
struct request {
  rest::request_context& c;
  std::string prefix;      ///< "/acme" or "/acme/profile/<id>"
  std::string profile_id;  ///< "" = none
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

/// An http-01 validation waiting for the worker.
struct validation_job {
  std::string authz_id;
  std::string identifier;  ///< the Host header (RFC 8555 §8.3), whatever address we connect to
  std::string host;
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

  std::mutex rate_mu;
  std::map<std::string, std::deque<std::chrono::steady_clock::time_point>> recent_orders;

  std::mutex validation_mu;
  std::condition_variable validation_cv;
  std::deque<validation_job> validations;
  bool stopping = false;
  std::thread validator;

  // --- shared helpers (acme_server.cpp)
  std::string url(const request& r, const std::string& tail) const;
  acme_result<authenticated> authenticate(const request& r, key_rule rule);
  actors::command_result exec(const std::string& kind, const std::string& name,
                              const std::string& id, events::json_object body, const request& r,
                              const std::string& principal, const std::string& command_id = {});
  /// Reads an entity (a no-op command); the problem when it does not exist.
  acme_result<events::json_object> get(const std::string& kind, const std::string& id,
                                       const request& r);
  /// The payload as a JSON object ("{}" for POST-as-GET).
  acme_result<rapidjson::Document> payload(const authenticated& a) const;
  /// The account a key identifies: the one that claimed it by key-change, else the one
  /// registered with it (which may not exist, or may since have replaced the key).
  acme_result<std::string> account_of_key(const crypto::jwk& key, const request& r);
  std::optional<problem> check_rate(const std::string& account_id);
  static problem from_domain(const domain::domain_error& e);
  static rest::response json(std::string body, int status = 200);

  // --- handlers
  rest::response directory(const request& r);
  rest::response new_nonce(const request& r);
  rest::response new_account(const request& r);
  rest::response account(const request& r);
  rest::response key_change(const request& r);
  /// Admin API: a new EAB key {key_id, hmac_key}; the HMAC key is shown this once.
  rest::response create_eab_key(rest::request_context& c);
  /// Checks new-account's externalAccountBinding (RFC 8555 §7.3.4) for `a`'s key and binds
  /// its key id to `account_id` (one account per key id).
  std::optional<problem> bind_eab(const request& r, const authenticated& a,
                                  const rapidjson::Value& eab, const std::string& account_id);
  rest::response new_order(const request& r);
  rest::response order(const request& r);
  rest::response authz(const request& r);
  rest::response challenge(const request& r);
  rest::response finalize(const request& r);
  rest::response certificate(const request& r);
  rest::response revoke(const request& r);
  /// GET renewal-info/{base64url(AKI).base64url(serial)} (RFC 9773, acme_renewal_info.cpp).
  rest::response renewal_info(const request& r);

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
