#pragma once
/// PRIVATE to gateways/scep: the server's state shared by its .cpp files.

#include <map>
#include <mutex>
#include <string>

#include "gateways/scep/scep_server.hpp"
#include "infra/crypto/scep_message.hpp"

namespace certctl::gateways::scep {

/// Where an accepted PKCSReq or RenewalReq went: its certificate and job.
struct transaction_target {
  std::string certificate_id;
  std::string job_id;
  bool renewal = false;
  /// Renewals: the SubjectPublicKeyInfo of the certificate the request was signed with. A poll
  /// or resend must be signed with the same key (RFC 8894 §3.3.3); for a PKCSReq that key is
  /// the issued certificate's own.
  crypto::bytes signer_spki;
};

struct profile_state {
  scep_profile p;
  scep_counters counters;
};

struct scep_server::impl {
  scep_dependencies deps;
  std::map<std::string, std::unique_ptr<profile_state>> profiles;  ///< by path_id
  std::mutex mu;                                                   ///< counters, renewals
  /// Renewal transactions by (path_id, transactionID), so GetCertInitial finds a pending one
  /// (PKCSReq targets are derived from the transaction id and need no table).
  std::map<std::string, transaction_target> renewals;

  explicit impl(scep_dependencies d) : deps(std::move(d)) {}

  void log(const std::string& line) const;
  std::int64_t now() const { return deps.now_unix(); }

  http::response dispatch(const http::request_context& c, profile_state& ps, bool mtls);
  http::response pki_operation(const http::request_context& c, profile_state& ps,
                               const crypto::bytes& message, bool mtls);

  /// A signed CertRep for `m`; a failure to build one is HTTP 500.
  http::response reply(profile_state& ps, const crypto::scep_pki_message& m,
                       crypto::scep_status status, crypto::scep_fail_info fail,
                       const std::string& issued_leaf_pem = "");
  http::response fail(profile_state& ps, const crypto::scep_pki_message& m,
                      crypto::scep_fail_info f, const std::string& why);
  /// job.submit_csr, the hand-off to the issuance workers, a bounded wait, then answer().
  http::response submit_and_answer(const http::request_context& c, profile_state& ps,
                                   const crypto::scep_pki_message& m, const transaction_target& t,
                                   const events::json_object& certificate,
                                   const std::string& csr_pem, const std::string& principal);
  /// SUCCESS once the target's job recorded a version, FAILURE when it failed, else PENDING.
  http::response answer(profile_state& ps, const crypto::scep_pki_message& m,
                        const transaction_target& t);
};

/// "text/plain" HTTP error (SCEP has no JSON error bodies).
http::response plain_error(int status, const std::string& message);

}  // namespace certctl::gateways::scep
