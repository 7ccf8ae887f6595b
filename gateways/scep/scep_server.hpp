#pragma once
/// The SCEP server gateway (RFC 8894): one endpoint per profile at /scep/<path_id> (the legacy
/// profile at /scep), GET and POST. GetCACaps, GetCACert (RA + CA as a certs-only PKCS#7),
/// GetNextCACert (when the profile names a rollover CA), and PKIOperation with PKCSReq,
/// RenewalReq and GetCertInitial. Enrollments go through the ordinary issuance path (a certctl
/// certificate with source "SCEP", a job awaiting the CSR, the issuance workers), so profiles,
/// policy, audit and inventory apply as for REST. Wire errors: HTTP 400 for a message that
/// cannot be read at all, otherwise a CertRep signed by the RA carrying failInfo.
///
///   PKCSReq ──challenge ok──> certificate.create ─> job ─> issuance ─┬─> CertRep SUCCESS
///           (static or Intune)                                       └─> PENDING (slow CA)
///   GetCertInitial(transactionID) ─> SUCCESS | PENDING | FAILURE
///   RenewalReq (signed by a certificate this CA issued) ─> certificate.renew ─> ... SUCCESS

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/issuance_service.hpp"
#include "gateways/http/router.hpp"
#include "gateways/scep/intune.hpp"
#include "infra/scep_config.hpp"

namespace certctl::gateways::scep {

/// One configured profile with its resolved material.
struct scep_profile {
  infra::scep_profile_config config;
  std::string ra_cert_pem;  ///< signs replies, decrypts requests
  std::string ra_key_pem;
  bool ra_generated = false;      ///< issued by the server at start (key in the key store)
  std::string ca_chain_pem;       ///< the issuer's chain, issuing CA first
  std::string next_ca_chain_pem;  ///< rollover CA (GetNextCACert); "" = none
  /// mTLS sibling route: CAs whose client certificates it accepts ("" = no such route).
  std::string mtls_trust_pem;
  /// Set when Intune dynamic challenges are enabled on the profile.
  std::shared_ptr<intune_validator> intune;
};

/// The latest issued version of a certctl certificate.
struct issued_version {
  std::string pem_chain;  ///< leaf first
  std::string serial_number;
  std::string job_id;
};

struct scep_dependencies {
  actors::entity_runtime& runtime;
  /// Queues a CSR issuance; `on_finished` runs once the attempt is over, whatever its outcome.
  std::function<void(actors::issuance_task, std::function<void()>)> issue;
  /// Latest issued version of a certificate (from the log); nullopt when none yet.
  std::function<std::optional<issued_version>(const std::string& certificate_id)> issued;
  /// certctl certificate id of an issued serial (upper-case hex); nullopt when unknown.
  std::function<std::optional<std::string>(const std::string& serial_hex)> certificate_by_serial;
  /// Seconds since the epoch (injected for tests).
  std::function<std::int64_t()> now_unix;
  /// The server log, for what a failInfo hides from the client. Null: standard error.
  std::function<void(const std::string&)> log = nullptr;
};

/// Per-profile counters (GET /api/v1/admin/scep/profiles).
struct scep_counters {
  std::uint64_t success = 0;
  std::uint64_t pending = 0;
  std::uint64_t failure = 0;
  std::uint64_t bad_challenge = 0;
  std::uint64_t renewals = 0;
};

class scep_server {
 public:
  scep_server(std::vector<scep_profile> profiles, scep_dependencies deps);
  ~scep_server();
  scep_server(const scep_server&) = delete;
  scep_server& operator=(const scep_server&) = delete;

  /// Registers /scep or /scep/<path_id> per profile (public: SCEP authenticates by challenge
  /// or by the certificate a renewal is signed with) and, for mTLS profiles, /scep-mtls[/<id>]:
  /// there a PKIOperation needs a TLS client certificate that verifies against the profile's
  /// trust bundle (403 otherwise), and a PKCSReq needs no challenge password.
  void add_routes(http::router& r);

  /// Registers the admin routes: GET /api/v1/admin/scep/profiles, GET
  /// /api/v1/admin/scep/intune/stats, POST /api/v1/admin/scep/intune/reload-trust.
  void add_admin_routes(http::router& r);

  /// Reloads every Intune profile's trust anchors (SIGHUP); a bad file keeps the old pool.
  /// Returns one line per profile for the log.
  std::vector<std::string> reload_intune_trust();

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::gateways::scep
