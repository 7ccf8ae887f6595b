#pragma once
/// PRIVATE to gateways/est: the server's state shared by est_server.cpp (routes, auth, trust,
/// admin view) and est_enroll.cpp (the issuance path).

#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gateways/est/est_server.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/trust_bundle.hpp"

namespace certctl::gateways::est {

/// The counters GET /api/v1/admin/est/profiles reports, in its label order.
enum class counter : std::size_t {
  success_simpleenroll,
  success_simplereenroll,
  success_serverkeygen,
  auth_failed_basic,
  auth_failed_mtls,
  auth_failed_channel_binding,
  csr_invalid,
  csr_policy_violation,
  csr_signature_mismatch,
  rate_limited,
  issuer_error,
  internal_error,
  count_
};
inline constexpr std::size_t counter_count = static_cast<std::size_t>(counter::count_);
const char* to_string(counter c);

enum class operation { simpleenroll, simplereenroll, serverkeygen };

/// One configured profile and what it holds at run time.
struct profile_state {
  infra::est_profile_config config;
  std::array<std::atomic<std::int64_t>, counter_count> counters{};

  mutable std::mutex mu;                              ///< guards the fields below
  std::shared_ptr<const crypto::trust_bundle> trust;  ///< mTLS client CAs (mTLS profiles)
  std::int64_t trust_loaded_at = 0;
  std::string last_reload_error;
  std::map<std::string, std::deque<std::int64_t>> enrollments;  ///< rate limit: key -> times

  void count(counter c) { counters[static_cast<std::size_t>(c)].fetch_add(1); }
  std::shared_ptr<const crypto::trust_bundle> trust_bundle() const {
    std::lock_guard<std::mutex> lock(mu);
    return trust;
  }
};

/// An EST error: the HTTP status, the text the client sees and the counter it bumps.
struct est_error {
  int status = 400;
  std::string message;
  std::optional<counter> counted;
};

/// One request as the handlers see it.
struct est_request {
  http::request_context& c;
  profile_state& p;
  bool mtls_route = false;
  std::string principal;  ///< "est:<path id>:<how it authenticated>"
  /// The verified TLS client certificate's chain (DER, leaf first); empty when none.
  std::vector<crypto::bytes> client_chain;
};

struct est_server::impl {
  est_options opt;
  est_dependencies deps;
  std::vector<std::unique_ptr<profile_state>> profiles;

  std::int64_t now() const;
  void log(const std::string& line) const;

  // est_server.cpp
  http::response cacerts(http::request_context& c, profile_state& p);
  http::response csrattrs(http::request_context& c, profile_state& p);
  http::response enroll(http::request_context& c, profile_state& p, bool mtls_route, operation op);
  std::optional<est_error> authenticate(est_request& r, operation op);
  std::optional<est_error> check_rate(profile_state& p, const std::string& cn,
                                      const std::string& source);
  http::response render(const est_error& e, profile_state& p, const http::request_context& c);

  // est_enroll.cpp: the decoded CSR through issuance; the response on success.
  certctl::result<http::response, est_error> issue(est_request& r, operation op,
                                                   const crypto::bytes& csr_der,
                                                   const crypto::csr_info& csr);
};

}  // namespace certctl::gateways::est
